from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from core.models import TimeStampedModel
from inspection.choices import (
    Designator,
    Disposition,
    FAIType,
    FormTwoKind,
    GaugeStatus,
    InspectionKind,
    NCSource,
    NCStatus,
    ReportStatus,
    RequirementKind,
    Sampling,
    Verdict,
)
from jobs.models import Job, JobOperation, PartRevision


class GaugeType(TimeStampedModel):
    code = models.CharField(max_length=30, unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class InspectionPlan(TimeStampedModel):
    part_revision = models.OneToOneField(PartRevision, on_delete=models.PROTECT, related_name="inspection_plan")
    notes = models.TextField(blank=True)
    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"Inspection plan {self.part_revision}"


class Characteristic(TimeStampedModel):
    plan = models.ForeignKey(InspectionPlan, on_delete=models.CASCADE, related_name="characteristics")
    balloon_number = models.CharField(max_length=10)
    sheet = models.CharField(max_length=10, blank=True)
    zone = models.CharField(max_length=10, blank=True)
    designator = models.CharField(max_length=10, choices=Designator.choices, default=Designator.NONE)
    description = models.CharField(max_length=200, blank=True)
    requirement_kind = models.CharField(max_length=10, choices=RequirementKind.choices,
                                        default=RequirementKind.VARIABLE)
    nominal = models.DecimalField(max_digits=12, decimal_places=5, null=True, blank=True)
    lower_limit = models.DecimalField(max_digits=12, decimal_places=5, null=True, blank=True)
    upper_limit = models.DecimalField(max_digits=12, decimal_places=5, null=True, blank=True)
    attribute_note = models.CharField(max_length=200, blank=True, help_text="For attribute requirements.")
    unit = models.CharField(max_length=10, blank=True, default="mm")
    method = models.CharField(max_length=100, blank=True)
    gauge_type = models.ForeignKey(GaugeType, on_delete=models.PROTECT, null=True, blank=True)
    operation_number = models.PositiveSmallIntegerField(null=True, blank=True,
                                                        help_text="The routing step that produces it.")
    sampling = models.CharField(max_length=10, choices=Sampling.choices, default=Sampling.FIRST_ARTICLE_ONLY)
    sample_every = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MinValueValidator(1)])
    history = HistoricalRecords()

    class Meta:
        ordering = ["plan", "balloon_number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "balloon_number"], name="characteristic_unique_balloon"),
            models.CheckConstraint(
                condition=Q(requirement_kind=RequirementKind.ATTRIBUTE)
                | Q(nominal__isnull=False, lower_limit__isnull=False, upper_limit__isnull=False,
                    lower_limit__lte=F("nominal"), upper_limit__gte=F("nominal")),
                name="characteristic_limits_around_nominal",
                violation_error_message="A nominal requirement needs lower limit ≤ nominal ≤ upper limit.",
            ),
            models.CheckConstraint(
                condition=Q(requirement_kind=RequirementKind.VARIABLE) | ~Q(attribute_note=""),
                name="characteristic_attribute_has_note",
                violation_error_message="An attribute requirement needs its note.",
            ),
        ]

    def __str__(self) -> str:
        return f"Balloon {self.balloon_number}"


