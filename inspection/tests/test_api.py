"""The inspection API: each verb its own POST endpoint, refusals in the one error format."""

import datetime as dt

import pytest
from django.utils import timezone

from conftest import PASSWORD
from inspection.choices import NCStatus, ReportStatus
from jobs.choices import OperationStatus

pytestmark = pytest.mark.django_db
BASE = "/api/v1"


def test_an_inspector_completes_a_first_article_through_the_api(api_as, waiting, inspector):
    api = api_as(inspector)
    opened = api.post(f"{BASE}/first-article-reports/open/", {"operation": waiting.operation.pk}, format="json")
    assert opened.status_code == 200, opened.json()
    report = opened.json()
    url = f"{BASE}/first-article-reports/{report['id']}"
    assert report["form_two_lines"][0]["certificate_number"] == "CERT-778"

    bad = api.post(f"{url}/results/", {"characteristic": waiting.bore.pk, "value": "ten",
                                        "gauge": waiting.caliper.pk}, format="json")
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "not_a_number"
    assert bad.json()["error"]["fields"] == {"value": ["“ten” is not a number."]}

    rows = [{"characteristic": waiting.bore.pk, "value": "0.394 in", "gauge": waiting.caliper.pk},
            {"characteristic": waiting.length.pk, "value": "50.1", "gauge": waiting.micrometer.pk},
            {"characteristic": waiting.finish.pk, "accepted": True}]
    for row in rows:
        answer = api.post(f"{url}/results/", row, format="json")
        assert answer.status_code == 201, answer.json()
        assert answer.json()["verdict"] == "pass"
    line = api.post(f"{url}/form-two-lines/", {"kind": "functional_test", "designation": "Thread gauge check",
                                              "specification": "ASME B1.1", "functional_test_procedure": "FT-7"},
                    format="json")
    assert line.status_code == 201
    assert api.post(f"{url}/submit/").json()["status"] == ReportStatus.SUBMITTED
    wrong = api.post(f"{url}/approve/", {"password": "nope"}, format="json")
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (403, "bad_signature")
    approved = api.post(f"{url}/approve/", {"password": PASSWORD, "note": "ok"}, format="json")
    assert approved.status_code == 200 and approved.json()["status"] == ReportStatus.APPROVED
    again = api.post(f"{url}/approve/", {"password": PASSWORD}, format="json")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_approved")
    waiting.operation.refresh_from_db()
    assert waiting.operation.production_gate_open


def test_an_operator_cannot_approve(api_as, waiting, inspector, operator):
    api = api_as(operator)
    answer = api.post(f"{BASE}/first-article-reports/open/", {"operation": waiting.operation.pk}, format="json")
    assert answer.status_code == 403


def test_characteristics_with_limits_upside_down_or_a_duplicate_balloon_are_refused(api_as, waiting, inspector):
    api = api_as(inspector)
    data = {"plan": waiting.plan.pk, "balloon_number": "9", "requirement_kind": "variable", "nominal": "10",
            "lower_limit": "10.1", "upper_limit": "9.9", "unit": "mm"}
    upside_down = api.post(f"{BASE}/characteristics/", data, format="json")
    assert upside_down.status_code == 400
    assert "lower limit" in upside_down.json()["error"]["message"]
    duplicate = api.post(f"{BASE}/characteristics/", data | {"balloon_number": "1", "lower_limit": "9.9",
                                                              "upper_limit": "10.1"}, format="json")
    assert duplicate.status_code == 400
    assert waiting.plan.characteristics.count() == 3


def test_gauge_calibration_and_recall_as_csv(api_as, waiting, inspector):
    api = api_as(inspector)
    today = timezone.localdate()
    url = f"{BASE}/gauges/{waiting.caliper.pk}"
    good = {"calibrated_on": (today - dt.timedelta(days=30)).isoformat(), "as_found_in_tolerance": True,
            "as_left_in_tolerance": True, "certificate_number": "C-1", "performed_by": "Cal Lab"}
    assert api.post(f"{url}/calibrate/", good, format="json").status_code == 201
    report = api.post(f"{BASE}/first-article-reports/open/", {"operation": waiting.operation.pk},
                      format="json").json()
    api.post(f"{BASE}/first-article-reports/{report['id']}/results/",
             {"characteristic": waiting.bore.pk, "value": "10.01", "gauge": waiting.caliper.pk}, format="json")
    bad = good | {"calibrated_on": today.isoformat(), "as_found_in_tolerance": False, "certificate_number": "C-2"}
    assert api.post(f"{url}/calibrate/", bad, format="json").status_code == 201
    assert len(api.get(f"{url}/recall/").json()) == 1
    export = api.get(f"{url}/recall/?export=csv")
    assert export["Content-Type"].startswith("text/csv")
    lines = export.content.decode().splitlines()
    assert lines[0].startswith("gauge,measured_at,job")
    assert report["fair_id"] in lines[1] and "10.01000" in lines[1]


