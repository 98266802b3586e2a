import re

from django.contrib import admin, messages
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from core.admin import (
    NoDeleteAdminMixin,
    ReadOnlyAdminMixin,
    ReadOnlyTabularInline,
    ServiceAdmin,
    ServiceHistoryAdmin,
    ServiceModelForm,
    ServiceTabularInline,
)
from core.errors import ApplicationError
from jobs.choices import JobStatus
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
from jobs.services.release import job_operations_refresh_ready, job_release, next_job_number, part_revision_release

# "WO 1234", "wo#1234", "WO-1234": the shop floor's way of writing job WO26-01234.
WORK_ORDER_TERM = re.compile(r"wo[\s#:-]*(\d+)", re.IGNORECASE)


class WorkOrderSearchMixin:
    """Search terms such as "WO1234" look for the digits, so that they find job WO26-01234."""

    def get_search_results(self, request, queryset, search_term):
        terms = [match[1] if (match := WORK_ORDER_TERM.fullmatch(term)) else term for term in search_term.split()]
        return super().get_search_results(request, queryset, " ".join(terms))


def report_outcomes(model_admin, request, done: list[str], refusals: list[str], verb: str) -> None:
    if done:
        model_admin.message_user(request, f"{verb} {len(done)}: {', '.join(done)}.", messages.SUCCESS)
    for refusal in refusals:
        model_admin.message_user(request, refusal, messages.ERROR)


@admin.register(Customer)
class CustomerAdmin(ServiceAdmin):
    list_display = ("code", "name", "active")
    list_filter = ("active",)
    search_fields = ("code", "name")


class SalesOrderLineInline(ServiceTabularInline):
    model = SalesOrderLine
    fields = ("line_number", "part_revision", "quantity", "due_date")
    autocomplete_fields = ("part_revision",)
    select_related = ("part_revision__part",)
    extra = 1


@admin.register(SalesOrder)
class SalesOrderAdmin(ServiceAdmin):
    list_display = ("number", "customer", "po_number", "order_date")
    list_filter = ("customer", "order_date")
    search_fields = ("number", "po_number", "customer__code", "customer__name")
    date_hierarchy = "order_date"
    list_select_related = ("customer",)
    autocomplete_fields = ("customer",)
    inlines = (SalesOrderLineInline,)


@admin.register(SalesOrderLine)
class SalesOrderLineAdmin(ServiceAdmin):
    list_display = ("__str__", "customer", "part_revision", "quantity", "due_date")
    list_filter = ("order__customer", "due_date")
    search_fields = ("order__number", "order__po_number", "order__customer__name", "part_revision__part__number")
    date_hierarchy = "due_date"
    list_select_related = ("order__customer", "part_revision__part")
    autocomplete_fields = ("order", "part_revision")

    @admin.display(ordering="order__customer__code")
    def customer(self, obj):
        return obj.order.customer


class PartRevisionInline(ServiceTabularInline):
    model = PartRevision
    fields = ("revision", "drawing_number", "drawing_revision", "status", "serialized", "material")
    readonly_fields = ("status",)
    show_change_link = True


@admin.register(Part)
class PartAdmin(ServiceAdmin):
    list_display = ("number", "description", "customer")
    list_filter = ("customer",)
    search_fields = ("number", "description", "customer__code", "customer__name")
    list_select_related = ("customer",)
    autocomplete_fields = ("customer",)
    inlines = (PartRevisionInline,)


@admin.register(PartRevision)
class PartRevisionAdmin(ServiceAdmin):
    list_display = ("__str__", "drawing_number", "drawing_revision", "status", "serialized", "material")
    list_filter = ("status", "serialized", "part__customer")
    search_fields = ("part__number", "part__description", "revision", "drawing_number")
    list_select_related = ("part",)
    autocomplete_fields = ("part",)
    readonly_fields = ("status",)  # part_revision_release changes it: the action below
    actions = ("release_revisions",)

    @admin.action(description="Release selected part revisions", permissions=["change"])
    def release_revisions(self, request, queryset):
        done, refusals = [], []
        for revision_id, label in [(revision.pk, str(revision)) for revision in queryset.order_by("pk")]:
            try:
                part_revision_release(part_revision_id=revision_id, user=request.user)
            except ApplicationError as error:
                refusals.append(f"{label}: {error.message}")
            else:
                done.append(label)
        report_outcomes(self, request, done, refusals, "Released")


