"""The Django admin as the shop's administrators use it: every page opens, list pages stay cheap,
writes go through the services, bad input comes back as form errors, state stays with the services."""

import datetime as dt
import threading
import time

import pytest
from django import forms
from django.contrib import admin
from django.db import connection, transaction
from django.db.models.fields.files import FieldFile
from django.test.client import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from inspection.choices import FormTwoKind, InspectionKind, NCSource, ReportStatus, Verdict
from inspection.models import (
    Calibration,
    Characteristic,
    CharacteristicResult,
    FirstArticleReport,
    FormTwoLine,
    Gauge,
    GaugeType,
    InspectionPlan,
    InspectionReading,
    InspectionRecord,
    NonConformance,
)
from jobs.choices import (
    Activity,
    JobStatus,
    MaterialStatus,
    OperationStatus,
    PartRevisionStatus,
    ScheduleRunStatus,
)
from jobs.models import (
    Customer,
    Job,
    JobOperation,
    JobOperationMachine,
    LabourEntry,
    MaterialLot,
    NCProgram,
    OperationEvent,
    Part,
    PartRevision,
    ProductionEntry,
    Routing,
    RoutingStep,
    RoutingStepAttachment,
    RoutingStepMachine,
    SalesOrder,
    SalesOrderLine,
    ScheduleEntry,
    ScheduleRun,
    ScrapReason,
    SerialNumber,
)
from jobs.services.release import job_release
from machines.choices import (
    CalendarExceptionKind,
    FixtureKind,
    FixtureStatus,
    MachineKind,
    MachineState,
    SetupAttribute,
)
from machines.models import (
    Calendar,
    CalendarException,
    ChangeoverRule,
    DowntimeReason,
    Fixture,
    Machine,
    MachineStateEvent,
    ShiftWindow,
    WorkCenter,
)
from tests.factories import JobFactory, MachineFactory, PartRevisionFactory, WorkCenterFactory

