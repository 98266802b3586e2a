from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from core.models import TimeStampedModel
from jobs.choices import (
    Activity,
    FirstArticleRequirement,
    JobStatus,
    MaterialStatus,
    NCProgramStatus,
    OperationStatus,
    PartRevisionStatus,
    ScheduleRunStatus,
    StepKind,
)
from machines.models import DowntimeReason, Fixture, Machine, WorkCenter

NON_NEGATIVE = [MinValueValidator(0)]


class Customer(TimeStampedModel):
    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=200)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class SalesOrder(TimeStampedModel):
    number = models.CharField(max_length=30, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="sales_orders")
    po_number = models.CharField("customer PO number", max_length=50)
    order_date = models.DateField()
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-order_date", "number"]

    def __str__(self) -> str:
        return f"SO {self.number} (PO {self.po_number})"


class Part(TimeStampedModel):
    number = models.CharField(max_length=50, unique=True)
    description = models.CharField(max_length=200)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="parts")

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return self.number


class PartRevision(TimeStampedModel):
    """A new revision is a design change: it can make a first article necessary."""

    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="revisions")
    revision = models.CharField(max_length=10)
    drawing_number = models.CharField(max_length=50)
    drawing_revision = models.CharField(max_length=10)
    status = models.CharField(max_length=10, choices=PartRevisionStatus.choices, default=PartRevisionStatus.DRAFT)
    serialized = models.BooleanField(default=False)
    material = models.CharField(max_length=100, blank=True, help_text="Material specification, e.g. 6061-T6.")

    class Meta:
        ordering = ["part__number", "revision"]
        constraints = [models.UniqueConstraint(fields=["part", "revision"], name="partrevision_unique")]

    def __str__(self) -> str:
        return f"{self.part.number} rev {self.revision}"


