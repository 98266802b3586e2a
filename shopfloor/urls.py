from django.urls import path

from shopfloor import views, views_board, views_quality, views_reports, views_terminal, views_travelers

urlpatterns = [
    path("", views.home, name="home"),
    path("board/", views_board.board, name="board"),
    path("terminal/", views_terminal.terminal_choose, name="terminal-choose"),
    path("terminal/<int:machine_id>/", views_terminal.terminal, name="terminal"),
    path("terminal/<int:machine_id>/scan/", views_terminal.terminal_scan, name="terminal-scan"),
    path("terminal/<int:machine_id>/operations/<int:operation_id>/<slug:action>/", views_terminal.terminal_action,
         name="terminal-action"),
    path("jobs/<int:job_id>/traveler.pdf", views_travelers.job_traveler, name="job-traveler"),
    # Quality (inspection): the first-article queue, reports, gauges, nonconformances.
    path("quality/", views_quality.quality_queue, name="quality-queue"),
    path("quality/operations/<int:operation_id>/open/", views_quality.quality_open, name="quality-open"),
    path("quality/reports/<int:report_id>/", views_quality.quality_report, name="quality-report"),
    path("quality/reports/<int:report_id>/rows/<int:characteristic_id>/", views_quality.quality_row,
         name="quality-row"),
    path("quality/reports/<int:report_id>/<slug:action>/", views_quality.quality_report_action,
         name="quality-report-action"),
    path("quality/reports/<int:report_id>/forms.<str:kind>", views_quality.quality_report_document,
         name="quality-report-document"),
    path("quality/gauges/", views_quality.quality_gauges, name="quality-gauges"),
    path("quality/gauges/<int:gauge_id>/recall.csv", views_quality.quality_gauge_recall, name="quality-gauge-recall"),
    path("quality/gauges/<int:gauge_id>/calibrate/", views_quality.quality_gauge_calibrate,
         name="quality-gauge-calibrate"),
    path("quality/nonconformances/raise/", views_quality.quality_nc_raise, name="quality-nc-raise"),
    path("quality/nonconformances/", views_quality.quality_nonconformances, name="quality-nonconformances"),
    path("quality/nonconformances/<int:nc_id>/<slug:action>/", views_quality.quality_nc_action,
         name="quality-nc-action"),
    path("reports/", views_reports.reports_index, name="reports"),
    path("reports/weekly.pdf", views_reports.weekly_summary, name="report-weekly"),
    path("reports/export/<slug:table>.<str:fmt>", views_reports.report_export, name="report-export"),
    path("reports/<slug:page>/", views_reports.report, name="report"),
]
