"""The report tables by name: the pages, their exports and the API find a table here."""

from reporting import builders, costs, runtime

# Each table by name; `form` gives the extra parameters (the part revision of the unit cost curve).
TABLES = {
    "utilization": lambda f, form: builders.utilization_report(f),
    "oee": lambda f, form: builders.oee_report(f),
    "delivery": lambda f, form: builders.delivery_report(f),
    "scrap-reason": lambda f, form: builders.scrap_report(f, by="reason"),
    "scrap-part": lambda f, form: builders.scrap_report(f, by="part"),
    "scrap-machine": lambda f, form: builders.scrap_report(f, by="machine"),
    "downtime-reason": lambda f, form: builders.downtime_report(f, by="reason"),
    "downtime-machine": lambda f, form: builders.downtime_report(f, by="machine"),
    "run-comparison": lambda f, form: runtime.run_comparison_report(f),
    "job-costs": lambda f, form: costs.job_cost_report(f),
    "unit-cost": lambda f, form: (costs.unit_cost_curve(part_revision_id=form.cleaned_data["part_revision"].pk)
                                  if form.cleaned_data.get("part_revision") else None),
}