DOMAIN_APPS = ("machines", "jobs", "inspection")
DOMAIN_MODELS = sorted(
    (model for model in admin.site._registry if model._meta.app_label in DOMAIN_APPS), key=lambda m: m._meta.label
)
LIST_QUERY_CEILING = 15


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def admin_request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def build_shop(n: int, user) -> None:
    """One row of every model of the three apps, each row linked to the others of its shop."""
    now, today = timezone.now(), timezone.localdate()
    work_center = WorkCenter.objects.create(code=f"MILL{n}", name=f"Mills {n}")
    calendar = Calendar.objects.create(name=f"Two shifts {n}")
    ShiftWindow.objects.create(calendar=calendar, name="first", weekday=0, start_time=dt.time(6), end_time=dt.time(14))
    CalendarException.objects.create(calendar=calendar, kind=CalendarExceptionKind.CLOSED, starts_at=now,
                                     ends_at=now + dt.timedelta(days=1))
    machine = Machine.objects.create(code=f"VF{n}", name=f"Haas VF-{n}", work_center=work_center,
                                     kind=MachineKind.MILL_3AXIS, calendar=calendar)
    fixture = Fixture.objects.create(code=f"VISE{n}", name="Vise", kind=FixtureKind.VISE,
                                     status=FixtureStatus.IN_USE, mounted_on=machine)
    fixture.compatible_work_centers.add(work_center)
    ChangeoverRule.objects.create(work_center=work_center, attribute=SetupAttribute.FIXTURE, minutes=30)
    reason = DowntimeReason.objects.create(code=f"WAIT{n}", label="Waiting for material")
    MachineStateEvent.objects.create(machine=machine, state=MachineState.DOWN, reason=reason, started_at=now)

    customer = Customer.objects.create(code=f"ACME{n}", name=f"Acme {n}")
    order = SalesOrder.objects.create(number=f"SO{n}", customer=customer, po_number=f"PO{n}", order_date=today)
    part = Part.objects.create(number=f"BRK-{n}", description="Bracket", customer=customer)
    revision = PartRevision.objects.create(part=part, revision="A", drawing_number=f"D{n}", drawing_revision="A",
                                           status=PartRevisionStatus.RELEASED)
    line = SalesOrderLine.objects.create(order=order, line_number=1, part_revision=revision, quantity=10,
                                         due_date=today)
    routing = Routing.objects.create(part_revision=revision)
    program = NCProgram.objects.create(part_revision=revision, operation_number=10, machine=machine,
                                       program_number=f"O{n}")
    step = RoutingStep.objects.create(routing=routing, operation_number=10, name="Mill", work_center=work_center,
                                      fixture=fixture, nc_program=program, setup_minutes=30, cycle_minutes=5)
    RoutingStepMachine.objects.create(step=step, machine=machine)
    RoutingStepAttachment.objects.create(step=step, title="Setup sheet", file="routing_attachments/setup.pdf")
    scrap = ScrapReason.objects.create(code=f"OVER{n}", label="Oversize")
    job = Job.objects.create(number=f"WO26-{n:05d}", order_line=line, part_revision=revision, routing=routing,
                             quantity=10, due_date=today, status=JobStatus.IN_PROGRESS, released_at=now,
                             released_by=user)
    MaterialLot.objects.create(job=job, material="6061-T6", heat_number=f"H{n}")
    SerialNumber.objects.create(job=job, serial=f"SN{n}")
    operation = JobOperation.objects.create(job=job, routing_step=step, operation_number=10, name="Mill",
                                            work_center=work_center, machine=machine, status=OperationStatus.RUNNING)
    JobOperationMachine.objects.create(operation=operation, machine=machine, setup_minutes=30, cycle_minutes=5,
                                       hourly_rate=90)
    OperationEvent.objects.create(operation=operation, action="start_run", user=user, at=now,
                                  from_status=OperationStatus.SETUP, to_status=OperationStatus.RUNNING)
    LabourEntry.objects.create(operator=user, operation=operation, machine=machine, activity=Activity.RUN,
                               started_at=now)
    ProductionEntry.objects.create(operator=user, operation=operation, machine=machine, quantity_good=4,
                                   quantity_scrap=1, scrap_reason=scrap, recorded_at=now)
    run = ScheduleRun.objects.create(requested_by=user, status=ScheduleRunStatus.SUCCEEDED)
    ScheduleEntry.objects.create(run=run, operation=operation, machine=machine, starts_at=now,
                                 ends_at=now + dt.timedelta(hours=1))

    gauge_type = GaugeType.objects.create(code=f"CAL{n}", name=f"Caliper {n}")
    plan = InspectionPlan.objects.create(part_revision=revision)
    characteristic = Characteristic.objects.create(plan=plan, balloon_number="1", nominal=10, lower_limit="9.9",
                                                   upper_limit="10.1", gauge_type=gauge_type)
    gauge = Gauge.objects.create(asset_id=f"G{n}", gauge_type=gauge_type, calibration_interval_days=365)
    Calibration.objects.create(gauge=gauge, calibrated_on=today, as_found_in_tolerance=True,
                               as_left_in_tolerance=True, certificate_number=f"CERT{n}", performed_by="Lab",
                               next_due_on=today + dt.timedelta(days=365))
    nonconformance = NonConformance.objects.create(number=f"NC{n}", source=NCSource.FIRST_ARTICLE, job=job,
                                                   operation=operation, description="Oversize", raised_by=user)
    report = FirstArticleReport.objects.create(fair_id=f"FAI{n}", job=job, operation=operation, prepared_by=user)
    report.covered_characteristics.add(characteristic)
    FormTwoLine.objects.create(report=report, kind=FormTwoKind.MATERIAL, designation="6061-T6",
                               specification="AMS 4027")
    CharacteristicResult.objects.create(report=report, characteristic=characteristic, measured_value=10,
                                        gauge=gauge, verdict=Verdict.PASS, nonconformance=nonconformance,
                                        measured_by=user, measured_at=now)
    record = InspectionRecord.objects.create(job=job, operation=operation, kind=InspectionKind.IN_PROCESS,
                                             sample_size=1, inspector=user, inspected_at=now)
    InspectionReading.objects.create(record=record, characteristic=characteristic, measured_value=10, gauge=gauge,
                                     verdict=Verdict.PASS)


