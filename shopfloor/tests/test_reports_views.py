"""The report pages, their API and their exports show the same tables; only managers may see them."""

import csv
import datetime as dt
import io
import re
import subprocess
from html.parser import HTMLParser

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from jobs.choices import JobStatus, OperationStatus
from jobs.models import Job, OperationEvent
from reporting.tables import display
from reporting.tests.test_reports import history  # noqa: F401  (the hand-computed shop)
from reporting.tests.test_reports_machine_fed import connected  # noqa: F401  (the hand-computed connected day)

pytestmark = pytest.mark.django_db

MONDAY = "date_from=2026-06-01&date_to=2026-06-01"
PAGE_TABLES = {
    "utilization": ["utilization"],
    "oee": ["oee"],
    "delivery": ["delivery"],
    "paretos": ["scrap-reason", "scrap-part", "scrap-machine", "downtime-reason", "downtime-machine"],
    "costs": ["job-costs"],
}
API_OF_TABLE = {
    "utilization": "utilization/", "oee": "oee/", "delivery": "delivery/", "scrap-reason": "scrap/?by=reason",
    "scrap-part": "scrap/?by=part", "scrap-machine": "scrap/?by=machine", "downtime-reason": "downtime/?by=reason",
    "downtime-machine": "downtime/?by=machine", "job-costs": "job-costs/",
}


