from django.db import models


class Designator(models.TextChoices):
    NONE = "none", "None"
    KEY = "key", "Key"
    CRITICAL = "critical", "Critical"


class RequirementKind(models.TextChoices):
    VARIABLE = "variable", "Nominal with limits"
    ATTRIBUTE = "attribute", "Attribute"


class Sampling(models.TextChoices):
    FIRST_ARTICLE_ONLY = "fai_only", "First article only"
    FIRST_LAST = "first_last", "First and last piece"
    EVERY_NTH = "every_nth", "Every Nth piece"
    ALL = "all", "Every piece"


class GaugeStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    DUE_SOON = "due_soon", "Due soon"
    OVERDUE = "overdue", "Overdue"
    OUT_FOR_CALIBRATION = "out_for_calibration", "Out for calibration"
    QUARANTINED = "quarantined", "Quarantined"
    RETIRED = "retired", "Retired"

    @classmethod
    def usable(cls) -> tuple[str, ...]:
        return (cls.ACTIVE, cls.DUE_SOON)

    @classmethod
    def set_by_hand(cls) -> tuple[str, ...]:
        """The statuses an inspector sets; the calendar sets the others."""
        return (cls.OUT_FOR_CALIBRATION, cls.QUARANTINED, cls.RETIRED)


class ReportStatus(models.TextChoices):
    OPEN = "open", "Open"
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class FAIType(models.TextChoices):
    FULL = "full", "Full"
    PARTIAL = "partial", "Partial"


class FormTwoKind(models.TextChoices):
    MATERIAL = "material", "Material"
    SPECIAL_PROCESS = "special_process", "Special process"
    FUNCTIONAL_TEST = "functional_test", "Functional test"


class Verdict(models.TextChoices):
    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"


class InspectionKind(models.TextChoices):
    IN_PROCESS = "in_process", "In-process"
    FINAL = "final", "Final"


class NCSource(models.TextChoices):
    FIRST_ARTICLE = "first_article", "First article"
    IN_PROCESS = "in_process", "In-process"
    FINAL = "final", "Final"


class Disposition(models.TextChoices):
    PENDING = "pending", "Pending"
    REWORK = "rework", "Rework"
    SCRAP = "scrap", "Scrap"
    USE_AS_IS = "use_as_is", "Use as is"
    RETURN = "return", "Return to supplier"


class NCStatus(models.TextChoices):
    OPEN = "open", "Open"
    DISPOSITIONED = "dispositioned", "Dispositioned"
    CLOSED = "closed", "Closed"