def field_data(bound) -> dict:
    value = bound.value()
    if isinstance(bound.field, forms.NullBooleanField):
        return {bound.html_name: {True: "true", False: "false"}.get(value, "unknown")}
    if isinstance(bound.field, forms.BooleanField):
        return {bound.html_name: "on"} if value else {}
    if value is None or isinstance(value, FieldFile):
        return {}  # an empty file input keeps the stored file
    if isinstance(bound.field, forms.SplitDateTimeField):
        local = timezone.localtime(value)
        return {f"{bound.html_name}_0": local.date().isoformat(), f"{bound.html_name}_1": local.time().isoformat()}
    return {bound.html_name: value}


def form_data(response) -> dict:
    """What a browser posts back from an admin form left as shown: every value, inline rows included."""
    shown = [response.context["adminform"].form]
    data = {}
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data[f"{formset.prefix}-TOTAL_FORMS"] = data[f"{formset.prefix}-INITIAL_FORMS"] = formset.initial_form_count()
        if inline.has_change_permission:
            shown += formset.initial_forms
        else:  # a view-only row is rendered as text: only its hidden keys come back
            for form in formset.initial_forms:
                for name in (form._meta.model._meta.pk.name, formset.fk.name):
                    data.update(field_data(form[name]))
    for form in shown:
        for bound in form:
            data.update(field_data(bound))
    return data


def form_errors(response) -> dict:
    errors = dict(response.context["adminform"].form.errors)
    for inline in response.context["inline_admin_formsets"]:
        errors |= {f"{inline.formset.prefix}-{i}": form.errors for i, form in enumerate(inline.formset) if form.errors}
        if inline.formset.non_form_errors():
            errors[inline.formset.prefix] = inline.formset.non_form_errors()
    return errors


@pytest.mark.django_db
def test_every_admin_list_and_add_page_opens_for_the_admin(client, shop_admin):
    client.force_login(shop_admin)
    assert client.get(reverse("admin:index")).status_code == 200
    for model, model_admin in admin.site._registry.items():
        assert client.get(url(model, "changelist")).status_code == 200, model._meta.label
        may_add = model_admin.has_add_permission(admin_request(shop_admin))
        assert client.get(url(model, "add")).status_code == (200 if may_add else 403), model._meta.label


def list_urls() -> list[tuple[str, str]]:
    """Every changelist of the three apps, and every autocomplete list their forms ask for."""
    urls = [(model._meta.label, url(model, "changelist")) for model in DOMAIN_MODELS]
    for model in DOMAIN_MODELS:
        for field in admin.site._registry[model].autocomplete_fields:
            query = f"app_label={model._meta.app_label}&model_name={model._meta.model_name}&field_name={field}"
            urls.append((f"{model._meta.label}.{field}", f"{reverse('admin:autocomplete')}?{query}"))
    return urls


def rows_shown(response) -> int:
    if response["Content-Type"].startswith("application/json"):  # an autocomplete list
        return len(response.json()["results"])
    return response.context["cl"].result_count


@pytest.mark.django_db
def test_list_pages_cost_the_same_queries_for_one_row_or_three(client, shop_admin, django_assert_max_num_queries):
    client.force_login(shop_admin)
    build_shop(1, shop_admin)
    for _, list_url in list_urls():
        client.get(list_url)  # warm the content-type cache
    one_row = {}
    for label, list_url in list_urls():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(list_url).status_code == 200, label
        one_row[label] = len(queries)
    build_shop(2, shop_admin)
    build_shop(3, shop_admin)
    for label, list_url in list_urls():
        with django_assert_max_num_queries(LIST_QUERY_CEILING) as queries:
            response = client.get(list_url)
        assert rows_shown(response) == 3, label
        assert len(queries) == one_row[label], f"{label}: {one_row[label]} queries, then {len(queries)}"


@pytest.mark.django_db
def test_every_change_page_and_history_opens(client, shop_admin):
    build_shop(1, shop_admin)
    client.force_login(shop_admin)
    for model in DOMAIN_MODELS:
        obj = model.objects.get()
        assert client.get(url(model, "change", obj.pk)).status_code == 200, model._meta.label
        assert client.get(url(model, "history", obj.pk)).status_code == 200, model._meta.label


