from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from core.models import TimeStampedModel
from machines.choices import (
    CalendarExceptionKind,
    FixtureKind,
    FixtureStatus,
    LossCategory,
    MachineKind,
    MachineState,
    SetupAttribute,
    StateSource,
    Weekday,
)


class WorkCenter(TimeStampedModel):
    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "work center (machine group)"
        verbose_name_plural = "work centers (machine groups)"

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Calendar(TimeStampedModel):
    """Weekly shift windows plus dated exceptions; planned operating time comes from here."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ShiftWindow(models.Model):
    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="windows")
    name = models.CharField(max_length=50, help_text="For example: first shift.")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField(help_text="Earlier than the start when the shift runs past midnight.")
    attended = models.BooleanField(default=True, help_text="Unattended (lights-out): cycles run on, no setup starts.")

    class Meta:
        ordering = ["calendar", "weekday", "start_time"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="shiftwindow_weekday_range"),
            models.CheckConstraint(condition=~Q(start_time=F("end_time")), name="shiftwindow_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.calendar} {self.get_weekday_display()} {self.start_time:%H:%M}-{self.end_time:%H:%M}"


class CalendarException(models.Model):
    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="exceptions")
    kind = models.CharField(max_length=10, choices=CalendarExceptionKind.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    attended = models.BooleanField(default=True)
    priority = models.PositiveSmallIntegerField(default=0, help_text="Where exceptions overlap, the higher wins.")
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["calendar", "starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="calendarexception_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.calendar}: {self.get_kind_display()} {self.starts_at:%Y-%m-%d %H:%M}"


class Machine(TimeStampedModel):
    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=100)
    work_center = models.ForeignKey(WorkCenter, on_delete=models.PROTECT, related_name="machines")
    kind = models.CharField(max_length=20, choices=MachineKind.choices)
    hourly_rate = models.DecimalField(max_digits=8, decimal_places=2, default=0, validators=[MinValueValidator(0)])
    active = models.BooleanField(default=True)
    calendar = models.ForeignKey(Calendar, on_delete=models.PROTECT, related_name="machines")
    mtconnect_agent_url = models.URLField(blank=True)
    mtconnect_device = models.CharField(max_length=100, blank=True)
    # An edge device (a current clamp, a stack-light tap) posting this machine's signals with its token.
    signal_device = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="signal_machines",
        limit_choices_to={"groups__name": "device"},
        help_text="The edge device (a user of the role 'device') whose token may post this machine's signals.",
    )
    unexplained_stop_seconds = models.PositiveIntegerField(
        default=120, help_text="A stop or alarm of a monitored machine longer than this, with an operation on it, "
                               "waits for the operator's reason.")
    part_counter_counts_good = models.BooleanField(
        default=False, help_text="The control's part counter counts good parts only, not every finished cycle.")
    # The setup mounted now, kept as values: the first changeover of a schedule starts from it.
    setup_fixture = models.CharField(max_length=50, blank=True)
    setup_material = models.CharField(max_length=100, blank=True)
    setup_tool_kit = models.CharField(max_length=50, blank=True)
    setup_program = models.CharField(max_length=50, blank=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(hourly_rate__gte=0), name="machine_hourly_rate_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class MachineConnection(models.Model):
    """What a monitored machine reports and what its operator declares: written by the connectivity services
    only, at the collector's pace, so it is a row of its own rather than columns of Machine (whose row the admin
    saves whole and whose updated_at versions the board). A machine has one from its first signal on; from then
    its status log follows machines.connectivity.timeline instead of the terminal alone."""

    machine = models.OneToOneField(Machine, on_delete=models.CASCADE, primary_key=True, related_name="connection")
    connected = models.BooleanField(default=False)
    # Where the collector resumes: the agent's instanceId and the first sequence not yet applied.
    instance_id = models.CharField(max_length=100, blank=True)
    next_sequence = models.BigIntegerField(null=True, blank=True)
    last_observation_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    # The latest value of each signal and the source's time of it (machines/connectivity/signals.py).
    signals = models.JSONField(default=dict, blank=True)
    # The operator's declared activity (what machine_state_change was last told): setup, running, idle, down…
    context_state = models.CharField(max_length=20, choices=MachineState.choices, default=MachineState.IDLE)
    context_reason = models.ForeignKey("DowntimeReason", on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        permissions = [("report_machine_signals", "Can report a machine's signals (edge device)")]

    def __str__(self) -> str:
        return f"{self.machine.code} {'connected' if self.connected else 'disconnected'}"


class Fixture(TimeStampedModel):
    """One physical workholding item: a unary resource, on one machine at a time."""

    code = models.CharField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=FixtureKind.choices)
    status = models.CharField(max_length=20, choices=FixtureStatus.choices, default=FixtureStatus.AVAILABLE)
    compatible_work_centers = models.ManyToManyField(WorkCenter, related_name="fixtures", blank=True)
    mounted_on = models.ForeignKey(
        Machine, on_delete=models.PROTECT, null=True, blank=True, related_name="mounted_fixtures"
    )
    storage_location = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(mounted_on__isnull=True) | Q(status=FixtureStatus.IN_USE),
                name="fixture_mounted_means_in_use",
                violation_error_message="A fixture mounted on a machine must have the status 'in use'.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ChangeoverRule(TimeStampedModel):
    """Minutes a changeover takes on a work center when one setup attribute changes.
    "*" matches any value; the most specific rule wins, then the higher priority."""

    work_center = models.ForeignKey(WorkCenter, on_delete=models.CASCADE, related_name="changeover_rules")
    attribute = models.CharField(max_length=20, choices=SetupAttribute.choices)
    from_value = models.CharField(max_length=100, default="*")
    to_value = models.CharField(max_length=100, default="*")
    minutes = models.PositiveIntegerField()
    cost = models.DecimalField(max_digits=8, decimal_places=2, default=0, validators=[MinValueValidator(0)])
    priority = models.SmallIntegerField(default=0)

    class Meta:
        ordering = ["work_center", "attribute", "-priority"]
        constraints = [
            models.UniqueConstraint(
                fields=["work_center", "attribute", "from_value", "to_value"], name="changeoverrule_unique_match"
            ),
            models.CheckConstraint(condition=Q(cost__gte=0), name="changeoverrule_cost_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.work_center.code} {self.attribute} {self.from_value}->{self.to_value}: {self.minutes} min"


class DowntimeReason(TimeStampedModel):
    code = models.CharField(max_length=20, unique=True)
    label = models.CharField(max_length=100)
    planned = models.BooleanField(default=False)
    loss_category = models.CharField(max_length=20, choices=LossCategory.choices, default=LossCategory.AVAILABILITY)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["planned", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"


class MachineStateEvent(models.Model):
    """The machine status log: intervals that never overlap; the open one is the current state.
    It records what the machine did, not which operation: the jobs app keeps that."""

    machine = models.ForeignKey(Machine, on_delete=models.PROTECT, related_name="state_events")
    state = models.CharField(max_length=20, choices=MachineState.choices)
    reason = models.ForeignKey(DowntimeReason, on_delete=models.PROTECT, null=True, blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=20, choices=StateSource.choices, default=StateSource.TERMINAL)
    note = models.CharField(max_length=200, blank=True)
    # Seconds the machine spent in each state before this interval: the sum of its earlier intervals, which
    # are all closed when this one opens. The time in a state between two instants then takes two rows, not
    # every row in between (the reports). Written with the interval; `state_totals_rebuild` recomputes it.
    seconds_before = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        ordering = ["machine", "started_at"]
        permissions = [("report_machine_state", "Can report a machine's state")]
        indexes = [models.Index(fields=["machine", "started_at"]), models.Index(fields=["started_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["machine"], condition=Q(ended_at__isnull=True), name="statevent_one_open_per_machine",
                violation_error_message="This machine already has an open state.",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                name="stateevent_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.machine.code} {self.state} from {self.started_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        # Services set the totals under the machine's lock; a row created directly (tests, shell) gets them
        # from the interval before it.
        if self._state.adding and not self.seconds_before:
            previous = (MachineStateEvent.objects.filter(machine_id=self.machine_id, started_at__lt=self.started_at)
                        .order_by("-started_at").first())
            if previous is not None:
                self.seconds_before = previous.seconds_after(until=self.started_at)
        super().save(*args, **kwargs)

    def seconds_after(self, until=None) -> dict[str, float]:
        """`seconds_before` of the interval that follows this one: this one counted up to its end (or
        `until` while it is open)."""
        end = self.ended_at or until or self.started_at
        totals = dict(self.seconds_before)
        seconds = (end - self.started_at).total_seconds()
        if seconds > 0:
            totals[self.state] = totals.get(self.state, 0.0) + seconds
        return totals