class RoutingStepInline(ServiceTabularInline):
    model = RoutingStep
    fields = ("operation_number", "name", "kind", "work_center", "setup_minutes", "cycle_minutes",
              "parts_per_cycle", "fixture", "nc_program", "needs_first_article", "vendor")
    autocomplete_fields = ("work_center", "fixture", "nc_program")
    select_related = ("work_center", "fixture", "nc_program")
    show_change_link = True  # eligible machines and attachments are edited on the step's own page
    extra = 1


@admin.register(Routing)
class RoutingAdmin(ServiceHistoryAdmin):
    list_display = ("__str__", "part_revision", "version", "step_count", "updated_at")
    list_filter = ("part_revision__status", "updated_at")
    search_fields = ("part_revision__part__number", "part_revision__part__description", "notes")
    ordering = ("part_revision__part__number", "part_revision__revision", "-version")  # kept by the grouped query
    list_select_related = ("part_revision__part",)
    autocomplete_fields = ("part_revision",)
    inlines = (RoutingStepInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(step_count=Count("steps"))

    @admin.display(description="steps", ordering="step_count")
    def step_count(self, obj):
        return obj.step_count


@admin.register(NCProgram)
class NCProgramAdmin(ServiceHistoryAdmin):
    list_display = ("program_number", "version", "part_revision", "operation_number", "machine", "work_center",
                    "status")
    list_filter = ("status", "work_center", "machine")
    search_fields = ("program_number", "part_revision__part__number", "checksum")
    list_select_related = ("part_revision__part", "machine", "work_center")
    autocomplete_fields = ("part_revision", "machine", "work_center")


class RoutingStepMachineInline(ServiceTabularInline):
    model = RoutingStepMachine
    fields = ("machine", "rank", "setup_minutes", "cycle_minutes")
    autocomplete_fields = ("machine",)
    select_related = ("machine",)
    extra = 1


class RoutingStepAttachmentInline(ServiceTabularInline):
    model = RoutingStepAttachment
    fields = ("title", "file")


@admin.register(RoutingStep)
class RoutingStepAdmin(ServiceHistoryAdmin):
    list_display = ("__str__", "routing", "kind", "work_center", "setup_minutes", "cycle_minutes",
                    "needs_first_article")
    list_filter = ("kind", "work_center", "needs_first_article")
    search_fields = ("name", "routing__part_revision__part__number", "vendor", "nc_program__program_number")
    list_select_related = ("routing__part_revision__part", "work_center")
    autocomplete_fields = ("routing", "work_center", "fixture", "nc_program")
    inlines = (RoutingStepMachineInline, RoutingStepAttachmentInline)
    fieldsets = (
        (None, {"fields": ("routing", "operation_number", "name", "kind", "work_center", "needs_first_article")}),
        ("Standards", {"fields": ("setup_minutes", "cycle_minutes", "parts_per_cycle", "min_wait_minutes")}),
        ("Setup", {"fields": ("fixture", "material", "tool_kit", "nc_program", "instructions")}),
        ("Outside processing", {"fields": ("vendor", "lead_days", "outside_cost")}),
    )


@admin.register(RoutingStepMachine)
class RoutingStepMachineAdmin(ServiceAdmin):
    list_display = ("step", "routing", "machine", "rank", "setup_minutes", "cycle_minutes")
    list_filter = ("machine",)
    search_fields = ("step__routing__part_revision__part__number", "step__name", "machine__code")
    list_select_related = ("step__routing__part_revision__part", "machine")
    autocomplete_fields = ("step", "machine")

    @admin.display(ordering="step__routing")
    def routing(self, obj):
        return obj.step.routing


@admin.register(RoutingStepAttachment)
class RoutingStepAttachmentAdmin(ServiceAdmin):
    list_display = ("title", "step", "routing", "file", "created_at")
    search_fields = ("title", "step__name", "step__routing__part_revision__part__number")
    ordering = ("step__routing", "step__operation_number", "title")
    list_select_related = ("step__routing__part_revision__part",)
    autocomplete_fields = ("step",)

    @admin.display(ordering="step__routing")
    def routing(self, obj):
        return obj.step.routing


@admin.register(ScrapReason)
class ScrapReasonAdmin(ServiceAdmin):
    list_display = ("code", "label", "active")
    list_filter = ("active",)
    search_fields = ("code", "label")


class JobForm(ServiceModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "number" in self.fields:
            self.fields["number"].required = False
            self.fields["number"].help_text = "Leave it empty for the next WO number of the year."

    def clean_number(self):
        return self.cleaned_data["number"] or next_job_number(today=timezone.localdate())


class MaterialLotInline(ServiceTabularInline):
    model = MaterialLot
    fields = ("material", "heat_number", "certificate_number", "supplier")


class SerialNumberInline(ServiceTabularInline):
    model = SerialNumber
    fields = ("serial",)


class JobOperationInline(ReadOnlyTabularInline):
    model = JobOperation
    fields = ("operation_number", "name", "work_center", "machine", "status", "first_article")
    select_related = ("job", "work_center", "machine")


@admin.register(Job)
class JobAdmin(WorkOrderSearchMixin, NoDeleteAdminMixin, ServiceHistoryAdmin):
    form = JobForm
    list_display = ("number", "part_revision", "customer", "quantity", "due_date", "priority", "status",
                    "material_status", "released_at")
    list_filter = ("status", "material_status", "due_date", "priority", "order_line__order__customer",
                   "released_at")
    search_fields = ("number", "part_revision__part__number", "order_line__order__number",
                     "order_line__order__po_number", "order_line__order__customer__name", "notes")
    date_hierarchy = "due_date"
    list_select_related = ("part_revision__part", "order_line__order__customer")
    autocomplete_fields = ("order_line", "part_revision")
    readonly_fields = ("status", "routing", "released_at", "released_by")
    fieldsets = (
        (None, {"fields": ("number", "order_line", "part_revision", "quantity", "due_date", "priority", "notes")}),
        ("Material", {"fields": ("material_status", "material_expected_on")}),
        ("Release", {"fields": ("status", "routing", "released_at", "released_by")}),
    )
    actions = ("release_jobs",)

    def get_inlines(self, request, obj):
        return (MaterialLotInline, SerialNumberInline) + ((JobOperationInline,) if obj else ())

    def get_readonly_fields(self, request, obj=None):
        frozen = ("number", "part_revision") if obj and obj.status != JobStatus.PLANNED else ()
        return (*super().get_readonly_fields(request, obj), *frozen)

    @admin.display(ordering="order_line__order__customer__code")
    def customer(self, obj):
        return obj.order_line.order.customer if obj.order_line else None

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "material_status" in form.changed_data:
            job_operations_refresh_ready(job=obj)  # material in is what makes a released job's first step ready

    def has_release_permission(self, request):
        return request.user.has_perm("jobs.release_job")

    @admin.action(description="Release selected jobs", permissions=["release"])
    def release_jobs(self, request, queryset):
        done, refusals = [], []
        for job_id, number in queryset.order_by("pk").values_list("pk", "number"):
            try:
                job_release(job_id=job_id, user=request.user)
            except ApplicationError as error:
                refusals.append(f"{number}: {error.message}")
            else:
                done.append(number)
        report_outcomes(self, request, done, refusals, "Released")


@admin.register(MaterialLot)
class MaterialLotAdmin(WorkOrderSearchMixin, ServiceAdmin):
    list_display = ("heat_number", "material", "job", "certificate_number", "supplier", "created_at")
    search_fields = ("heat_number", "certificate_number", "material", "supplier", "job__number")
    ordering = ("-created_at",)
    list_select_related = ("job",)
    autocomplete_fields = ("job",)


@admin.register(SerialNumber)
class SerialNumberAdmin(WorkOrderSearchMixin, ServiceAdmin):
    list_display = ("serial", "job")
    search_fields = ("serial", "job__number")
    list_select_related = ("job",)
    autocomplete_fields = ("job",)


class JobOperationMachineInline(ReadOnlyTabularInline):
    model = JobOperationMachine
    fields = ("machine", "rank", "setup_minutes", "cycle_minutes", "hourly_rate")
    select_related = ("operation__job", "machine")
    show_change_link = False


class OperationEventInline(ReadOnlyTabularInline):
    model = OperationEvent
    fields = ("at", "action", "from_status", "to_status", "user", "terminal")
    select_related = ("operation__job", "user")
    show_change_link = False


# Set by job_release and by the shop floor's services; the rest of an operation can still be corrected.
OPERATION_STATE_FIELDS = (
    "job", "routing_step", "operation_number", "kind", "work_center", "machine", "status", "resume_status",
    "pause_reason", "first_article", "first_article_reason", "production_gate_open", "rework_of", "closed_short_reason",
    "sent_on", "vendor_certificate_number",
)


@admin.register(JobOperation)
class JobOperationAdmin(WorkOrderSearchMixin, NoDeleteAdminMixin, ServiceHistoryAdmin):
    list_display = ("__str__", "work_center", "machine", "kind", "status", "first_article", "production_gate_open")
    list_filter = ("status", "kind", "work_center", "machine", "first_article", "production_gate_open")
    search_fields = ("job__number", "name", "vendor")
    list_select_related = ("job", "work_center", "machine")
    autocomplete_fields = ("fixture", "nc_program")
    readonly_fields = OPERATION_STATE_FIELDS
    fieldsets = (
        (None, {"fields": ("job", "operation_number", "name", "kind", "work_center", "routing_step")}),
        ("State", {"fields": ("status", "resume_status", "pause_reason", "machine", "first_article",
                              "first_article_reason", "production_gate_open", "rework_of", "closed_short_reason")}),
        ("Standards", {"fields": ("setup_minutes", "cycle_minutes", "parts_per_cycle", "min_wait_minutes")}),
        ("Setup", {"fields": ("fixture", "material", "tool_kit", "nc_program", "instructions")}),
        ("Outside processing", {"fields": ("vendor", "lead_days", "outside_cost", "sent_on",
                                           "vendor_certificate_number")}),
    )
    inlines = (JobOperationMachineInline, OperationEventInline)

    def has_add_permission(self, request):
        return False  # job_release creates operations, with their machine options


@admin.register(JobOperationMachine)
class JobOperationMachineAdmin(ReadOnlyAdminMixin, ServiceAdmin):
    list_display = ("operation", "machine", "rank", "setup_minutes", "cycle_minutes", "hourly_rate")
    list_filter = ("machine",)
    search_fields = ("operation__job__number", "machine__code")
    list_select_related = ("operation__job", "machine")


@admin.register(LabourEntry)
class LabourEntryAdmin(WorkOrderSearchMixin, ReadOnlyAdminMixin, ServiceAdmin):
    list_display = ("operation", "operator", "activity", "machine", "started_at", "ended_at")
    list_filter = ("activity", "machine", "started_at")
    search_fields = ("operation__job__number", "operator__username", "operator__last_name")
    date_hierarchy = "started_at"
    list_select_related = ("operation__job", "operator", "machine")
    show_full_result_count = False


@admin.register(ProductionEntry)
class ProductionEntryAdmin(WorkOrderSearchMixin, ReadOnlyAdminMixin, ServiceAdmin):
    list_display = ("operation", "operator", "machine", "quantity_good", "quantity_scrap", "quantity_rework",
                    "scrap_reason", "recorded_at")
    list_filter = ("scrap_reason", "machine", "recorded_at")
    search_fields = ("operation__job__number", "operator__username", "note")
    date_hierarchy = "recorded_at"
    list_select_related = ("operation__job", "operator", "machine", "scrap_reason")
    show_full_result_count = False


@admin.register(OperationEvent)
class OperationEventAdmin(WorkOrderSearchMixin, ReadOnlyAdminMixin, ServiceAdmin):
    list_display = ("operation", "action", "from_status", "to_status", "user", "terminal", "at")
    list_filter = ("action", "to_status", "at")
    search_fields = ("operation__job__number", "user__username", "terminal")
    date_hierarchy = "at"
    list_select_related = ("operation__job", "user")
    show_full_result_count = False


@admin.register(ScheduleRun)
class ScheduleRunAdmin(ReadOnlyAdminMixin, ServiceAdmin):
    list_display = ("__str__", "status", "progress", "requested_by", "created_at", "finished_at", "published",
                    "published_at")
    list_filter = ("status", "published", "created_at")
    search_fields = ("message",)
    date_hierarchy = "created_at"
    list_select_related = ("requested_by", "published_by")
    readonly_fields = ("entries",)

    @admin.display(description="schedule entries")
    def entries(self, obj):
        url = reverse("admin:jobs_scheduleentry_changelist") + f"?run__id__exact={obj.pk}"
        return format_html('<a href="{}">The entries of this run</a>', url)


@admin.register(ScheduleEntry)
class ScheduleEntryAdmin(WorkOrderSearchMixin, ReadOnlyAdminMixin, ServiceAdmin):
    list_display = ("operation", "machine", "starts_at", "ends_at", "sequence", "changeover_minutes", "locked",
                    "run")
    list_filter = ("machine", "locked", "starts_at")
    search_fields = ("operation__job__number", "machine__code")
    list_select_related = ("run", "operation__job", "machine")
    show_full_result_count = False