@pytest.mark.django_db
def test_every_change_form_saves_back_unchanged_as_its_user(client, shop_admin):
    """Each admin's form, inlines included, passes its own validation and record_save's."""
    build_shop(1, shop_admin)
    client.force_login(shop_admin)
    for model in DOMAIN_MODELS:
        obj = model.objects.get()
        if not admin.site._registry[model].has_change_permission(admin_request(shop_admin), obj):
            continue
        shown = client.get(url(model, "change", obj.pk))
        response = client.post(url(model, "change", obj.pk), form_data(shown))
        assert response.status_code == 302, (model._meta.label, form_errors(response))
        if hasattr(model, "history"):
            assert obj.history.latest().history_user == shop_admin, model._meta.label


@pytest.mark.django_db
def test_a_job_added_without_number_gets_the_next_wo_number(client, planner_staff):
    revision = PartRevisionFactory()
    client.force_login(planner_staff)
    shown = client.get(url(Job, "add"))
    data = form_data(shown) | {"part_revision": revision.pk, "quantity": 5, "due_date": "2030-01-15"}
    response = client.post(url(Job, "add"), data)
    assert response.status_code == 302, form_errors(response)
    job = Job.objects.get()
    assert job.number.startswith("WO") and job.status == JobStatus.PLANNED
    assert job.history.get().history_user == planner_staff


@pytest.mark.django_db
def test_a_job_with_quantity_zero_is_a_field_error_and_nothing_is_saved(client, shop_admin):
    revision = PartRevisionFactory()
    client.force_login(shop_admin)
    shown = client.get(url(Job, "add"))
    data = form_data(shown) | {"part_revision": revision.pk, "quantity": 0, "due_date": "2030-01-15"}
    response = client.post(url(Job, "add"), data)
    assert response.status_code == 200
    assert "quantity" in response.context["adminform"].form.errors
    assert not Job.objects.exists()


@pytest.fixture
def plan(db):
    return InspectionPlan.objects.create(part_revision=PartRevisionFactory())


@pytest.mark.django_db
def test_a_characteristic_with_limits_not_around_the_nominal_is_refused(client, inspector_staff, plan):
    client.force_login(inspector_staff)
    shown = client.get(url(Characteristic, "add"))
    data = form_data(shown) | {"plan": plan.pk, "balloon_number": "1", "nominal": "10.000",
                               "lower_limit": "10.050", "upper_limit": "10.100"}
    response = client.post(url(Characteristic, "add"), data)
    assert response.status_code == 200
    assert "A nominal requirement needs lower limit ≤ nominal ≤ upper limit." in (
        response.context["adminform"].form.non_field_errors())
    assert not Characteristic.objects.exists()


@pytest.mark.django_db
def test_a_fixture_mounted_but_available_is_refused(client, shop_admin):
    machine = MachineFactory()
    client.force_login(shop_admin)
    shown = client.get(url(Fixture, "add"))
    data = form_data(shown) | {"code": "VISE-1", "name": "Kurt vise", "kind": FixtureKind.VISE,
                               "status": FixtureStatus.AVAILABLE, "mounted_on": machine.pk}
    response = client.post(url(Fixture, "add"), data)
    assert response.status_code == 200
    assert "A fixture mounted on a machine must have the status 'in use'." in (
        response.context["adminform"].form.non_field_errors())
    assert not Fixture.objects.exists()


@pytest.mark.django_db
def test_an_inline_row_clashing_with_a_stored_row_is_a_form_error_not_a_500(client, inspector_staff, plan):
    """Swapping two balloon numbers passes Django's own formset check; the database would refuse the save."""
    for balloon in ("1", "2"):
        Characteristic.objects.create(plan=plan, balloon_number=balloon, nominal=10, lower_limit=9, upper_limit=11)
    client.force_login(inspector_staff)
    shown = client.get(url(InspectionPlan, "change", plan.pk))
    data = form_data(shown) | {"characteristics-0-balloon_number": "2", "characteristics-1-balloon_number": "1"}
    response = client.post(url(InspectionPlan, "change", plan.pk), data)
    assert response.status_code == 200
    assert "already exists" in str(form_errors(response))
    assert sorted(plan.characteristics.values_list("balloon_number", flat=True)) == ["1", "2"]


