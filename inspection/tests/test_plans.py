"""Inspection plans: a balloon list imported from CSV, copied forward to a new revision, compared."""

from decimal import Decimal

import pytest

from core.errors import ApplicationError
from inspection.choices import RequirementKind
from inspection.models import Characteristic, GaugeType, InspectionPlan
from inspection.selectors import plan_compare
from inspection.services.plans import plan_copy_forward, plan_import_csv
from tests.factories import PartRevisionFactory

pytestmark = pytest.mark.django_db

HEADER = "balloon,sheet,zone,designator,description,nominal,lower,upper,attribute_note,unit,method,gauge_type,"
GOOD = HEADER + """operation_number
1,1,B3,key,Bore,10,9.98,10.02,,mm,Caliper,CAL,20
2,1,C4,,Deburr,,,,No burrs,,Visual,,20
"""


@pytest.fixture
def revision(db):
    GaugeType.objects.create(code="CAL", name="Caliper")
    return PartRevisionFactory()


def test_a_balloon_list_is_imported(revision, inspector):
    plan = plan_import_csv(part_revision_id=revision.pk, text=GOOD, user=inspector)
    bore, deburr = plan.characteristics.order_by("balloon_number")
    assert (bore.designator, bore.lower_limit, bore.gauge_type.code, bore.operation_number) == (
        "key", Decimal("9.98"), "CAL", 20)
    assert (deburr.requirement_kind, deburr.attribute_note) == (RequirementKind.ATTRIBUTE, "No burrs")


@pytest.mark.parametrize(("line", "message"), [
    ("1,1,B3,,Again,5,4,6,,mm,,,", "balloon 1 appears twice"),
    ("3,1,B3,,Upside,10,10.1,9.9,,mm,,,", "limits upside down"),
    ("3,1,B3,,Nan,ten,9,11,,mm,,,", "is not a number"),
    ("3,1,B3,,Half,10,9,,,mm,,,", "needs nominal, lower and upper"),
    ("3,1,B3,,Gauge,10,9,11,,mm,,XYZ,", "no gauge type"),
])
def test_a_bad_line_refuses_the_whole_file(revision, inspector, line, message):
    with pytest.raises(ApplicationError, match=message):
        plan_import_csv(part_revision_id=revision.pk, text=GOOD + line + "\n", user=inspector)
    assert not Characteristic.objects.exists()
    assert not InspectionPlan.objects.exists()


def test_a_plan_is_copied_forward_and_the_changes_are_shown(revision, inspector):
    plan_import_csv(part_revision_id=revision.pk, text=GOOD, user=inspector)
    new_revision = PartRevisionFactory(part=revision.part, revision="B", drawing_revision="B")
    plan, diff = plan_copy_forward(from_revision_id=revision.pk, to_revision_id=new_revision.pk, user=inspector)
    assert diff == {"added": [], "removed": [], "changed": {}}
    Characteristic.objects.filter(plan=plan, balloon_number="1").update(upper_limit=Decimal("10.03"))
    Characteristic.objects.filter(plan=plan, balloon_number="2").delete()
    Characteristic.objects.create(plan=plan, balloon_number="3", requirement_kind=RequirementKind.ATTRIBUTE,
                                  attribute_note="Marking per spec")
    diff = plan_compare(old=revision.inspection_plan, new=plan)
    assert diff["added"] == ["3"] and diff["removed"] == ["2"]
    assert diff["changed"] == {"1": {"upper_limit": (Decimal("10.02000"), Decimal("10.03000"))}}


def test_import_and_compare_through_the_api(api_as, revision, inspector):
    api = api_as(inspector)
    answer = api.post("/api/v1/inspection-plans/import-csv/", {"part_revision": revision.pk, "text": GOOD},
                      format="json")
    assert answer.status_code == 201, answer.json()
    plan_id = answer.json()["id"]
    duplicate = api.post("/api/v1/inspection-plans/import-csv/",
                         {"part_revision": revision.pk, "text": GOOD}, format="json")
    assert (duplicate.status_code, duplicate.json()["error"]["code"]) == (400, "duplicate_balloon")
    new_revision = PartRevisionFactory(part=revision.part, revision="B")
    copied = api.post(f"/api/v1/inspection-plans/{plan_id}/copy-forward/", {"to_revision": new_revision.pk},
                      format="json")
    assert copied.status_code == 201 and len(copied.json()["characteristics"]) == 2
    diff = api.get(f"/api/v1/inspection-plans/{copied.json()['id']}/compare/?with={plan_id}")
    assert diff.json() == {"added": [], "removed": [], "changed": {}}


