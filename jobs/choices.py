from django.db import models


class PartRevisionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    RELEASED = "released", "Released"
    OBSOLETE = "obsolete", "Obsolete"


class StepKind(models.TextChoices):
    INTERNAL = "internal", "Internal"
    OUTSIDE = "outside", "Outside processing"


class NCProgramStatus(models.TextChoices):
    UNPROVEN = "unproven", "Unproven"
    PROVEN = "proven", "Proven"
    OBSOLETE = "obsolete", "Obsolete"


class MaterialStatus(models.TextChoices):
    NOT_ORDERED = "not_ordered", "Not ordered"
    ORDERED = "ordered", "Ordered"
    RECEIVED = "received", "Received"
    CUT = "cut", "Cut"

    @classmethod
    def available(cls) -> tuple[str, ...]:
        return (cls.RECEIVED, cls.CUT)


class JobStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    RELEASED = "released", "Released"
    IN_PROGRESS = "in_progress", "In progress"
    ON_HOLD = "on_hold", "On hold"
    COMPLETE = "complete", "Complete"
    CANCELLED = "cancelled", "Cancelled"

    @classmethod
    def open(cls) -> tuple[str, ...]:
        return (cls.PLANNED, cls.RELEASED, cls.IN_PROGRESS, cls.ON_HOLD)


class OperationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    READY = "ready", "Ready"
    SETUP = "setup", "Setup"
    FIRST_ARTICLE = "first_article", "First article"
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    ON_HOLD = "on_hold", "On hold"
    SENT = "sent", "Sent out"
    DONE = "done", "Done"

    @classmethod
    def active(cls) -> tuple[str, ...]:
        """On a machine now."""
        return (cls.SETUP, cls.FIRST_ARTICLE, cls.RUNNING, cls.PAUSED)

    @classmethod
    def open(cls) -> tuple[str, ...]:
        return tuple(status for status in cls.values if status != cls.DONE)


class FirstArticleRequirement(models.TextChoices):
    NONE = "none", "Not required"
    FULL = "full", "Full"
    PARTIAL = "partial", "Partial"


class Activity(models.TextChoices):
    SETUP = "setup", "Setup"
    RUN = "run", "Run"


class ScheduleRunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"

    @classmethod
    def unfinished(cls) -> tuple[str, ...]:
        return (cls.QUEUED, cls.RUNNING)