class TableParser(HTMLParser):
    """The cells of every <table id="table-..."> of a page."""

    def __init__(self):
        super().__init__()
        self.tables, self.current, self.row, self.cell = {}, None, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and (attrs.get("id") or "").startswith("table-"):
            self.current = self.tables.setdefault(attrs["id"][6:], [])
        elif tag == "tr" and self.current is not None:
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.row.append(self.cell.strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.current.append(self.row)
            self.row = None
        elif tag == "table":
            self.current = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


@pytest.fixture
def shop_day(history, operator):  # noqa: F811
    """The hand-computed day, with the job completed on Monday at noon (due in the future: on time)."""
    Job.objects.filter(pk=history.shop.job.pk).update(status=JobStatus.COMPLETE)
    OperationEvent.objects.create(
        operation=history.mill, action="complete", user=operator, from_status=OperationStatus.RUNNING,
        to_status=OperationStatus.DONE,
        at=timezone.make_aware(dt.datetime.combine(dt.date(2026, 6, 1), dt.time(12))),
    )
    return history


def page_tables(client, page: str, query: str = MONDAY) -> dict[str, list[list[str]]]:
    response = client.get(f"/reports/{page}/?{query}")
    assert response.status_code == 200
    parser = TableParser()
    parser.feed(response.content.decode())
    return parser.tables


def api_rows(api, table: str, query: str = MONDAY) -> tuple[list[str], list[list]]:
    path = API_OF_TABLE[table]
    response = api.get(f"/api/v1/reports/{path}{'&' if '?' in path else '?'}{query}")
    assert response.status_code == 200, response.content
    data = response.json()
    keys = [column["key"] for column in data["columns"]]
    return [column["label"] for column in data["columns"]], [[row[key] for key in keys] for row in data["rows"]]


def test_reports_need_the_view_reports_permission(client, api_as, make_user, manager):
    nobody = make_user(username="visitor")
    client.force_login(nobody)
    assert client.get("/reports/utilization/").status_code == 403
    assert client.get("/reports/export/oee.csv").status_code == 403
    assert client.get("/reports/weekly.pdf").status_code == 403
    assert 'href="/reports/"' not in client.get("/").content.decode()
    assert api_as(nobody).get("/api/v1/reports/utilization/").status_code == 403
    client.force_login(manager)
    assert client.get("/reports/utilization/").status_code == 200
    assert 'href="/reports/"' in client.get("/").content.decode()
    assert api_as(manager).get("/api/v1/reports/nonsense/").status_code == 404


def test_an_operator_does_not_see_the_reports(client, operator):
    client.force_login(operator)
    assert client.get("/reports/utilization/").status_code == 403


@pytest.mark.parametrize("page", list(PAGE_TABLES))
def test_each_api_report_matches_its_page_table(client, api_as, manager, shop_day, page):
    client.force_login(manager)
    api = api_as(manager)
    tables = page_tables(client, page)
    for name in PAGE_TABLES[page]:
        header, rows = api_rows(api, name)
        assert rows, f"{name} has no rows for the hand-computed day"
        if name not in tables:
            pytest.fail(f"{name} is not on the {page} page")
        assert tables[name][0] == header
        assert tables[name][1:] == [[display(value) for value in row] for row in rows]


def test_the_utilization_table_shows_the_hand_computed_figures(client, manager, history):  # noqa: F811
    client.force_login(manager)
    [header, row] = page_tables(client, "utilization", f"{MONDAY}&machine={history.shop.lathe.pk}")["utilization"]
    figures = dict(zip(header, row, strict=True))
    assert (figures["PBT h"], figures["APT h"], figures["Availability %"]) == ("17.0", "11.0", "64.7")


@pytest.mark.parametrize("table", list(API_OF_TABLE))
def test_exports_open_and_match_the_table(client, api_as, manager, shop_day, table):
    client.force_login(manager)
    header, rows = api_rows(api_as(manager), table)
    response = client.get(f"/reports/export/{table}.csv?{MONDAY}")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(response.content.decode())))
    assert lines[0] == header
    assert lines[1:] == [["" if value is None else str(value) for value in row] for row in rows]
    response = client.get(f"/reports/export/{table}.xlsx?{MONDAY}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert list(cells[0]) == header
    assert cells[1:] == [[None if value == "" else value for value in row] for row in rows]  # xlsx: no empty text


def test_the_unit_cost_curve_exports_for_a_part_revision(client, manager, small_shop):
    client.force_login(manager)
    query = f"part_revision={small_shop.revision.pk}"
    tables = page_tables(client, "unit-cost", query)
    assert list(tables) == ["unit-cost"]  # its own page, not under the job table
    assert [row[0] for row in tables["unit-cost"][1:]] == ["1", "2", "5", "10", "25", "50"]
    costs = client.get("/reports/costs/").content.decode()
    assert 'href="/reports/unit-cost/"' in costs and 'name="part_revision"' not in costs
    response = client.get(f"/reports/export/unit-cost.csv?{query}")
    assert [line[0] for line in csv.reader(io.StringIO(response.content.decode()))][1:] == [
        "1", "2", "5", "10", "25", "50"]


def test_the_filters_answer_htmx_with_the_report_body_only(client, manager, history):  # noqa: F811
    client.force_login(manager)
    response = client.get(f"/reports/utilization/?{MONDAY}&shift=second", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body and 'id="table-utilization"' in body and "shift second" in body
    bad = client.get("/reports/utilization/?date_from=2026-06-02&date_to=2026-06-01", HTTP_HX_REQUEST="true")
    assert bad.status_code == 200 and "The start date is after the end date." in bad.content.decode()


def test_no_published_schedule_is_said(client, manager, history):  # noqa: F811
    client.force_login(manager)
    response = client.get(f"/reports/delivery/?{MONDAY}")
    assert "No schedule is published" in response.content.decode()


def test_the_weekly_summary_is_a_one_page_pdf(client, manager, history, tmp_path):  # noqa: F811
    client.force_login(manager)
    response = client.get(f"/reports/weekly.pdf?{MONDAY}")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    (tmp_path / "weekly.pdf").write_bytes(response.content)
    info = subprocess.run(["pdfinfo", str(tmp_path / "weekly.pdf")], capture_output=True, text=True, check=True)
    assert re.search(r"^Pages:\s+1$", info.stdout, re.M), info.stdout
    text = subprocess.run(["pdftotext", str(tmp_path / "weekly.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Weekly summary" in text and "ALARM" in text and "DIM" in text


def test_the_shift_filter_holds_on_the_scrap_and_downtime_page_its_api_and_exports(client, api_as, manager,
                                                                                   shop_day):
    client.force_login(manager)
    api = api_as(manager)
    query = f"{MONDAY}&shift=second"
    tables = page_tables(client, "paretos", query)
    assert tables.get("scrap-reason") is None  # the scrapped pieces were reported in the first shift
    assert tables["downtime-reason"][1:] == [["ALARM", "1.0", "1", "50.0", "50.0"],
                                             ["BREAK", "1.0", "1", "50.0", "100.0"]]
    assert api_rows(api, "scrap-reason", query)[1] == []
    assert api_rows(api, "downtime-reason", query)[1] == [["ALARM", 1.0, 1, 50.0, 50.0],
                                                          ["BREAK", 1.0, 1, 50.0, 100.0]]
    lines = list(csv.reader(io.StringIO(client.get(f"/reports/export/downtime-machine.csv?{query}")
                                        .content.decode())))
    assert lines[1:] == [["LB3000", "2.0", "2", "100.0", "100.0"]]
    assert len(list(csv.reader(io.StringIO(client.get(f"/reports/export/scrap-part.csv?{query}")
                                           .content.decode())))) == 1  # the header only


def test_the_operator_vs_machine_tab_its_api_and_exports_show_the_same_rows(client, api_as, manager,
                                                                          connected):  # noqa: F811
    """The connected day of reporting/tests/test_reports_machine_fed.py: VF2 reported 7 h, measured 5 h."""
    client.force_login(manager)
    assert 'href="/reports/run-time/' in client.get(f"/reports/utilization/?{MONDAY}").content.decode()
    [header, *rows] = page_tables(client, "run-time")["run-comparison"]
    assert rows == [["VF2", "", "7.0", "5.0", "2.0", "28.6", "0.5"]]
    response = api_as(manager).get(f"/api/v1/reports/run-comparison/?{MONDAY}")
    assert response.status_code == 200
    data = response.json()
    assert [column["label"] for column in data["columns"]] == header
    assert [[display(row[column["key"]]) for column in data["columns"]] for row in data["rows"]] == rows
    lines = list(csv.reader(io.StringIO(client.get(f"/reports/export/run-comparison.csv?{MONDAY}").content.decode())))
    assert lines == [header, ["VF2", "", "7.0", "5.0", "2.0", "28.6", "0.5"]]
    sheet = load_workbook(io.BytesIO(client.get(f"/reports/export/run-comparison.xlsx?{MONDAY}").content)).active
    assert [list(row) for row in sheet.iter_rows(values_only=True)][1] == ["VF2", None, 7.0, 5.0, 2.0, 28.6, 0.5]


def test_the_utilization_page_says_where_each_machines_states_come_from(client, manager, connected):  # noqa: F811
    client.force_login(manager)
    response = client.get(f"/reports/utilization/?{MONDAY}")
    [header, *rows] = page_tables(client, "utilization")["utilization"]
    source = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert (source["VF2"]["Source"], source["VF2"]["Unknown (no data) h"]) == ("machine-fed", "0.5")
    assert source["LB3000"]["Source"] == "operator-reported"
    body = response.content.decode()
    assert "<dt>Unknown</dt>" in body and "PBT − unknown" in body and "<dt>Source</dt>" in body