class SalesOrderLine(TimeStampedModel):
    order = models.ForeignKey(SalesOrder, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveSmallIntegerField()
    part_revision = models.ForeignKey(PartRevision, on_delete=models.PROTECT, related_name="order_lines")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    due_date = models.DateField()

    class Meta:
        ordering = ["order", "line_number"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_number"], name="salesorderline_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="salesorderline_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.order.number}/{self.line_number}"


class Routing(TimeStampedModel):
    """Per part revision, versioned: a job freezes the newest version when it is released."""

    part_revision = models.ForeignKey(PartRevision, on_delete=models.PROTECT, related_name="routings")
    version = models.PositiveSmallIntegerField(default=1)
    notes = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["part_revision", "-version"]
        constraints = [models.UniqueConstraint(fields=["part_revision", "version"], name="routing_unique_version")]

    def __str__(self) -> str:
        return f"{self.part_revision} routing v{self.version}"


class NCProgram(TimeStampedModel):
    """A CNC program for one step of a part revision, on a machine or a machine family."""

    part_revision = models.ForeignKey(PartRevision, on_delete=models.PROTECT, related_name="nc_programs")
    operation_number = models.PositiveSmallIntegerField()
    machine = models.ForeignKey(Machine, on_delete=models.PROTECT, null=True, blank=True)
    work_center = models.ForeignKey(WorkCenter, on_delete=models.PROTECT, null=True, blank=True,
                                    help_text="The machine family, when the program runs on any of its machines.")
    program_number = models.CharField(max_length=30)
    version = models.PositiveSmallIntegerField(default=1)
    checksum = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the file.")
    file = models.FileField(upload_to="nc_programs/", blank=True)
    status = models.CharField(max_length=10, choices=NCProgramStatus.choices, default=NCProgramStatus.UNPROVEN)
    history = HistoricalRecords()

    class Meta:
        ordering = ["part_revision", "operation_number", "program_number", "-version"]
        verbose_name = "NC program"
        constraints = [
            models.UniqueConstraint(fields=["part_revision", "program_number", "version"], name="ncprogram_unique"),
            models.CheckConstraint(
                condition=Q(machine__isnull=False) | Q(work_center__isnull=False),
                name="ncprogram_has_machine_or_family",
                violation_error_message="Choose the machine or the work center the program is for.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program_number} v{self.version}"


class RoutingStep(TimeStampedModel):
    routing = models.ForeignKey(Routing, on_delete=models.CASCADE, related_name="steps")
    operation_number = models.PositiveSmallIntegerField(help_text="10, 20, 30…")
    name = models.CharField(max_length=100)
    work_center = models.ForeignKey(WorkCenter, on_delete=models.PROTECT, null=True, blank=True)
    kind = models.CharField(max_length=10, choices=StepKind.choices, default=StepKind.INTERNAL)
    setup_minutes = models.DecimalField(max_digits=8, decimal_places=2, default=0, validators=NON_NEGATIVE)
    cycle_minutes = models.DecimalField(max_digits=8, decimal_places=2, default=0, validators=NON_NEGATIVE)
    parts_per_cycle = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    min_wait_minutes = models.PositiveIntegerField(default=0, help_text="Minimum wait after this step.")
    fixture = models.ForeignKey(Fixture, on_delete=models.PROTECT, null=True, blank=True)
    material = models.CharField(max_length=100, blank=True)
    tool_kit = models.CharField(max_length=50, blank=True)
    nc_program = models.ForeignKey(NCProgram, on_delete=models.PROTECT, null=True, blank=True)
    needs_first_article = models.BooleanField(default=False)
    instructions = models.TextField(blank=True)
    vendor = models.CharField(max_length=100, blank=True)
    lead_days = models.PositiveSmallIntegerField(default=0)
    outside_cost = models.DecimalField(max_digits=10, decimal_places=2, default=0, validators=NON_NEGATIVE)
    history = HistoricalRecords()

    class Meta:
        ordering = ["routing", "operation_number"]
        constraints = [
            models.UniqueConstraint(fields=["routing", "operation_number"], name="routingstep_unique_number"),
            models.CheckConstraint(
                condition=Q(setup_minutes__gte=0, cycle_minutes__gte=0, outside_cost__gte=0, parts_per_cycle__gte=1),
                name="routingstep_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(kind=StepKind.OUTSIDE) | Q(work_center__isnull=False),
                name="routingstep_internal_has_work_center",
                violation_error_message="An internal step needs a work center.",
            ),
            models.CheckConstraint(
                condition=Q(kind=StepKind.INTERNAL) | ~Q(vendor=""),
                name="routingstep_outside_has_vendor",
                violation_error_message="An outside-processing step needs a vendor.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.operation_number} {self.name}"


class RoutingStepMachine(models.Model):
    """A ranked eligible machine for a step, with optional setup and cycle overrides."""

    step = models.ForeignKey(RoutingStep, on_delete=models.CASCADE, related_name="eligible_machines")
    machine = models.ForeignKey(Machine, on_delete=models.PROTECT)
    rank = models.PositiveSmallIntegerField(default=1)
    setup_minutes = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True, validators=NON_NEGATIVE)
    cycle_minutes = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True, validators=NON_NEGATIVE)

    class Meta:
        ordering = ["step", "rank"]
        constraints = [models.UniqueConstraint(fields=["step", "machine"], name="routingstepmachine_unique")]

    def __str__(self) -> str:
        return f"{self.step} on {self.machine.code} (rank {self.rank})"


class RoutingStepAttachment(TimeStampedModel):
    step = models.ForeignKey(RoutingStep, on_delete=models.CASCADE, related_name="attachments")
    title = models.CharField(max_length=100, help_text="Setup sheet, photo…")
    file = models.FileField(upload_to="routing_attachments/")

    def __str__(self) -> str:
        return self.title


class ScrapReason(TimeStampedModel):
    code = models.CharField(max_length=20, unique=True)
    label = models.CharField(max_length=100)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"


class Job(TimeStampedModel):
    """A work order; its printed form is the traveler."""

    number = models.CharField(max_length=30, unique=True)
    order_line = models.ForeignKey(SalesOrderLine, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="jobs", help_text="Empty for R&D and stock work.")
    part_revision = models.ForeignKey(PartRevision, on_delete=models.PROTECT, related_name="jobs")
    routing = models.ForeignKey(Routing, on_delete=models.PROTECT, null=True, blank=True, editable=False,
                                help_text="The routing version frozen at release.")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    due_date = models.DateField()
    priority = models.PositiveSmallIntegerField(default=3, validators=[MinValueValidator(1)],
                                                help_text="1 is the most urgent.")
    material_status = models.CharField(max_length=20, choices=MaterialStatus.choices,
                                       default=MaterialStatus.NOT_ORDERED)
    material_expected_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.PLANNED, editable=False)
    released_at = models.DateTimeField(null=True, blank=True, editable=False)
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    editable=False, related_name="+")
    notes = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["due_date", "priority", "number"]
        verbose_name = "job (work order)"
        permissions = [("release_job", "Can release a job")]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="job_quantity_positive"),
            models.CheckConstraint(condition=Q(priority__gte=1), name="job_priority_positive"),
        ]
        # updated_at: the live board's change check reads its newest value on every poll
        indexes = [models.Index(fields=["status", "due_date"]), models.Index(fields=["updated_at"])]

    def __str__(self) -> str:
        return self.number

    def clean(self) -> None:
        if self.order_line_id and self.part_revision_id and self.order_line.part_revision_id != self.part_revision_id:
            raise ValidationError({"part_revision": f"Order line {self.order_line} is for "
                                                    f"{self.order_line.part_revision}, not this revision."})