def test_nonconformance_raise_disposition_close(api_as, floor, inspector, operator):
    from jobs.services.operations import operation_start_setup

    operation_start_setup(operation_id=floor.turn.pk, user=operator, machine_id=floor.shop.lathe.pk)
    api = api_as(inspector)
    raised = api.post(f"{BASE}/nonconformances/raise/", {"job": floor.shop.job.pk, "operation": floor.turn.pk,
                                                        "description": "Burr", "quantity": 1}, format="json")
    assert raised.status_code == 201, raised.json()
    nc = raised.json()
    floor.turn.refresh_from_db()
    assert floor.turn.status == OperationStatus.ON_HOLD
    early = api.post(f"{BASE}/nonconformances/{nc['id']}/close/", {}, format="json")
    assert early.status_code == 409
    done = api.post(f"{BASE}/nonconformances/{nc['id']}/disposition/", {"disposition": "rework"}, format="json")
    assert done.status_code == 200 and done.json()["dispositioned_by"] == inspector.pk
    closed = api.post(f"{BASE}/nonconformances/{nc['id']}/close/", {"root_cause": "Dull tool"}, format="json")
    assert closed.json()["status"] == NCStatus.CLOSED


def test_an_in_process_check_through_the_api(api_as, waiting, inspector, operator):
    api = api_as(operator)
    body = {"operation": waiting.operation.pk, "kind": "in_process",
            "readings": [{"characteristic": waiting.bore.pk, "piece": "3", "value": "10.03",
                          "gauge": waiting.caliper.pk},
                         {"characteristic": waiting.finish.pk, "piece": "3", "accepted": True}]}
    assert api.post(f"{BASE}/inspection-records/", body, format="json").status_code == 403
    api = api_as(inspector)
    bad = api.post(f"{BASE}/inspection-records/", body | {"readings": [
        {"characteristic": waiting.bore.pk, "value": "0.4 kg", "gauge": waiting.caliper.pk}]}, format="json")
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "wrong_unit")
    assert bad.json()["error"]["message"].startswith("Balloon 1: The value is in “kg”")
    empty = api.post(f"{BASE}/inspection-records/", body | {"readings": []}, format="json")
    assert empty.status_code == 400
    answer = api.post(f"{BASE}/inspection-records/", body, format="json")
    assert answer.status_code == 201, answer.json()
    record = answer.json()
    assert (record["kind"], record["accepted"], record["sample_size"], record["pieces"]) == (
        "in_process", False, 1, "3")
    bore = next(r for r in record["readings"] if r["balloon_number"] == "1")
    assert (bore["verdict"], bore["unit"]) == ("fail", "mm") and bore["nonconformance_number"].startswith("NC")
    listed = api.get(f"{BASE}/inspection-records/?operation={waiting.operation.pk}").json()
    assert [r["label"] for r in listed["results"]] == [record["label"]]
    waiting.operation.refresh_from_db()
    assert waiting.operation.status == OperationStatus.ON_HOLD


def test_the_recall_includes_in_process_readings(api_as, waiting, inspector):
    api = api_as(inspector)
    today = timezone.localdate()
    url = f"{BASE}/gauges/{waiting.caliper.pk}"
    api.post(f"{BASE}/inspection-records/", {"operation": waiting.operation.pk, "kind": "in_process", "readings": [
        {"characteristic": waiting.bore.pk, "piece": "4", "value": "10.01", "gauge": waiting.caliper.pk}]},
        format="json")
    api.post(f"{url}/calibrate/", {"calibrated_on": today.isoformat(), "as_found_in_tolerance": False,
                                   "as_left_in_tolerance": True, "certificate_number": "C-9",
                                   "performed_by": "Lab"}, format="json")
    entries = api.get(f"{url}/recall/").json()
    assert [(e["inspection"], e["job"], e["piece"]) for e in entries] == [
        ("In-process", waiting.operation.job.number, "4")]
    lines = api.get(f"{url}/recall/?export=csv").content.decode().splitlines()
    assert lines[0] == ("gauge,measured_at,job,operation,part,record,record_status,balloon,measured_value,unit,"
                        "verdict,measured_by,inspection,piece,nonconformance")
    assert "In-process" in lines[1] and "10.01000" in lines[1]
