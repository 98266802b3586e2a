"""Every write of the jobs app, one module per sub-domain: release, operations (the life of an operation),
history_import, first_articles, schedule (what a planner asks), schedule_execution (what the worker does)."""
