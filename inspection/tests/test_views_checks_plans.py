"""The in-process / final check page and the inspection plan pages, as an inspector sees them."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from inspection.models import Characteristic, InspectionPlan, InspectionRecord, NonConformance
from inspection.services.plans import plan_import_csv
from jobs.choices import OperationStatus
from tests.factories import PartRevisionFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}

PLAN_CSV = """balloon,sheet,zone,designator,description,nominal,lower,upper,attribute_note,unit,method,gauge_type
1,1,B3,key,Bore,10,9.98,10.02,,mm,Caliper,CAL
2,1,C4,,Deburr,,,,No burrs,,Visual,
"""


# --- checks --------------------------------------------------------------------------------------

def test_the_checks_page_lists_operations_in_work_and_finds_any_operation(client, waiting, inspector):
    client.force_login(inspector)
    job = waiting.operation.job
    page = client.get(reverse("quality-checks"))
    assert f"Check {job.number} / 20" in page.text
    assert "In-process and final checks" in client.get(reverse("quality-queue")).text  # linked from quality
    found = client.get(reverse("quality-checks"), {"job": job.number.lower(), "operation": "10", "kind": "final"})
    assert found.status_code == 302
    assert found["Location"] == reverse("quality-check", args=[waiting.floor.turn.pk]) + "?kind=final"
    missing = client.get(reverse("quality-checks"), {"job": job.number, "operation": "99"})
    assert missing.status_code == 404 and "There is no operation 99" in missing.text


def test_the_check_form_shows_units_requirements_and_only_usable_gauges(client, waiting, inspector):
    client.force_login(inspector)
    Characteristic.objects.filter(pk=waiting.bore.pk).update(sampling="every_nth", sample_every=5)
    page = client.get(reverse("quality-check", args=[waiting.operation.pk]))
    assert page.status_code == 200
    assert "Value (mm)" in page.text and "9.98 – 10.02" in page.text and "No burrs" in page.text
    bore_row = page.text.split('data-balloon="1"')[1].split('data-balloon="2"')[0]
    assert "G-001" in bore_row and "G-002" not in bore_row and "Every 5th piece" in bore_row


def test_pass_or_fail_shows_as_a_value_is_typed_and_nothing_is_saved(client, waiting, inspector):
    client.force_login(inspector)
    url = reverse("quality-check-verdict", args=[waiting.operation.pk, waiting.bore.pk])
    key = f"value-{waiting.bore.pk}"
    assert ">Pass<" in client.post(url, {key: "10.02"}, **HTMX).text
    assert ">Fail<" in client.post(url, {key: "10.03"}, **HTMX).text
    assert ">Pass<" in client.post(url, {key: "0.3937 in"}, **HTMX).text
    assert "is not a number" in client.post(url, {key: "abc"}, **HTMX).text
    assert "measured in mm" in client.post(url, {key: "10 kg"}, **HTMX).text
    attribute = reverse("quality-check-verdict", args=[waiting.operation.pk, waiting.finish.pk])
    assert ">Fail<" in client.post(attribute, {f"accepted-{waiting.finish.pk}": "fail"}, **HTMX).text
    assert not InspectionRecord.objects.exists()


def test_recording_a_check_with_a_failing_reading(client, waiting, inspector):
    client.force_login(inspector)
    url = reverse("quality-check", args=[waiting.operation.pk])
    answer = client.post(url, {"kind": "in_process", "piece": "4", f"value-{waiting.bore.pk}": "10.04",
                               f"gauge-{waiting.bore.pk}": waiting.caliper.pk,
                               f"accepted-{waiting.finish.pk}": "pass"}, **HTMX)
    assert answer.status_code == 200
    record = InspectionRecord.objects.get()
    nc = NonConformance.objects.get()
    assert f"{record.label} recorded (in-process, piece 4)" in answer.text
    assert f"balloon 1 failed, {nc.number} raised" in answer.text
    assert answer.text.count(f'id="record-{record.pk}"') == 1  # in the list of this operation's checks
    assert record.readings.count() == 2  # the blank length row is not measured this time
    assert 'id="op-status" hx-swap-oob="true">On hold</span>' in answer.text  # the header follows
    waiting.operation.refresh_from_db()
    assert waiting.operation.status == OperationStatus.ON_HOLD


@pytest.mark.parametrize(("data", "status", "message"), [
    ({"value": "ten"}, 400, "Balloon 1, piece 4: “ten” is not a number."),
    ({"value": "10 kg"}, 400, "Balloon 1, piece 4: The value is in “kg”"),
    ({"value": "10", "gauge": ""}, 400, "Choose the Caliper you measured with."),
    ({"value": ""}, 400, "Enter at least one reading."),
])
def test_a_refused_check_keeps_what_was_typed_and_saves_nothing(client, waiting, inspector, data, status, message):
    client.force_login(inspector)
    post = {"kind": "in_process", "piece": "4", f"value-{waiting.bore.pk}": data["value"],
            f"gauge-{waiting.bore.pk}": data.get("gauge", waiting.caliper.pk)}
    answer = client.post(reverse("quality-check", args=[waiting.operation.pk]), post, **HTMX)
    assert answer.status_code == status
    assert message in answer.text
    assert f'value="{data["value"]}"' in answer.text and 'name="piece" value="4"' in answer.text
    assert not InspectionRecord.objects.exists() and not NonConformance.objects.exists()


def test_an_operator_cannot_record_a_check(client, waiting, operator):
    client.force_login(operator)
    answer = client.post(reverse("quality-check", args=[waiting.operation.pk]),
                         {"kind": "in_process", f"value-{waiting.bore.pk}": "10",
                          f"gauge-{waiting.bore.pk}": waiting.caliper.pk}, **HTMX)
    assert answer.status_code == 403 and "Your role does not allow this" in answer.text
    assert not InspectionRecord.objects.exists()


# --- plans ---------------------------------------------------------------------------------------

@pytest.fixture
def revision(waiting):
    return PartRevisionFactory(part=waiting.floor.shop.revision.part, revision="B", drawing_revision="B")


def upload(text: str, name: str = "balloons.csv"):
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def test_the_plan_page_of_a_revision_and_its_links(client, waiting, inspector, revision):
    client.force_login(inspector)
    part = waiting.floor.shop.revision.part
    plans = client.get(reverse("quality-plans"))
    assert f"Plan of {part.number} rev {waiting.floor.shop.revision.revision}" in plans.text
    assert f"Start the plan of {part.number} rev B" in plans.text
    page = client.get(reverse("quality-plan", args=[waiting.floor.shop.revision.pk]))
    assert "Bore" in page.text and "9.98 – 10.02" in page.text and "No burrs" in page.text
    assert "Copy this plan forward to" in page.text and "rev B (drawing rev B)" in page.text


def test_a_balloon_list_is_imported_from_a_file(client, inspector, revision):
    from inspection.models import GaugeType

    GaugeType.objects.get_or_create(code="CAL", defaults={"name": "Caliper"})
    client.force_login(inspector)
    answer = client.post(reverse("quality-plan-import", args=[revision.pk]), {"file": upload(PLAN_CSV)}, **HTMX)
    assert answer.status_code == 200
    assert "2 characteristics imported from balloons.csv." in answer.text
    assert 'data-balloon="1"' in answer.text and "No burrs" in answer.text
    assert revision.inspection_plan.characteristics.count() == 2


def test_a_bad_file_lists_every_bad_line_and_imports_nothing(client, inspector, revision):
    client.force_login(inspector)
    bad = PLAN_CSV + "1,1,B3,,Again,5,4,6,,mm,,\n3,1,B3,,Upside,10,10.1,9.9,,mm,,\n"  # lines 4 and 5
    answer = client.post(reverse("quality-plan-import", args=[revision.pk]), {"file": upload(bad)}, **HTMX)
    assert answer.status_code == 400
    assert "Nothing was imported: 2 lines refused." in answer.text
    assert "Line 4: balloon 1 appears twice." in answer.text
    assert "Line 5: balloon 3 has its limits upside down" in answer.text
    assert not InspectionPlan.objects.filter(part_revision=revision).exists()
    assert not Characteristic.objects.filter(plan__part_revision=revision).exists()

    for content, message in ((b"\xff\xfe\x00b", "not UTF-8"), (b"name,tolerance\nx,1\n", "The header must name"),
                             (b"balloon\n", "no balloon lines")):
        answer = client.post(reverse("quality-plan-import", args=[revision.pk]),
                             {"file": SimpleUploadedFile("x.csv", content)}, **HTMX)
        assert answer.status_code == 400 and message in answer.text
    assert client.post(reverse("quality-plan-import", args=[revision.pk]), {}, **HTMX).status_code == 400
    assert not InspectionPlan.objects.filter(part_revision=revision).exists()


def test_an_operator_cannot_import(client, operator, revision):
    client.force_login(operator)
    answer = client.post(reverse("quality-plan-import", args=[revision.pk]), {"file": upload(PLAN_CSV)}, **HTMX)
    assert answer.status_code == 403 and not InspectionPlan.objects.filter(part_revision=revision).exists()


def test_copy_forward_then_compare_shows_added_removed_and_changed(client, waiting, inspector, revision):
    client.force_login(inspector)
    old = waiting.floor.shop.revision
    copied = client.post(reverse("quality-plan-copy", args=[old.pk]), {"to_revision": revision.pk}, follow=True)
    assert copied.redirect_chain[-1][0] == reverse("quality-plan-compare", args=[revision.pk, old.pk])
    assert "0 added, 0 removed, 0 changed, 3 unchanged." in copied.text
    plan = revision.inspection_plan
    plan.characteristics.filter(balloon_number="1").update(upper_limit="10.03")
    plan.characteristics.filter(balloon_number="2").delete()
    plan_import_csv(part_revision_id=revision.pk, user=inspector,
                    text="balloon,description,attribute_note\n4,Part marking,Per MIL-STD-130\n")
    page = client.get(reverse("quality-plan-compare", args=[revision.pk, old.pk]))
    assert "1 added, 1 removed, 1 changed, 1 unchanged." in page.text
    added, removed, changed = (page.text.split(f'id="{name}"')[1] for name in ("added", "removed", "changed"))
    assert "Balloon 4" in added.split("</section>")[0] and "Per MIL-STD-130" in added.split("</section>")[0]
    assert "Balloon 2" in removed.split("</section>")[0]
    assert "<td>Upper limit</td><td>10.02</td><td>10.03</td>" in changed
    again = client.post(reverse("quality-plan-copy", args=[old.pk]), {"to_revision": revision.pk}, follow=True)
    assert "has an inspection plan already" in again.text