@pytest.mark.django_db
def test_a_routing_and_its_steps_are_saved_as_the_planner(client, planner_staff):
    revision, work_center = PartRevisionFactory(), WorkCenterFactory()
    client.force_login(planner_staff)
    data = form_data(client.get(url(Routing, "add"))) | {
        "part_revision": revision.pk, "version": 1, "steps-TOTAL_FORMS": 1,
        "steps-0-operation_number": 10, "steps-0-name": "Mill", "steps-0-kind": "internal",
        "steps-0-setup_minutes": "30", "steps-0-cycle_minutes": "4", "steps-0-parts_per_cycle": 1,
    }
    refused = client.post(url(Routing, "add"), data)  # an internal step without its work center
    assert refused.status_code == 200
    assert "An internal step needs a work center." in str(form_errors(refused))
    assert not Routing.objects.exists()

    response = client.post(url(Routing, "add"), data | {"steps-0-work_center": work_center.pk})
    assert response.status_code == 302, form_errors(response)
    step = RoutingStep.objects.get()
    assert step.routing.part_revision == revision
    assert step.history.get().history_user == planner_staff


@pytest.fixture
def planner_staff(make_user):
    return make_user("planner", is_staff=True)


@pytest.fixture
def inspector_staff(make_user):
    return make_user("inspector", is_staff=True)


@pytest.mark.django_db
def test_only_roles_that_may_add_a_characteristic_open_its_add_page(client, planner_staff, inspector_staff):
    client.force_login(planner_staff)
    assert client.get(url(Characteristic, "add")).status_code == 403
    assert client.get(url(Characteristic, "changelist")).status_code == 200  # planners may read the plans
    client.force_login(inspector_staff)
    assert client.get(url(Characteristic, "add")).status_code == 200


@pytest.mark.django_db
def test_the_release_action_releases_and_reports_each_refusal(client, planner_staff, small_shop):
    draft = JobFactory(number="WO-DRAFT", part_revision=PartRevisionFactory(status=PartRevisionStatus.DRAFT))
    client.force_login(planner_staff)
    response = client.post(url(Job, "changelist"), {"action": "release_jobs",
                                                    "_selected_action": [small_shop.job.pk, draft.pk]}, follow=True)
    assert response.status_code == 200
    notes = [str(message) for message in response.context["messages"]]
    small_shop.job.refresh_from_db()
    draft.refresh_from_db()
    assert small_shop.job.status == JobStatus.RELEASED and small_shop.job.released_by == planner_staff
    assert small_shop.job.operations.count() == 2
    assert draft.status == JobStatus.PLANNED
    assert f"Released 1: {small_shop.job.number}." in notes
    assert any(note.startswith("WO-DRAFT:") and "not released" in note for note in notes), notes


@pytest.mark.django_db
def test_receiving_material_in_the_admin_makes_the_first_operation_ready(client, planner_staff, small_shop):
    """The planner may change the job but only view its operations: those rows are left alone."""
    Job.objects.filter(pk=small_shop.job.pk).update(material_status=MaterialStatus.ORDERED)
    job_release(job_id=small_shop.job.pk, user=planner_staff)
    client.force_login(planner_staff)
    change_url = url(Job, "change", small_shop.job.pk)
    data = form_data(client.get(change_url)) | {"material_status": MaterialStatus.RECEIVED}
    response = client.post(change_url, data)
    assert response.status_code == 302, form_errors(response)
    statuses = list(small_shop.job.operations.order_by("operation_number").values_list("status", flat=True))
    assert statuses == [OperationStatus.READY, OperationStatus.PENDING]


@pytest.mark.django_db
def test_part_revisions_are_released_by_their_service_not_by_editing_the_status(client, planner_staff):
    draft = PartRevisionFactory(status=PartRevisionStatus.DRAFT)
    obsolete = PartRevisionFactory(status=PartRevisionStatus.OBSOLETE)
    client.force_login(planner_staff)
    assert "status" not in client.get(url(PartRevision, "change", draft.pk)).context["adminform"].form.fields
    response = client.post(url(PartRevision, "changelist"), {"action": "release_revisions",
                                                             "_selected_action": [draft.pk, obsolete.pk]}, follow=True)
    notes = [str(message) for message in response.context["messages"]]
    draft.refresh_from_db()
    obsolete.refresh_from_db()
    assert (draft.status, obsolete.status) == (PartRevisionStatus.RELEASED, PartRevisionStatus.OBSOLETE)
    assert f"Released 1: {draft}." in notes
    assert any(note.startswith(f"{obsolete}:") and "obsolete" in note for note in notes), notes


