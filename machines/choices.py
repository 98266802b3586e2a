from django.db import models


class MachineKind(models.TextChoices):
    MILL_3AXIS = "mill_3axis", "3-axis mill"
    MILL_5AXIS = "mill_5axis", "5-axis mill"
    LATHE = "lathe", "CNC lathe"
    MILL_TURN = "mill_turn", "Mill-turn"
    WIRE_EDM = "wire_edm", "Wire EDM"
    CMM = "cmm", "CMM"
    BENCH = "bench", "Bench"
    OTHER = "other", "Other"


class MachineState(models.TextChoices):
    """ISO 22400 time model, as a machine's status log records it. The last three come from the machine's own
    signals (machines/connectivity/timeline.py): an interrupted program or an alarm while an operation is on the
    machine, and the unknown time of a monitored machine that Spindle cannot read."""

    RUNNING = "running", "Running"
    SETUP = "setup", "Setup"
    IDLE = "idle", "Idle"
    DOWN = "down", "Down (unplanned)"
    PLANNED_DOWN = "planned_down", "Planned down"
    OFF_SHIFT = "off_shift", "Off shift"
    UNKNOWN = "unknown", "Unknown"
    STOPPED = "stopped", "Stopped"
    ALARM = "alarm", "Alarm"
    DISCONNECTED = "disconnected", "Disconnected"

    @classmethod
    def stops(cls) -> tuple[str, ...]:
        """States a machine falls into by itself with an operation on it: each needs the operator's reason."""
        return (cls.STOPPED, cls.ALARM)


class StateSource(models.TextChoices):
    TERMINAL = "terminal", "Terminal"
    API = "api", "API"
    MTCONNECT = "mtconnect", "MTConnect"
    SYSTEM = "system", "Spindle"


class FixtureKind(models.TextChoices):
    VISE = "vise", "Vise"
    MODULAR_PLATE = "modular_plate", "Modular plate"
    TOMBSTONE = "tombstone", "Tombstone"
    SOFT_JAWS = "soft_jaws", "Soft jaws"
    CHUCK = "chuck", "Chuck / collet"
    DEDICATED = "dedicated", "Dedicated fixture"


class FixtureStatus(models.TextChoices):
    AVAILABLE = "available", "Available"
    IN_USE = "in_use", "In use"
    MAINTENANCE = "maintenance", "In maintenance"
    RETIRED = "retired", "Retired"


class SetupAttribute(models.TextChoices):
    """What a changeover changes on a machine; the scheduler minimizes the sum of their minutes."""

    FIXTURE = "fixture", "Fixture"
    MATERIAL = "material", "Material"
    TOOL_KIT = "tool_kit", "Tool kit"
    PROGRAM = "program", "Program"


class CalendarExceptionKind(models.TextChoices):
    CLOSED = "closed", "Closed (holiday, shutdown)"
    EXTRA = "extra", "Extra working time (overtime)"


class LossCategory(models.TextChoices):
    AVAILABILITY = "availability", "Availability"
    PERFORMANCE = "performance", "Performance"
    QUALITY = "quality", "Quality"


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"