class MaterialLot(TimeStampedModel):
    """One heat or lot of material used by a job; a job can use several."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="material_lots")
    material = models.CharField(max_length=100)
    heat_number = models.CharField(max_length=50)
    certificate_number = models.CharField(max_length=50, blank=True)
    supplier = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "heat_number"], name="materiallot_unique")]

    def __str__(self) -> str:
        return f"{self.material} heat {self.heat_number}"


class SerialNumber(models.Model):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="serial_numbers")
    serial = models.CharField(max_length=50)

    class Meta:
        ordering = ["job", "serial"]
        constraints = [models.UniqueConstraint(fields=["job", "serial"], name="serialnumber_unique")]

    def __str__(self) -> str:
        return self.serial


class JobOperation(TimeStampedModel):
    """The unit that is scheduled and executed: a frozen copy of a routing step."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="operations")
    routing_step = models.ForeignKey(RoutingStep, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    operation_number = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=100)
    work_center = models.ForeignKey(WorkCenter, on_delete=models.PROTECT, null=True, blank=True)
    kind = models.CharField(max_length=10, choices=StepKind.choices, default=StepKind.INTERNAL)
    setup_minutes = models.DecimalField(max_digits=8, decimal_places=2, default=0, validators=NON_NEGATIVE)
    cycle_minutes = models.DecimalField(max_digits=8, decimal_places=2, default=0, validators=NON_NEGATIVE)
    parts_per_cycle = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    min_wait_minutes = models.PositiveIntegerField(default=0)
    fixture = models.ForeignKey(Fixture, on_delete=models.PROTECT, null=True, blank=True)
    material = models.CharField(max_length=100, blank=True)
    tool_kit = models.CharField(max_length=50, blank=True)
    nc_program = models.ForeignKey(NCProgram, on_delete=models.PROTECT, null=True, blank=True)
    instructions = models.TextField(blank=True)
    vendor = models.CharField(max_length=100, blank=True)
    lead_days = models.PositiveSmallIntegerField(default=0)
    outside_cost = models.DecimalField(max_digits=10, decimal_places=2, default=0, validators=NON_NEGATIVE)
    eligible_machines = models.ManyToManyField(Machine, through="JobOperationMachine", related_name="+")
    machine = models.ForeignKey(Machine, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="operations", help_text="The machine it is set up or run on.")
    status = models.CharField(max_length=20, choices=OperationStatus.choices, default=OperationStatus.PENDING)
    resume_status = models.CharField(max_length=20, choices=OperationStatus.choices, blank=True,
                                     help_text="Where a paused or held operation goes back to.")
    pause_reason = models.ForeignKey(DowntimeReason, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    first_article = models.CharField(max_length=10, choices=FirstArticleRequirement.choices,
                                     default=FirstArticleRequirement.NONE)
    first_article_reason = models.CharField(max_length=200, blank=True)
    production_gate_open = models.BooleanField(
        default=True, help_text="Closed while a required first article is not approved."
    )
    rework_of = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="reworks")
    closed_short_reason = models.CharField(max_length=200, blank=True)
    sent_on = models.DateField(null=True, blank=True)
    vendor_certificate_number = models.CharField(max_length=50, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["job", "operation_number"]
        verbose_name = "operation"
        permissions = [("run_operation", "Can run operations at a machine"), ("hold_operation", "Can hold operations")]
        constraints = [
            models.UniqueConstraint(fields=["job", "operation_number"], name="joboperation_unique_number"),
            models.CheckConstraint(
                condition=Q(setup_minutes__gte=0, cycle_minutes__gte=0, outside_cost__gte=0, parts_per_cycle__gte=1),
                name="joboperation_non_negative",
            ),
        ]
        indexes = [models.Index(fields=["status"]), models.Index(fields=["machine", "status"]),
                   models.Index(fields=["updated_at"])]

    def __str__(self) -> str:
        return f"{self.job.number}/{self.operation_number} {self.name}"


class JobOperationMachine(models.Model):
    """An eligible machine of an operation, frozen at release with its standards and rate."""

    operation = models.ForeignKey(JobOperation, on_delete=models.CASCADE, related_name="machine_options")
    machine = models.ForeignKey(Machine, on_delete=models.PROTECT, related_name="+")
    rank = models.PositiveSmallIntegerField(default=1)
    setup_minutes = models.DecimalField(max_digits=8, decimal_places=2, validators=NON_NEGATIVE)
    cycle_minutes = models.DecimalField(max_digits=8, decimal_places=2, validators=NON_NEGATIVE)
    hourly_rate = models.DecimalField(max_digits=8, decimal_places=2, validators=NON_NEGATIVE)

    class Meta:
        ordering = ["operation", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["operation", "machine"], name="joboperationmachine_unique"),
            models.CheckConstraint(condition=Q(setup_minutes__gte=0, cycle_minutes__gte=0, hourly_rate__gte=0),
                                   name="joboperationmachine_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.operation} on {self.machine.code}"


class LabourEntry(models.Model):
    operator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="labour_entries")
    operation = models.ForeignKey(JobOperation, on_delete=models.PROTECT, related_name="labour_entries")
    machine = models.ForeignKey(Machine, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    activity = models.CharField(max_length=10, choices=Activity.choices)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name_plural = "labour entries"
        indexes = [models.Index(fields=["operation", "activity"]), models.Index(fields=["started_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                                   name="labourentry_ends_after_start"),
            models.UniqueConstraint(fields=["operator", "operation"], condition=Q(ended_at__isnull=True),
                                    name="labourentry_one_open_per_operator_operation"),
        ]

    def __str__(self) -> str:
        return f"{self.operator} {self.activity} {self.operation}"


class ProductionEntry(models.Model):
    """Quantities are summed from these entries, never typed over."""

    operator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    operation = models.ForeignKey(JobOperation, on_delete=models.PROTECT, related_name="production_entries")
    machine = models.ForeignKey(Machine, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    quantity_good = models.PositiveIntegerField(default=0)
    quantity_scrap = models.PositiveIntegerField(default=0)
    quantity_rework = models.PositiveIntegerField(default=0)
    scrap_reason = models.ForeignKey(ScrapReason, on_delete=models.PROTECT, null=True, blank=True)
    recorded_at = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-recorded_at"]
        verbose_name_plural = "production entries"
        indexes = [models.Index(fields=["recorded_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity_good__gte=0, quantity_scrap__gte=0, quantity_rework__gte=0),
                name="productionentry_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(quantity_good__gt=0) | Q(quantity_scrap__gt=0) | Q(quantity_rework__gt=0),
                name="productionentry_not_empty",
                violation_error_message="Report at least one piece.",
            ),
            models.CheckConstraint(
                condition=Q(quantity_scrap=0) | Q(scrap_reason__isnull=False),
                name="productionentry_scrap_has_reason",
                violation_error_message="Scrap needs a reason.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.operation}: {self.quantity_good} good, {self.quantity_scrap} scrap"


class OperationEvent(models.Model):
    """Every action on an operation: who, when, at which terminal, and what changed."""

    operation = models.ForeignKey(JobOperation, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=30)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    terminal = models.CharField(max_length=50, blank=True)
    at = models.DateTimeField()
    from_status = models.CharField(max_length=20, choices=OperationStatus.choices)
    to_status = models.CharField(max_length=20, choices=OperationStatus.choices)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["operation", "at"])]

    def __str__(self) -> str:
        return f"{self.operation} {self.action} by {self.user} at {self.at:%Y-%m-%d %H:%M}"


class ScheduleRun(TimeStampedModel):
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    parameters = models.JSONField(default=dict, blank=True)
    problem = models.JSONField(default=dict, blank=True, help_text="Snapshot of the problem solved.")
    status = models.CharField(max_length=10, choices=ScheduleRunStatus.choices, default=ScheduleRunStatus.QUEUED)
    progress = models.FloatField(default=0)
    message = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    edited = models.BooleanField(default=False, help_text="Entries were moved after the run: re-run before publishing.")
    figures = models.JSONField(default=dict, blank=True, help_text="Objective figures of this run.")
    baseline_figures = models.JSONField(default=dict, blank=True, help_text="The dispatch baseline's figures.")
    published = models.BooleanField(default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")

    class Meta:
        ordering = ["-created_at"]
        permissions = [("run_schedule", "Can run the scheduler"), ("publish_schedule", "Can publish a schedule")]
        constraints = [
            models.UniqueConstraint(fields=["published"], condition=Q(published=True),
                                    name="schedulerun_one_published",
                                    violation_error_message="Another schedule is published."),
            # With the check in schedule_run_request: one run at a time, even when two planners ask at once.
            models.UniqueConstraint(fields=["status"], condition=Q(status__in=ScheduleRunStatus.unfinished()),
                                    name="schedulerun_one_unfinished_per_status",
                                    violation_error_message="Another schedule run is queued or running."),
            models.CheckConstraint(condition=Q(progress__gte=0, progress__lte=1), name="schedulerun_progress_range"),
            models.CheckConstraint(condition=Q(published=False) | Q(status=ScheduleRunStatus.SUCCEEDED),
                                   name="schedulerun_published_succeeded"),
        ]

    def __str__(self) -> str:
        return f"Schedule run {self.pk} ({self.status})"


class ScheduleEntry(models.Model):
    run = models.ForeignKey(ScheduleRun, on_delete=models.CASCADE, related_name="entries")
    operation = models.ForeignKey(JobOperation, on_delete=models.CASCADE, related_name="schedule_entries")
    machine = models.ForeignKey(Machine, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    changeover_minutes = models.PositiveIntegerField(default=0)
    sequence = models.PositiveIntegerField(default=0, help_text="Position on its machine.")
    locked = models.BooleanField(default=False)

    class Meta:
        ordering = ["run", "machine", "sequence"]
        verbose_name_plural = "schedule entries"
        constraints = [
            models.UniqueConstraint(fields=["run", "operation"], name="scheduleentry_unique_operation"),
            models.CheckConstraint(condition=Q(ends_at__gte=F("starts_at")), name="scheduleentry_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.operation} on {self.machine} at {self.starts_at:%Y-%m-%d %H:%M}"