@pytest.mark.django_db
def test_job_state_is_shown_but_not_editable(client, shop_admin, small_shop):
    client.force_login(shop_admin)
    form = client.get(url(Job, "change", small_shop.job.pk)).context["adminform"].form
    assert {"status", "routing", "released_at", "released_by"}.isdisjoint(form.fields)
    for model in (MachineStateEvent, LabourEntry, ProductionEntry, OperationEvent, ScheduleRun, ScheduleEntry,
                  JobOperationMachine):
        model_admin = admin.site._registry[model]
        request = admin_request(shop_admin)
        assert not (model_admin.has_add_permission(request) or model_admin.has_change_permission(request))


@pytest.mark.django_db(transaction=True)
def test_an_admin_save_does_not_undo_a_state_change_a_service_made_meanwhile(client, planner_staff):
    job = JobFactory()
    client.force_login(planner_staff)
    change_url = url(Job, "change", job.pk)
    data = form_data(client.get(change_url)) | {"notes": "Customer called: ship partial."}
    locked = threading.Event()

    def service_holding_the_job():
        try:
            with transaction.atomic():
                Job.objects.select_for_update().filter(pk=job.pk).update(status=JobStatus.ON_HOLD)
                locked.set()
                time.sleep(1)  # the admin's request arrives while the change is not committed yet
        finally:
            connection.close()

    service = threading.Thread(target=service_holding_the_job)
    service.start()
    assert locked.wait(10)
    response = client.post(change_url, data)
    service.join()
    assert response.status_code == 302, form_errors(response)
    job.refresh_from_db()
    assert (job.status, job.notes) == (JobStatus.ON_HOLD, "Customer called: ship partial.")


@pytest.mark.django_db
def test_history_is_shown_but_an_old_version_is_not_restored(client, shop_admin, small_shop):
    client.force_login(shop_admin)
    job = small_shop.job
    version = job.history.latest()
    job_release(job_id=job.pk, user=shop_admin)
    history_url = reverse("admin:jobs_job_simple_history", args=(job.pk, version.history_id))
    assert client.get(history_url).status_code == 200
    assert client.post(history_url, {}).status_code == 403
    job.refresh_from_db()
    assert job.status == JobStatus.RELEASED


@pytest.mark.django_db
def test_an_approved_first_article_report_is_read_only(client, shop_admin):
    build_shop(1, shop_admin)
    report = FirstArticleReport.objects.get()
    FirstArticleReport.objects.filter(pk=report.pk).update(status=ReportStatus.APPROVED)
    client.force_login(shop_admin)
    response = client.get(url(FirstArticleReport, "change", report.pk))
    assert response.status_code == 200 and not response.context["has_change_permission"]
    assert client.post(url(FirstArticleReport, "change", report.pk), {}).status_code == 403
    assert client.post(url(FormTwoLine, "change", report.form_two_lines.get().pk), {}).status_code == 403


@pytest.mark.django_db
def test_a_protected_delete_is_explained_not_a_500(client, shop_admin):
    machine = MachineFactory()
    client.force_login(shop_admin)
    delete_url = url(WorkCenter, "delete", machine.work_center.pk)
    shown = client.get(delete_url)
    assert shown.status_code == 200 and machine.code in shown.content.decode()
    assert shown.context["protected"]
    assert client.post(delete_url, {"post": "yes"}).status_code == 200
    assert WorkCenter.objects.filter(pk=machine.work_center.pk).exists()


@pytest.mark.django_db
def test_job_search_understands_wo_numbers(client, shop_admin):
    revision = PartRevisionFactory(part__number="BRK-A")  # no digits that a search term could match
    wanted = JobFactory(number="WO26-00042", part_revision=revision)
    other = JobFactory(number="WO26-00017", part_revision=revision)
    client.force_login(shop_admin)
    for term in ("WO42", "wo 42", "WO#00042", "WO26-00042"):
        results = list(client.get(url(Job, "changelist"), {"q": term}).context["cl"].result_list)
        assert results == [wanted], term
    assert other in client.get(url(Job, "changelist"), {"q": "WO"}).context["cl"].result_list

