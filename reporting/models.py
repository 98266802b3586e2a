"""Reporting keeps no tables of its own: one model without a table holds the permission to see the reports."""

from django.db import models

VIEW_REPORTS = "reporting.view_reports"


class ReportAccess(models.Model):  # noqa: DJ008 (no rows to show)
    """The holder of `reporting.view_reports` (a permission needs a content type). No table, no rows."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_reports", "Can view shop reports")]