class Gauge(TimeStampedModel):
    asset_id = models.CharField("gauge ID", max_length=30, unique=True)
    gauge_type = models.ForeignKey(GaugeType, on_delete=models.PROTECT, related_name="gauges")
    description = models.CharField(max_length=200, blank=True)
    range_low = models.DecimalField(max_digits=12, decimal_places=5, null=True, blank=True)
    range_high = models.DecimalField(max_digits=12, decimal_places=5, null=True, blank=True)
    resolution = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    unit = models.CharField(max_length=10, default="mm")
    location = models.CharField(max_length=100, blank=True)
    calibration_interval_days = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    last_calibrated_on = models.DateField(null=True, blank=True)
    next_due_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=GaugeStatus.choices, default=GaugeStatus.ACTIVE)
    history = HistoricalRecords()

    class Meta:
        ordering = ["asset_id"]
        constraints = [
            models.CheckConstraint(condition=Q(calibration_interval_days__gte=1), name="gauge_interval_positive"),
            models.CheckConstraint(
                condition=Q(range_low__isnull=True) | Q(range_high__isnull=True) | Q(range_high__gte=F("range_low")),
                name="gauge_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.asset_id} {self.gauge_type}"


class Calibration(TimeStampedModel):
    gauge = models.ForeignKey(Gauge, on_delete=models.PROTECT, related_name="calibrations")
    calibrated_on = models.DateField()
    as_found_in_tolerance = models.BooleanField()
    as_found_notes = models.CharField(max_length=200, blank=True)
    as_left_in_tolerance = models.BooleanField()
    as_left_notes = models.CharField(max_length=200, blank=True)
    certificate_number = models.CharField(max_length=50)
    performed_by = models.CharField(max_length=100, help_text="Laboratory or person.")
    next_due_on = models.DateField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["gauge", "-calibrated_on"]
        constraints = [
            models.CheckConstraint(condition=Q(next_due_on__gt=F("calibrated_on")), name="calibration_due_after"),
        ]

    def __str__(self) -> str:
        return f"{self.gauge.asset_id} calibrated {self.calibrated_on}"


class NonConformance(TimeStampedModel):
    number = models.CharField(max_length=30, unique=True)
    source = models.CharField(max_length=20, choices=NCSource.choices)
    job = models.ForeignKey(Job, on_delete=models.PROTECT, related_name="nonconformances")
    operation = models.ForeignKey(JobOperation, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    quantity = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    description = models.TextField()
    root_cause = models.TextField(blank=True)
    corrective_action = models.TextField(blank=True)
    disposition = models.CharField(max_length=20, choices=Disposition.choices, default=Disposition.PENDING)
    status = models.CharField(max_length=20, choices=NCStatus.choices, default=NCStatus.OPEN)
    rework_operation = models.ForeignKey(JobOperation, on_delete=models.PROTECT, null=True, blank=True,
                                         related_name="rework_nonconformances")
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    holds_operation = models.BooleanField(default=False, editable=False,
                                          help_text="Raising it put its operation on hold until dispositioned.")
    dispositioned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                         related_name="+")
    dispositioned_at = models.DateTimeField(null=True, blank=True)
    disposition_note = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "nonconformance"
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="nonconformance_quantity_positive")]

    def __str__(self) -> str:
        return self.number


class FirstArticleReport(TimeStampedModel):
    """An AS9102 Rev C first-article inspection report (Forms 1, 2 and 3)."""

    fair_id = models.CharField("FAIR identifier", max_length=30, unique=True)
    job = models.ForeignKey(Job, on_delete=models.PROTECT, related_name="first_article_reports")
    operation = models.ForeignKey(JobOperation, on_delete=models.PROTECT, related_name="first_article_reports")
    serial_number = models.CharField(max_length=50, blank=True)
    fai_type = models.CharField(max_length=10, choices=FAIType.choices, default=FAIType.FULL)
    reason = models.CharField(max_length=200, blank=True, help_text="Why a first article is required.")
    partial_reason = models.CharField(max_length=200, blank=True)
    covered_characteristics = models.ManyToManyField(Characteristic, blank=True, related_name="+",
                                                     help_text="For a partial first article.")
    detail_or_assembly = models.CharField(max_length=10, default="detail")
    organization_name = models.CharField(max_length=100, blank=True)
    supplier_code = models.CharField(max_length=30, blank=True)
    po_number = models.CharField(max_length=50, blank=True)
    status = models.CharField(max_length=10, choices=ReportStatus.choices, default=ReportStatus.OPEN)
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", help_text="Who approved or rejected it.")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "first-article report"
        permissions = [("approve_firstarticlereport", "Can approve or reject a first-article report")]
        constraints = [
            models.CheckConstraint(condition=Q(fai_type=FAIType.FULL) | ~Q(partial_reason=""),
                                   name="fai_partial_has_reason",
                                   violation_error_message="A partial first article needs its reason."),
        ]

    def __str__(self) -> str:
        return self.fair_id


