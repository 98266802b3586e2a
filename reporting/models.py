VIEW_REPORTS = "jobs.view_reports"