def test_every_bad_line_is_reported_at_once(revision, inspector):
    from inspection.services.plans import PlanImportRefused

    bad = GOOD + "1,1,B3,,Again,5,4,6,,mm,,,\n\n4,1,B3,,Nan,ten,9,11,,mm,,,x\n"
    with pytest.raises(PlanImportRefused) as refusal:
        plan_import_csv(part_revision_id=revision.pk, text=bad, user=inspector)
    assert refusal.value.lines == [(4, "balloon 1 appears twice."),
                                   (6, "nominal “ten” of balloon 4 is not a number.")]
    assert refusal.value.code == "duplicate_balloon" and "2 lines are refused" in refusal.value.message
    assert not InspectionPlan.objects.exists()


def test_import_refusals_that_are_not_about_a_line(revision, inspector, operator):
    from core.errors import Forbidden, NotFound

    with pytest.raises(NotFound):
        plan_import_csv(part_revision_id=revision.pk + 1000, text=GOOD, user=inspector)
    with pytest.raises(ApplicationError, match="no balloon lines"):
        plan_import_csv(part_revision_id=revision.pk, text=HEADER + "operation_number\n", user=inspector)
    with pytest.raises(Forbidden):
        plan_import_csv(part_revision_id=revision.pk, text=GOOD, user=operator)
    assert not InspectionPlan.objects.exists()


def test_a_plan_is_copied_forward_only_to_another_revision_of_its_part(revision, inspector):
    from core.errors import Conflict, NotFound

    plan_import_csv(part_revision_id=revision.pk, text=GOOD, user=inspector)
    with pytest.raises(ApplicationError, match="another revision of"):
        plan_copy_forward(from_revision_id=revision.pk, to_revision_id=PartRevisionFactory().pk, user=inspector)
    with pytest.raises(ApplicationError, match="another revision of"):
        plan_copy_forward(from_revision_id=revision.pk, to_revision_id=revision.pk, user=inspector)
    with pytest.raises(NotFound):
        plan_copy_forward(from_revision_id=revision.pk, to_revision_id=revision.pk + 1000, user=inspector)
    new_revision = PartRevisionFactory(part=revision.part, revision="B")
    plan_copy_forward(from_revision_id=revision.pk, to_revision_id=new_revision.pk, user=inspector)
    with pytest.raises(Conflict, match="has an inspection plan already"):
        plan_copy_forward(from_revision_id=revision.pk, to_revision_id=new_revision.pk, user=inspector)
    assert InspectionPlan.objects.count() == 2


def test_the_api_refuses_a_file_that_is_not_text_and_lists_every_bad_line(api_as, revision, inspector):
    from django.core.files.uploadedfile import SimpleUploadedFile

    api = api_as(inspector)
    binary = api.post("/api/v1/inspection-plans/import-csv/",
                      {"part_revision": revision.pk, "file": SimpleUploadedFile("x.csv", b"\xff\xfe\x00b")},
                      format="multipart")
    assert binary.status_code == 400 and "not UTF-8" in binary.json()["error"]["message"]
    bad = api.post("/api/v1/inspection-plans/import-csv/",
                   {"part_revision": revision.pk, "text": GOOD + "1,1,B3,,Again,5,4,6,,mm,,,\n3,,,,,,,,,,,,\n"},
                   format="json")
    assert bad.status_code == 400
    assert bad.json()["error"]["message"] == (
        "Nothing was imported: 2 lines are refused. Line 4: balloon 1 appears twice. Line 5: balloon 3 needs "
        "nominal, lower and upper, or an attribute note.")
    assert not InspectionPlan.objects.exists()