class FormTwoLine(TimeStampedModel):
    report = models.ForeignKey(FirstArticleReport, on_delete=models.CASCADE, related_name="form_two_lines")
    kind = models.CharField(max_length=20, choices=FormTwoKind.choices)
    designation = models.CharField(max_length=100, help_text="Material or process name.")
    specification = models.CharField(max_length=100)
    code = models.CharField(max_length=50, blank=True)
    supplier = models.CharField(max_length=100, blank=True)
    certificate_number = models.CharField(max_length=50, blank=True)
    functional_test_procedure = models.CharField(max_length=100, blank=True)
    acceptance_report_number = models.CharField(max_length=50, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["report", "kind", "pk"]
        verbose_name = "Form 2 line"

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.designation}"


class CharacteristicResult(TimeStampedModel):
    """A Form 3 row: what was measured for one characteristic, with which gauge."""

    report = models.ForeignKey(FirstArticleReport, on_delete=models.CASCADE, related_name="results")
    characteristic = models.ForeignKey(Characteristic, on_delete=models.PROTECT, related_name="+")
    measured_value = models.DecimalField(max_digits=12, decimal_places=5, null=True, blank=True)
    attribute_accepted = models.BooleanField(null=True, blank=True)
    gauge = models.ForeignKey(Gauge, on_delete=models.PROTECT, null=True, blank=True, related_name="fai_results")
    verdict = models.CharField(max_length=4, choices=Verdict.choices)
    nonconformance = models.ForeignKey(NonConformance, on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="+")
    measured_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    measured_at = models.DateTimeField()
    notes = models.CharField(max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["report", "characteristic__balloon_number"]
        constraints = [
            models.UniqueConstraint(fields=["report", "characteristic"], name="characteristicresult_unique"),
            models.CheckConstraint(condition=Q(measured_value__isnull=False) | Q(attribute_accepted__isnull=False),
                                   name="characteristicresult_has_value",
                                   violation_error_message="Enter a measured value or accept/reject."),
        ]

    def __str__(self) -> str:
        return f"{self.report} balloon {self.characteristic.balloon_number}: {self.verdict}"


class InspectionRecord(TimeStampedModel):
    """An in-process or final inspection of a sample of pieces."""

    job = models.ForeignKey(Job, on_delete=models.PROTECT, related_name="inspection_records")
    operation = models.ForeignKey(JobOperation, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=20, choices=InspectionKind.choices)
    sample_size = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    pieces = models.CharField(max_length=200, blank=True, help_text="Which pieces, e.g. 1, 10, 20.")
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    inspected_at = models.DateTimeField()
    accepted = models.BooleanField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-inspected_at"]
        constraints = [models.CheckConstraint(condition=Q(sample_size__gte=1), name="inspectionrecord_sample")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} inspection {self.job}"

    @property
    def label(self) -> str:
        """How pages, the recall and nonconformances name it."""
        return f"IR-{self.pk:05d}" if self.pk else "IR-new"


class InspectionReading(TimeStampedModel):
    record = models.ForeignKey(InspectionRecord, on_delete=models.CASCADE, related_name="readings")
    characteristic = models.ForeignKey(Characteristic, on_delete=models.PROTECT, related_name="+")
    piece = models.CharField(max_length=20, blank=True)
    measured_value = models.DecimalField(max_digits=12, decimal_places=5, null=True, blank=True)
    attribute_accepted = models.BooleanField(null=True, blank=True)
    gauge = models.ForeignKey(Gauge, on_delete=models.PROTECT, null=True, blank=True, related_name="readings")
    verdict = models.CharField(max_length=4, choices=Verdict.choices)
    nonconformance = models.ForeignKey(NonConformance, on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="+", help_text="Raised when the reading failed.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["record", "characteristic__balloon_number", "piece"]
        constraints = [
            models.CheckConstraint(condition=Q(measured_value__isnull=False) | Q(attribute_accepted__isnull=False),
                                   name="inspectionreading_has_value"),
        ]

    def __str__(self) -> str:
        return f"{self.record} balloon {self.characteristic.balloon_number}"
