"""`manage.py seed_demo`: a believable high-mix CNC shop, written through the services of the apps.

Deterministic for a seed on a given day: every choice comes from one random.Random(seed) and every time is
placed relative to today's local midnight; only the machines' current states are cut at the moment it runs.
Idempotent: a shop that already has the demo's work centers is left as it is."""

import bisect
import datetime as dt
import hashlib
import heapq
import itertools
import math
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models, transaction
from django.db.models import Prefetch
from django.utils import timezone

from core.errors import ApplicationError
from core.roles import ROLES
from core.services import record_create, record_update
from inspection.choices import Designator, GaugeStatus, RequirementKind, Sampling
from inspection.models import Characteristic, Gauge, GaugeType, InspectionPlan
from inspection.services import gauge_calibrate
from jobs.choices import (
    Activity,
    FirstArticleRequirement,
    JobStatus,
    MaterialStatus,
    NCProgramStatus,
    OperationStatus,
    PartRevisionStatus,
    StepKind,
)
from jobs.models import (
    Customer,
    Job,
    JobOperation,
    JobOperationMachine,
    LabourEntry,
    MaterialLot,
    NCProgram,
    Part,
    PartRevision,
    ProductionEntry,
    Routing,
    RoutingStep,
    RoutingStepMachine,
    SalesOrder,
    SalesOrderLine,
    ScrapReason,
    SerialNumber,
)
from jobs.services import (
    FinishedOperation,
    LabourSpan,
    job_create,
    job_release,
    nc_program_mark_proven,
    operation_first_piece,
    operation_report,
    operation_start_setup,
    operations_import_finished,
    part_revision_release,
)
from machines.choices import (
    CalendarExceptionKind,
    FixtureKind,
    FixtureStatus,
    LossCategory,
    MachineKind,
    MachineState,
    SetupAttribute,
    StateSource,
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
from machines.selectors import calendar_windows
from machines.services import Interval, state_events_import

MINUTE = dt.timedelta(minutes=1)
DAY = dt.timedelta(days=1)

# --- Sizes ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Size:
    machines: dict[str, int]  # machines per work center
    fixture_sets: int  # how many times the fixture table is bought
    parts: int
    history_days: int  # machine state history
    job_history_days: int  # completed jobs; before them a machine's work is logged without jobs
    history_jobs: int  # jobs started in the job history; those not finished stay open
    open_jobs: int  # open jobs in all, the unfinished history jobs included
    running_minutes: int  # mean uninterrupted running interval: sets the number of state events


SIZES = {
    "small": Size(machines={"MILL3": 4, "MILL5": 2, "LATHE": 4, "EDM": 1, "CMM": 1, "DEBURR": 2}, fixture_sets=1,
                  parts=40, history_days=90, job_history_days=90, history_jobs=165, open_jobs=80,
                  running_minutes=120),
    # Jobs for the last six weeks only: through the services they cost far more than the state events do.
    "large": Size(machines={"MILL3": 17, "MILL5": 9, "LATHE": 17, "EDM": 4, "CMM": 4, "DEBURR": 9}, fixture_sets=3,
                  parts=150, history_days=365, job_history_days=42, history_jobs=330, open_jobs=400,
                  running_minutes=16),
}

# --- Data tables ---------------------------------------------------------------------------------------------

DEMO_PASSWORD = "spindle-demo"
DEMO_USERS = [
    # username (= role), first name, last name, may use the admin site
    ("operator", "Marco", "Reyes", False),
    ("inspector", "Priya", "Natarajan", True),
    ("planner", "Dana", "Kowalski", True),
    ("manager", "Tom", "Becker", True),
    ("admin", "Sam", "Whitfield", True),
]
# Operators who never log in to the demo: they make the labour history look like a crew's.
CREW = [("jlee", "Jin", "Lee"), ("kwashington", "Kendra", "Washington"), ("bmiller", "Brian", "Miller")]

TWO_SHIFTS = "Two shifts"
LIGHTS_OUT = "Two shifts + lights-out"
FIRST_SHIFT = ("First shift", dt.time(6, 0), dt.time(14, 30), True)
SECOND_SHIFT = ("Second shift", dt.time(14, 30), dt.time(23, 0), True)
CALENDARS = [
    (TWO_SHIFTS, "Monday to Friday, two attended shifts; weekends off.", [FIRST_SHIFT, SECOND_SHIFT]),
    (LIGHTS_OUT, "Two attended shifts, then unattended overnight: a running cycle goes on, no setup starts.",
     [FIRST_SHIFT, SECOND_SHIFT, ("Lights-out", dt.time(23, 0), dt.time(6, 0), False)]),
]
WORKDAYS = range(5)  # Monday to Friday

WORK_CENTERS = [
    # code, name, description, machine code prefix, machine models (name, kind, hourly rate) bought in turn
    ("MILL3", "3-axis mills", "Vertical machining centers for prismatic work.", "VMC", [
        ("Haas VF-2SS", MachineKind.MILL_3AXIS, 85), ("Haas VF-2SS", MachineKind.MILL_3AXIS, 85),
        ("Haas VF-4", MachineKind.MILL_3AXIS, 90), ("Okuma Genos M560-V", MachineKind.MILL_3AXIS, 105)]),
    ("MILL5", "5-axis mills", "Simultaneous 5-axis machining centers.", "5AX", [
        ("DMG MORI DMU 50", MachineKind.MILL_5AXIS, 165), ("Hermle C 42 U", MachineKind.MILL_5AXIS, 175)]),
    ("LATHE", "CNC lathes and mill-turn", "Turning centers; the mill-turn also mills off-center features.", "LTH", [
        ("Okuma LB3000 EX II", MachineKind.LATHE, 95), ("Haas ST-20Y", MachineKind.LATHE, 80),
        ("Doosan Lynx 2100", MachineKind.LATHE, 80), ("Mazak Integrex i-200S", MachineKind.MILL_TURN, 140)]),
    ("EDM", "Wire EDM", "Wire erosion; runs on unattended overnight.", "EDM", [
        ("Sodick AG400L", MachineKind.WIRE_EDM, 70)]),
    ("CMM", "Coordinate measuring", "CMM inspection in the quality lab.", "CMM", [
        ("Zeiss Contura", MachineKind.CMM, 95)]),
    ("DEBURR", "Deburr bench", "Manual deburr, wash and part marking.", "DBR", [
        ("Deburr bench", MachineKind.BENCH, 45)]),
]
# A wire EDM and a pallet-changer 5-axis run on unattended after the second shift.
LIGHTS_OUT_MODELS = ("Sodick AG400L", "Hermle C 42 U")
MONITORED_KINDS = (MachineKind.MILL_3AXIS, MachineKind.MILL_5AXIS, MachineKind.LATHE, MachineKind.MILL_TURN,
                   MachineKind.WIRE_EDM)

FIXTURES = [
    # code prefix, name, kind, compatible work centers, how many in one set
    ("VS", "Kurt DX6 6-inch vise", FixtureKind.VISE, ("MILL3", "MILL5"), 8),
    ("MG", "Lang Makro-Grip 5-axis vise", FixtureKind.VISE, ("MILL5",), 3),
    ("MP", "Jergens ball-lock modular plate", FixtureKind.MODULAR_PLATE, ("MILL3", "MILL5"), 3),
    ("TB", "Four-sided tombstone", FixtureKind.TOMBSTONE, ("MILL3",), 2),
    ("DF", "Dedicated fixture plate", FixtureKind.DEDICATED, ("MILL3", "MILL5"), 3),
    ("SJ", "Soft jaws, 8-inch chuck", FixtureKind.SOFT_JAWS, ("LATHE",), 4),
    ("CC", "5C collet chuck", FixtureKind.CHUCK, ("LATHE",), 3),
    ("EV", "System 3R EDM vise", FixtureKind.VISE, ("EDM",), 2),
    ("CP", "CMM fixture plate kit", FixtureKind.MODULAR_PLATE, ("CMM",), 2),
]
# Out of service, so never chosen for a routing step.
FIXTURES_OUT = {"VS-08": (FixtureStatus.MAINTENANCE, "Maintenance bench"),
                "SJ-04": (FixtureStatus.RETIRED, "Scrap rack")}

# "*" to "*" minutes per work center for fixture, material, tool kit and program changes.
CHANGEOVER_MINUTES = {
    "MILL3": (40, 10, 25, 5), "MILL5": (50, 10, 30, 5), "LATHE": (35, 15, 20, 5),
    "EDM": (25, 5, 10, 5), "CMM": (10, 0, 0, 5), "DEBURR": (5, 0, 0, 0),
}
CHANGEOVER_ATTRIBUTES = (SetupAttribute.FIXTURE, SetupAttribute.MATERIAL, SetupAttribute.TOOL_KIT,
                         SetupAttribute.PROGRAM)
CHANGEOVER_SPECIFIC = [
    # work center, attribute, from, to, minutes
    ("MILL3", SetupAttribute.FIXTURE, "*", "TB-01", 75),  # a tombstone needs the crane and re-indicating
    ("MILL3", SetupAttribute.FIXTURE, "TB-01", "*", 45),
    ("MILL3", SetupAttribute.FIXTURE, "*", "TB-02", 75),
    ("MILL3", SetupAttribute.FIXTURE, "TB-02", "*", 45),
    ("LATHE", SetupAttribute.FIXTURE, "SJ-01", "SJ-02", 15),  # twin jaw sets bored to one diameter
    ("MILL3", SetupAttribute.MATERIAL, "*", "Ti-6Al-4V", 25),  # richer coolant, through-spindle coolant on
    ("MILL5", SetupAttribute.MATERIAL, "*", "Ti-6Al-4V", 25),
    ("MILL3", SetupAttribute.MATERIAL, "PEEK", "*", 20),  # plastic chips out of the coolant
    ("LATHE", SetupAttribute.MATERIAL, "*", "17-4PH", 20),
    ("MILL3", SetupAttribute.TOOL_KIT, "TK-M-AL", "TK-M-PL", 10),  # plastics share most aluminium tools
    ("MILL3", SetupAttribute.TOOL_KIT, "TK-M-PL", "TK-M-AL", 10),
    ("LATHE", SetupAttribute.TOOL_KIT, "TK-L-AL", "TK-L-PL", 8),
]

DOWNTIME_REASONS = [
    # code, label, planned, loss category, minutes when it happens
    ("BREAK", "Break", True, LossCategory.AVAILABILITY, (15, 30)),
    ("PM", "Preventive maintenance", True, LossCategory.AVAILABILITY, (90, 240)),
    ("MEETING", "Meeting or training", True, LossCategory.AVAILABILITY, (30, 60)),
    ("TOOL", "Tool breakage", False, LossCategory.AVAILABILITY, (10, 40)),
    ("ALARM", "Machine alarm", False, LossCategory.AVAILABILITY, (5, 60)),
    ("MATERIAL", "Waiting for material", False, LossCategory.AVAILABILITY, (30, 180)),
    ("INSPECT", "Waiting for inspection", False, LossCategory.AVAILABILITY, (20, 75)),
    ("PROGRAM", "Program issue", False, LossCategory.AVAILABILITY, (15, 60)),
    ("MINOR", "Minor stop (chips, load/unload)", False, LossCategory.PERFORMANCE, (1, 6)),
    ("OFFSET", "Offset adjustment after a bad piece", False, LossCategory.QUALITY, (10, 30)),
]
# What happens in working time with no operation on the machine ("" = it stays idle), and what stops a run.
GAP_EVENTS = [("", 45), ("BREAK", 20), ("MEETING", 8), ("MATERIAL", 6), ("ALARM", 3), ("PROGRAM", 3), ("PM", 4)]
RUN_STOPS = [("MINOR", 80), ("TOOL", 7), ("ALARM", 7), ("OFFSET", 6)]

SCRAP_REASONS = [
    ("DIM", "Dimension out of tolerance"), ("FINISH", "Surface finish or cosmetic damage"),
    ("SETUP", "Setup piece"), ("MATERIAL", "Material defect"), ("HANDLING", "Handling damage"),
    ("PROGRAM", "Program error"), ("TOOL", "Broken tool damaged the part"),
]

GAUGE_TYPES = [
    ("CALIPER", "Caliper"), ("MICROMETER", "Micrometer"), ("HEIGHT", "Height gauge"), ("PIN", "Pin gauge"),
    ("THREAD", "Thread gauge"), ("CMM", "CMM"), ("BORE", "Bore gauge"), ("INDICATOR", "Surface plate indicator"),
]
GAUGES = [
    # type, asset id prefix, description, range low, range high, resolution, unit, interval days, how many
    ("CALIPER", "CAL", "Mitutoyo 500-196 digital caliper 0-150 mm", "0", "150", "0.01", "mm", 180, 6),
    ("MICROMETER", "MIC", "Mitutoyo 293 outside micrometer 0-25 mm", "0", "25", "0.001", "mm", 365, 3),
    ("MICROMETER", "MIC", "Mitutoyo 293 outside micrometer 25-50 mm", "25", "50", "0.001", "mm", 365, 2),
    ("HEIGHT", "HG", "Mitutoyo QM-Height 0-350 mm", "0", "350", "0.001", "mm", 365, 2),
    ("PIN", "PIN", "Meyer class ZZ pin gauge set 0.061-0.250 in", "0.061", "0.25", "0.0001", "in", 730, 2),
    ("THREAD", "THR", "Thread plug gauges GO/NOGO, M3-M12 and #4-40 to 1/2-13", None, None, None, "mm", 365, 3),
    ("CMM", "CMM", "Zeiss Contura probe system", "0", "1000", "0.0001", "mm", 365, 1),
    ("BORE", "BOR", "Fowler bore gauge 18-35 mm", "18", "35", "0.001", "mm", 180, 2),
    ("INDICATOR", "DTI", "Mitutoyo dial test indicator 0.8 mm", "0", "0.8", "0.002", "mm", 180, 4),
]
GAUGE_LOCATIONS = ["QC lab", "Mill cell cart", "Lathe cell cart", "Tool crib", "Deburr bench drawer"]
CALIBRATION_LABS = ["Mitutoyo America calibration lab", "Precision Metrology Services", "In-house (QA)"]

CUSTOMERS = [
    # code, name, industry
    ("NWA", "Northwind Aerostructures", "aero"), ("CAV", "Cobalt Avionics", "aero"),
    ("SKR", "Skyline Rotorcraft", "aero"), ("MOR", "Meridian Orthopedics", "med"),
    ("HSI", "Halcyon Surgical Instruments", "med"), ("BPD", "Bluepeak Dental Systems", "med"),
    ("PRH", "Prairie Hydraulics", "ind"), ("IBA", "Ironbridge Automation", "ind"),
    ("LPM", "Lakeshore Packaging Machinery", "ind"), ("RDM", "Redline Motorsport", "ind"),
]
INDUSTRY_MATERIALS = {
    "aero": ["7075-T651", "6061-T6", "17-4PH", "Ti-6Al-4V"],
    "med": ["Ti-6Al-4V", "316L", "PEEK", "17-4PH"],
    "ind": ["6061-T6", "6061-T6", "Delrin", "17-4PH", "316L"],
    "internal": ["6061-T6", "Delrin"],
}
MATERIALS = {
    # material: tool kit family, stock supplier, outside processes in routing order (name, vendor, lead days, cost)
    "6061-T6": ("AL", "Ryerson", [("Anodize type II, black", "Valley Anodizing", 5, "85.00")]),
    "7075-T651": ("AL", "Kaiser Aluminum", [("Hardcoat anodize type III", "Valley Anodizing", 7, "140.00")]),
    "17-4PH": ("SS", "Carpenter Technology", [("Heat treat H1025", "Bodycote Thermal Processing", 6, "120.00"),
                                               ("Passivate per AMS 2700", "Metal Finishing Co.", 4, "60.00")]),
    "316L": ("SS", "Carpenter Technology", [("Passivate per ASTM A967", "Metal Finishing Co.", 4, "60.00")]),
    "Ti-6Al-4V": ("TI", "TIMET", [("Stress relieve per AMS 2801", "Bodycote Thermal Processing", 6, "150.00")]),
    "PEEK": ("PL", "Ensinger", []),
    "Delrin": ("PL", "Curbell Plastics", []),
}
SHAPES = [
    ("Bracket", "prismatic"), ("Housing", "prismatic"), ("Manifold block", "prismatic"),
    ("Mounting plate", "prismatic"), ("Cover", "prismatic"), ("Clamp arm", "prismatic"),
    ("Sensor mount", "prismatic"), ("Actuator lever", "prismatic"), ("Shaft", "turned"), ("Bushing", "turned"),
    ("Spacer", "turned"), ("Hydraulic fitting", "turned"), ("Nozzle", "turned"), ("Hub", "turned"),
    ("Sleeve", "turned"), ("Driver shaft", "turned"), ("Locating pin", "turned"), ("Collar", "turned"),
    ("Impeller", "complex"), ("Implant trial", "complex"),
    ("Gimbal yoke", "complex"), ("Hinge fitting", "complex"),
]
QUALIFIERS = ["main", "upper", "lower", "left-hand", "right-hand", "inlet", "outlet", "rear", "front", "long"]

STEP_STANDARDS = {
    # work center: setup minutes, cycle minutes
    "MILL3": ((45, 150), (6, 40)), "MILL5": ((60, 180), (10, 45)), "LATHE": ((30, 120), (6, 35)),
    "EDM": ((30, 90), (15, 45)), "CMM": ((30, 60), (2, 8)), "DEBURR": ((5, 15), (1, 5)),
}
PROGRAMMED = ("MILL3", "MILL5", "LATHE", "EDM")  # the work centers whose steps run an NC program
MACHINING = ("MILL3", "MILL5", "LATHE", "EDM")
INSTRUCTIONS = {
    "MILL3": ["Indicate the fixed jaw within 0.01 mm; probe part zero.", "Check stock allowance before roughing.",
              "Blow out all holes before unloading."],
    "MILL5": ["Run the kinematics check at the start of the shift.", "Verify tool lengths against the setup sheet.",
              "Run the first piece at 50 % rapid."],
    "LATHE": ["Bore the soft jaws to the setup sheet diameter.", "Part-off leaves 0.3 mm on the face.",
              "Check the live-tool offsets after any tool change."],
    "EDM": ["Thread 0.25 mm brass wire and check the tension.", "Pick up the start hole with the edge finder."],
    "CMM": ["Let the part stabilize 30 min in the lab before measuring.",
            "Run the alignment, then the full program; print the report to the traveler."],
    "DEBURR": ["Break all sharp edges 0.2-0.5 mm; no burrs in the cross holes.",
               "Wash, dry, then mark the part number per the drawing note."],
}

FEATURES = [
    # description, gauge type, form: "size" (nominal ± tolerance), "form" (0 up to a tolerance) or "attribute";
    # nominal range in mm, tolerance in mm, weight
    ("Overall length", "CALIPER", "size", (20, 200), 0.1, 5),
    ("Width", "CALIPER", "size", (10, 120), 0.1, 4),
    ("Wall thickness", "MICROMETER", "size", (2, 20), 0.05, 3),
    ("Bore diameter", "BORE", "size", (18, 35), 0.013, 3),
    ("Outside diameter", "MICROMETER", "size", (5, 50), 0.013, 4),
    ("Hole diameter", "PIN", "size", (2, 6), 0.025, 4),
    ("Step height", "HEIGHT", "size", (2, 40), 0.05, 3),
    ("Hole position", "CMM", "form", (0, 0), 0.05, 4),
    ("Flatness", "INDICATOR", "form", (0, 0), 0.02, 2),
    ("Perpendicularity", "CMM", "form", (0, 0), 0.03, 2),
    ("Thread", "THREAD", "attribute", (0, 0), 0, 3),
    ("Surface finish", None, "attribute", (0, 0), 0, 2),
    ("Edge break", None, "attribute", (0, 0), 0, 1),
]
ATTRIBUTE_NOTES = {
    # description: (note in mm, note in inches, method)
    "Thread": ("M6x1.0-6H: GO enters, NOGO does not", "1/4-20 UNC-2B: GO enters, NOGO does not", "Thread plug gauge"),
    "Surface finish": ("Ra 1.6 µm max", "32 µin Ra max", "Comparator plates"),
    "Edge break": ("Break sharp edges 0.2-0.5 mm, no burrs", "Break sharp edges .008-.020, no burrs", "Visual"),
}

QUANTITIES = [(1, 4), (2, 6), (4, 8), (5, 10), (8, 8), (10, 12), (12, 8), (15, 7), (20, 10), (25, 8), (30, 6),
              (40, 5), (50, 8)]
# Repeat production makes most of a shop's machine hours: past jobs lean to larger batches.
PRODUCTION_QUANTITIES = [(5, 1), (10, 2), (12, 2), (15, 3), (20, 4), (25, 4), (30, 4), (40, 4), (50, 4), (60, 2),
                         (75, 2), (100, 2)]
SERIALIZED_QUANTITIES = [(1, 3), (2, 4), (4, 3), (5, 3), (8, 2), (10, 2)]
PRIORITIES = [(1, 5), (2, 15), (3, 50), (4, 20), (5, 10)]


# --- Time and calendars --------------------------------------------------------------------------------------


def local(day: dt.date, clock: dt.time = dt.time(0)) -> dt.datetime:
    """A wall-clock time of the shop, in UTC: sums and comparisons of times then hold across DST changes."""
    return timezone.make_aware(dt.datetime.combine(day, clock)).astimezone(dt.UTC)


def us_holidays(year: int) -> list[tuple[dt.date, str]]:
    """The shop's closed days: US federal holidays a machine shop usually takes, moved off weekends."""

    def nth_weekday(month: int, weekday: int, n: int) -> dt.date:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))

    def observed(day: dt.date) -> dt.date:
        return day + dt.timedelta(days={5: -1, 6: 1}.get(day.weekday(), 0))

    last_of_may = dt.date(year, 5, 31)
    return [
        (observed(dt.date(year, 1, 1)), "New Year's Day"),
        (last_of_may - dt.timedelta(days=last_of_may.weekday()), "Memorial Day"),
        (observed(dt.date(year, 7, 4)), "Independence Day"),
        (nth_weekday(9, 0, 1), "Labor Day"),
        (nth_weekday(11, 3, 4), "Thanksgiving"),
        (observed(dt.date(year, 12, 25)), "Christmas Day"),
    ]


Segment = tuple[dt.datetime, dt.datetime, bool]  # working time (a calendar window): start, end, attended


def first_fit(ranges: list[tuple[dt.datetime, dt.datetime]], ends: list[dt.datetime], earliest: dt.datetime,
              length: dt.timedelta) -> dt.datetime | None:
    """The earliest start at or after `earliest` where `length` fits inside one of the ranges."""
    for start, end in ranges[bisect.bisect_right(ends, earliest):]:
        begin = max(earliest, start)
        if begin + length <= end:
            return begin
    return None


@dataclass(frozen=True)
class Work:
    """Something a machine did in the past: setup, running, or down waiting for the first article."""

    start: dt.datetime
    end: dt.datetime
    state: str
    reason: str = ""  # a downtime reason code


GAP, GAP_UNATTENDED = "gap", "gap_unattended"  # working time with no operation, to be filled
Event = tuple[str, str, dt.datetime, dt.datetime]  # state, downtime reason code, start, end


@dataclass
class Lane:
    """One machine's calendar and the past work placed on it, in order."""

    machine: Machine
    index: int
    segments: list[Segment]
    activities: list[Work] = field(default_factory=list)
    last_operation: JobOperation | None = None

    def __post_init__(self) -> None:
        self.segment_ends = [end for _, end, _ in self.segments]
        self.attended = [(start, end) for start, end, attended in self.segments if attended]  # merged already
        self.attended_ends = [end for _, end in self.attended]
        self.free_from = self.segments[0][0]

    def slot(self, earliest: dt.datetime, setup: dt.timedelta, wait: dt.timedelta,
             run: dt.timedelta) -> tuple[dt.datetime, list[Segment]] | None:
        """Where the next setup fits in one stretch of attended time, and the working time the run then takes
        after the wait for the first article: it goes on over the following shifts, and through unattended time."""
        setup_start = first_fit(self.attended, self.attended_ends, max(earliest, self.free_from), setup)
        if setup_start is None:
            return None
        pieces = self.working_time(setup_start + setup + wait, run)
        return None if pieces is None else (setup_start, pieces)

    def working_time(self, start: dt.datetime, length: dt.timedelta) -> list[Segment] | None:
        pieces = []
        for seg_start, seg_end, attended in self.segments[bisect.bisect_right(self.segment_ends, start):]:
            begin = max(start, seg_start)
            end = min(seg_end, begin + length)
            pieces.append((begin, end, attended))
            length -= end - begin
            if length <= dt.timedelta(0):
                return pieces
        return None

    def timeline(self, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime, str, str]]:
        """Lay the activities over the calendar: off shift outside working time, gaps where nothing was placed."""
        cuts = {start, end}
        for seg_start, seg_end, _ in self.segments:
            cuts.update((seg_start, seg_end))
        for activity in self.activities:
            cuts.update((activity.start, activity.end))
        pieces: list[list[Any]] = []
        seg = act = 0
        for a, b in itertools.pairwise(sorted(cut for cut in cuts if start <= cut <= end)):
            while seg < len(self.segments) and self.segments[seg][1] <= a:
                seg += 1
            while act < len(self.activities) and self.activities[act].end <= a:
                act += 1
            if seg == len(self.segments) or self.segments[seg][0] > a:
                label = (MachineState.OFF_SHIFT.value, "")
            elif act < len(self.activities) and self.activities[act].start <= a:
                label = (self.activities[act].state, self.activities[act].reason)
            else:
                label = (GAP if self.segments[seg][2] else GAP_UNATTENDED, "")
            if pieces and pieces[-1][1] == a and tuple(pieces[-1][2:]) == label:
                pieces[-1][1] = b
            else:
                pieces.append([a, b, *label])
        return [tuple(piece) for piece in pieces]


# --- The seeder ----------------------------------------------------------------------------------------------


@dataclass
class JobPlan:
    revision: PartRevision
    quantity: int
    due_date: dt.date
    priority: int
    material_status: str
    ordered_on: dt.date
    released: bool = True
    material_expected_on: dt.date | None = None
    ready_at: dt.datetime | None = None  # history: when the first operation may start
    number: str = ""
    order_line: SalesOrderLine | None = None
    job: Job | None = None


class Seeder:
    def __init__(self, *, seed: int, size: Size, write: Callable[[str], None]):
        self.rng = random.Random(seed)
        self.size = size
        self.write = write
        self.today = timezone.localdate()
        self.midnight = local(self.today)  # the seed's fixed "now": past work ends before it
        self.day_end = local(self.today + DAY)  # the machines' day is drawn whole, then cut at the real now
        self.history_start = local(self.today - size.history_days * DAY)
        self.jobs_start = local(self.today - size.job_history_days * DAY)
        self.users: dict[str, Any] = {}
        self.crew: list[Any] = []
        self.calendars: dict[str, Calendar] = {}
        self.holidays: list[tuple[dt.date, str]] = []
        self.work_centers: dict[str, WorkCenter] = {}
        self.machines: dict[str, list[Machine]] = {}
        self.fixtures: dict[str, list[Fixture]] = {}
        self.reasons: dict[str, DowntimeReason] = {}
        self.reason_minutes: dict[str, tuple[int, int]] = {}
        self.scrap_reasons: list[ScrapReason] = []
        self.gauge_types: dict[str, GaugeType] = {}
        self.industry: dict[int, str] = {}
        self.revisions: list[PartRevision] = []  # the newest released revision of each part: open work
        self.past_revisions: list[PartRevision] = []  # what past jobs made: new parts and revisions are not here
        self.program_number = 1000 + self.rng.randint(0, 800)
        self.job_sequence: dict[int, int] = {}
        self.order_sequence = 10000 + self.rng.randint(0, 4000)
        self.lanes: dict[int, Lane] = {}
        self.operations: dict[int, list[JobOperation]] = {}  # a released past job's, in routing order
        self.proven: set[int] = set()  # NC programs a recorded first article has proven
        # Each placed operation's running intervals (one per shift, a lights-out stretch on its own): its pieces
        # are reported at the end of each, as an operator reports at the end of a shift.
        self.running_spans: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {}
        self.kept_users: list[str] = []

    @property
    def admin(self) -> Any:
        return self.users["admin"]  # records everything: the history shows the demo's admin made it

    def create(self, model: type[models.Model], **data: Any) -> Any:
        return record_create(model=model, user=self.admin, data=data)

    def weighted(self, table: Sequence[tuple[Any, int]]) -> Any:
        return self.rng.choices([value for value, _ in table], weights=[weight for _, weight in table])[0]

    def run(self) -> None:
        stages = [
            ("Users", self.seed_users), ("Calendars", self.seed_calendars), ("Machines", self.seed_machines),
            ("Fixtures", self.seed_fixtures), ("Changeover rules", self.seed_changeover_rules),
            ("Downtime and scrap reasons", self.seed_reasons), ("Gauges", self.seed_gauges),
            ("Customers, parts, routings, inspection plans", self.seed_parts),
            ("Past jobs and their operations", self.seed_job_history),
            ("Open jobs", self.seed_open_jobs), ("Current machine setups", self.seed_current_setups),
            ("Machine state history", self.seed_state_history), ("Work in progress", self.seed_work_in_progress),
        ]
        for name, stage in stages:
            began = time.monotonic()
            self.write(f"  {name}...")
            stage()
            self.write(f"    done in {time.monotonic() - began:.1f} s")

    # Users ------------------------------------------------------------------------------------------------------

    def seed_users(self) -> None:
        user_model = get_user_model()
        groups = {group.name: group for group in Group.objects.filter(name__in=ROLES)}
        if set(groups) != set(ROLES):
            raise CommandError("The role groups are missing: run `manage.py migrate` first.")
        for username, first_name, last_name, staff in DEMO_USERS:
            user = user_model.objects.filter(username=username).first()
            if user is None:
                user = user_model.objects.create_user(
                    username=username, password=DEMO_PASSWORD, first_name=first_name, last_name=last_name,
                    email=f"{username}@spindle.example", is_staff=staff, is_superuser=username == "admin")
            else:
                self.kept_users.append(username)  # someone made it before: leave its password alone
            user.groups.add(groups[username])
            self.users[username] = user
        for username, first_name, last_name in CREW:
            user = user_model.objects.create_user(username=username, password=None, first_name=first_name,
                                                  last_name=last_name, email=f"{username}@spindle.example")
            user.groups.add(groups["operator"])
            self.crew.append(user)

    # Machines ---------------------------------------------------------------------------------------------------

    def seed_calendars(self) -> None:
        last_day = self.today + dt.timedelta(weeks=8)
        first_day = timezone.localdate(self.history_start)
        self.holidays = [(day, name) for year in range(first_day.year, last_day.year + 1)
                         for day, name in us_holidays(year) if first_day <= day <= last_day]
        for name, description, windows in CALENDARS:
            calendar = self.create(Calendar, name=name, description=description)
            for weekday in WORKDAYS:
                for window_name, opens, closes, attended in windows:
                    self.create(ShiftWindow, calendar=calendar, name=window_name, weekday=weekday, start_time=opens,
                                end_time=closes, attended=attended)
            for day, holiday in self.holidays:
                self.create(CalendarException, calendar=calendar, kind=CalendarExceptionKind.CLOSED,
                            starts_at=local(day), ends_at=local(day + DAY), attended=False, priority=10, note=holiday)
            self.calendars[name] = calendar

    def seed_machines(self) -> None:
        windows = calendar_windows(calendar_ids=[calendar.pk for calendar in self.calendars.values()],
                                   start=self.history_start, end=self.day_end)
        segments = {name: [(window.starts_at.astimezone(dt.UTC), window.ends_at.astimezone(dt.UTC), window.attended)
                           for window in windows[calendar.pk]] for name, calendar in self.calendars.items()}
        for code, name, description, prefix, catalogue in WORK_CENTERS:
            center = self.create(WorkCenter, code=code, name=name, description=description)
            self.work_centers[code] = center
            bought = [catalogue[i % len(catalogue)] for i in range(self.size.machines[code])]
            self.machines[code] = []
            for i, (model, kind, rate) in enumerate(bought):
                twins = [other for other, _, _ in bought if other == model]
                label = model if len(twins) == 1 else f"{model} #{[m for m, _, _ in bought[:i + 1]].count(model)}"
                calendar = LIGHTS_OUT if model in LIGHTS_OUT_MODELS else TWO_SHIFTS
                machine = self.create(Machine, code=f"{prefix}-{i + 1:02d}", name=label, work_center=center, kind=kind,
                                      hourly_rate=Decimal(rate), calendar=self.calendars[calendar])
                self.machines[code].append(machine)
                self.lanes[machine.pk] = Lane(machine=machine, index=len(self.lanes), segments=segments[calendar])

    def seed_fixtures(self) -> None:
        for rack, (prefix, name, kind, centers, count) in enumerate(FIXTURES):
            for n in range(1, count * self.size.fixture_sets + 1):
                code = f"{prefix}-{n:02d}"
                status, location = FIXTURES_OUT.get(code, (FixtureStatus.AVAILABLE, f"Tool crib, rack {rack + 1}-{n}"))
                fixture = self.create(Fixture, code=code, name=f"{name} #{n}", kind=kind, status=status,
                                      storage_location=location,
                                      compatible_work_centers=[self.work_centers[c] for c in centers])
                if status == FixtureStatus.AVAILABLE:
                    for center in centers:
                        self.fixtures.setdefault(center, []).append(fixture)

    def seed_changeover_rules(self) -> None:
        for code, minutes in CHANGEOVER_MINUTES.items():
            for attribute, value in zip(CHANGEOVER_ATTRIBUTES, minutes, strict=True):
                if value:
                    self.changeover_rule(code, attribute, "*", "*", value, priority=0)
        for code, attribute, from_value, to_value, minutes in CHANGEOVER_SPECIFIC:
            self.changeover_rule(code, attribute, from_value, to_value, minutes, priority=10)

    def changeover_rule(self, code: str, attribute: str, from_value: str, to_value: str, minutes: int, *,
                        priority: int) -> None:
        rate = self.machines[code][0].hourly_rate  # the cost is the machine time it takes
        self.create(ChangeoverRule, work_center=self.work_centers[code], attribute=attribute, from_value=from_value,
                    to_value=to_value, minutes=minutes, cost=(rate * minutes / 60).quantize(Decimal("0.01")),
                    priority=priority)

    def seed_reasons(self) -> None:
        for code, label, planned, category, minutes in DOWNTIME_REASONS:
            self.reasons[code] = self.create(DowntimeReason, code=code, label=label, planned=planned,
                                             loss_category=category)
            self.reason_minutes[code] = minutes
        # A run as the machine reports it is broken by stops (`running`): an operation's run is made longer by
        # their expected share, so that its running time, not running plus stops, is cycles x cycle x run factor
        # (else the stops looked like parts made faster than standard: effectiveness over 100 %).
        stop = sum(weight * sum(self.reason_minutes[code]) / 2 for code, weight in RUN_STOPS) / sum(
            weight for _, weight in RUN_STOPS)
        stretch = 5 + self.size.running_minutes * math.exp(-5 / self.size.running_minutes)  # max(5, exponential)
        self.running_share = stretch / (stretch + stop)
        self.scrap_reasons = [self.create(ScrapReason, code=code, label=label) for code, label in SCRAP_REASONS]

    # Inspection -------------------------------------------------------------------------------------------------

    def seed_gauges(self) -> None:
        for code, name in GAUGE_TYPES:
            self.gauge_types[code] = self.create(GaugeType, code=code, name=name)
        rows = [row for row in GAUGES for _ in range(row[-1])]
        # A few overdue and a few due within two weeks, so the inspector's list has something to show.
        overdue, due_soon = set(self.rng.sample(range(len(rows)), 3)), set(self.rng.sample(range(len(rows)), 7))
        due_soon -= overdue
        numbers: dict[str, int] = {}
        for i, (type_code, prefix, description, low, high, resolution, unit, interval, _) in enumerate(rows):
            numbers[prefix] = numbers.get(prefix, 0) + 1
            if i in overdue:
                last = self.today - dt.timedelta(days=interval + self.rng.randint(3, 25))
            elif i in due_soon:
                last = self.today - dt.timedelta(days=interval - self.rng.randint(2, 13))
            else:
                last = self.today - dt.timedelta(days=self.rng.randint(10, interval - 20))
            gauge = self.create(
                Gauge, asset_id=f"{prefix}-{numbers[prefix]:03d}", gauge_type=self.gauge_types[type_code],
                description=description, range_low=low and Decimal(low), range_high=high and Decimal(high),
                resolution=resolution and Decimal(resolution), unit=unit,
                location="QC lab" if type_code == "CMM" else self.rng.choice(GAUGE_LOCATIONS),
                calibration_interval_days=interval)
            found_worn = self.rng.random() < 0.1
            # The service sets the next due date from the interval and the status from it.
            gauge_calibrate(gauge_id=gauge.pk, user=self.admin, calibrated_on=last,
                            as_found_in_tolerance=not found_worn,
                            as_found_notes="Worn, adjusted and re-verified." if found_worn else "",
                            as_left_in_tolerance=True,
                            certificate_number=f"C{last:%y}-{self.rng.randint(10000, 99999)}",
                            performed_by=self.rng.choice(CALIBRATION_LABS))

    # Parts ------------------------------------------------------------------------------------------------------

    def seed_parts(self) -> None:
        customers = []
        for code, name, industry in CUSTOMERS:
            customer = self.create(Customer, code=code, name=name)
            self.industry[customer.pk] = industry
            customers.append(customer)
        numbers: set[str] = set()
        for _ in range(self.size.parts):
            customer = None if self.rng.random() < 0.1 else self.rng.choice(customers)  # some work is our own
            industry = self.industry[customer.pk] if customer else "internal"
            number = ""
            while not number or number in numbers:
                prefix = customer.code if customer else "SPN"
                number = f"{prefix}-{self.rng.randint(10000, 99999)}-{self.rng.randint(1, 12):02d}"
            numbers.add(number)
            shape, family = self.rng.choice(SHAPES)
            part = self.create(Part, number=number, description=f"{shape}, {self.rng.choice(QUALIFIERS)}",
                               customer=customer)
            material = self.rng.choice(INDUSTRY_MATERIALS[industry])
            serialized = industry in ("aero", "med") and self.rng.random() < 0.2
            unit = "mm" if industry == "med" or (industry != "aero" and self.rng.random() < 0.5) else "in"
            first_letter = self.rng.randint(0, 3)
            letters = "ABCDEFG"[first_letter:first_letter + (2 if self.rng.random() < 0.3 else 1)]
            revisions = []
            for letter in letters:
                revision = self.create(PartRevision, part=part, revision=letter, drawing_number=f"D{number}",
                                       drawing_revision=letter, serialized=serialized, material=material)
                part_revision_release(part_revision_id=revision.pk, user=self.admin)
                steps = self.seed_routing(revision, family, material, newer=letter != letters[0])
                self.seed_inspection_plan(revision, steps, industry, unit)
                revisions.append(revision)
            old_still_made = len(revisions) > 1 and self.rng.random() < 0.5
            if len(revisions) > 1 and not old_still_made:
                record_update(instance=revisions[0], user=self.admin, data={"status": PartRevisionStatus.OBSOLETE})
            self.revisions.append(revisions[-1])
            # Past jobs made the old revision while it was current, and never made a new part: their first jobs
            # in the open work need a first article.
            if self.rng.random() >= 0.15:
                self.past_revisions.append(revisions[0] if old_still_made else revisions[-1])

    def routing_plan(self, family: str, material: str) -> list[tuple[str, str | None, tuple | None]]:
        """Steps as (name, work center, outside process): machining, deburr, finishing outside, CMM."""
        chance = self.rng.random
        if family == "prismatic":
            steps = [("Mill op 1", "MILL5" if chance() < 0.1 else "MILL3"), ("Mill op 2", "MILL3")]
            if chance() < 0.3:
                steps.append(("Wire EDM profile", "EDM"))
        elif family == "turned":
            steps = [("Turn op 1", "LATHE")]
            if chance() < 0.7:
                steps.append(("Turn op 2", "LATHE"))
            if chance() < 0.3:
                steps.append(("Mill flats and cross holes", "MILL3"))
        else:
            steps = [("5-axis op 1", "MILL5")]
            if chance() < 0.6:
                steps.append(("5-axis op 2", "MILL5"))
            if chance() < 0.3:
                steps.append(("Wire EDM slot", "EDM"))
        plan: list[tuple[str, str | None, tuple | None]] = [(name, code, None) for name, code in steps]
        plan.append(("Deburr and mark", "DEBURR", None))
        processes = MATERIALS[material][2]
        if processes and chance() < 0.6:
            plan += [(process[0], None, process) for process in processes]
        if family == "complex" or chance() < 0.5:
            plan.append(("CMM inspection", "CMM", None))
        return plan

    def seed_routing(self, revision: PartRevision, family: str, material: str, *, newer: bool) -> list[RoutingStep]:
        routing = self.create(Routing, part_revision=revision, version=1)
        plan = self.routing_plan(family, material)
        tool_family = MATERIALS[material][0]
        steps = []
        for position, (name, code, process) in enumerate(plan):
            number = (position + 1) * 10
            if process is not None:
                process_name, vendor, lead_days, cost = process
                steps.append(self.create(RoutingStep, routing=routing, operation_number=number, name=process_name,
                                         kind=StepKind.OUTSIDE, vendor=vendor, lead_days=lead_days,
                                         outside_cost=Decimal(cost)))
                continue
            (setup_low, setup_high), (cycle_low, cycle_high) = STEP_STANDARDS[code]
            fixture = self.rng.choice(self.fixtures[code]) if code in self.fixtures and self.rng.random() < 0.9 \
                else None
            per_cycle = self.rng.randint(4, 8) if fixture and fixture.kind == FixtureKind.TOMBSTONE else (
                2 if code in ("MILL3", "MILL5") and self.rng.random() < 0.1 else 1)
            machine = self.rng.choice(self.machines[code]) if self.rng.random() < 0.3 else None
            program = None
            if code in PROGRAMMED:
                self.program_number += self.rng.randint(1, 7)
                program_number = f"O{self.program_number}"
                proven = self.rng.random() < (0.6 if newer else 0.9)
                program = self.create(
                    NCProgram, part_revision=revision, operation_number=number, machine=machine,
                    work_center=None if machine else self.work_centers[code], program_number=program_number,
                    checksum=hashlib.sha256(f"{revision}:{number}:{program_number}".encode()).hexdigest(),
                    status=NCProgramStatus.PROVEN if proven else NCProgramStatus.UNPROVEN)
            cycle = round(self.rng.uniform(cycle_low, cycle_high), 1)
            previous_is_machining = any(step.work_center_id and step.work_center.code in MACHINING for step in steps)
            step = self.create(
                RoutingStep, routing=routing, operation_number=number, name=name, work_center=self.work_centers[code],
                setup_minutes=Decimal(5 * round(self.rng.uniform(setup_low, setup_high) / 5)),
                cycle_minutes=Decimal(str(cycle)), parts_per_cycle=per_cycle,
                min_wait_minutes=60 if code == "CMM" and self.rng.random() < 0.3 else 0,  # thermal stabilization
                fixture=fixture, material=material if code in MACHINING else "",
                tool_kit=self.tool_kit(code, tool_family), nc_program=program,
                needs_first_article=code in MACHINING and not previous_is_machining,
                instructions=self.rng.choice(INSTRUCTIONS[code]))
            self.seed_step_machines(step, code, machine)
            steps.append(step)
        return steps

    @staticmethod
    def tool_kit(code: str, family: str) -> str:
        return {"MILL3": f"TK-M-{family}", "MILL5": f"TK-5X-{family}", "LATHE": f"TK-L-{family}",
                "EDM": "WIRE-0.25-BRASS"}.get(code, "")

    def seed_step_machines(self, step: RoutingStep, code: str, program_machine: Machine | None) -> None:
        """Ranked eligible machines: the one a machine-specific program was written for, or now and then a
        preference among the work center's machines with its own standards; none means any machine of it."""
        if program_machine is not None:
            chosen = [program_machine]
        elif code in MACHINING and len(self.machines[code]) > 1 and self.rng.random() < 0.4:
            chosen = self.rng.sample(self.machines[code], self.rng.randint(2, min(3, len(self.machines[code]))))
        else:
            return
        for rank, machine in enumerate(chosen, start=1):
            # A newer or more capable machine is often faster, and the mill-turn saves a setup.
            cycle = step.cycle_minutes * Decimal("0.85") if rank > 1 and self.rng.random() < 0.4 else None
            setup = step.setup_minutes * Decimal("0.6") if machine.kind == MachineKind.MILL_TURN else None
            self.create(RoutingStepMachine, step=step, machine=machine, rank=rank,
                        cycle_minutes=cycle and cycle.quantize(Decimal("0.1")),
                        setup_minutes=setup and setup.quantize(Decimal("1")))

    def seed_inspection_plan(self, revision: PartRevision, steps: list[RoutingStep], industry: str, unit: str) -> None:
        plan = self.create(InspectionPlan, part_revision=revision)
        numbers = {step.work_center.code if step.work_center_id else "outside": step.operation_number
                   for step in reversed(steps)}  # the first step of each kind
        machining = [step.operation_number for step in steps if step.work_center_id and step.work_center.code
                     in MACHINING]
        count = min(40, 5 + int(self.rng.expovariate(1 / 6)))  # most parts have about ten, a few have forty
        for balloon in range(1, count + 1):
            description, gauge_type, form, (low, high), tolerance, _ = self.weighted(
                [(feature, feature[-1]) for feature in FEATURES])
            data: dict[str, Any] = {"description": description, "unit": unit}
            if form == "attribute":
                note_mm, note_in, method = ATTRIBUTE_NOTES[description]
                data |= {"requirement_kind": RequirementKind.ATTRIBUTE, "method": method,
                         "attribute_note": note_mm if unit == "mm" else note_in}
                operation = numbers["DEBURR"] if description == "Edge break" else self.rng.choice(machining)
            else:
                scale = 1 if unit == "mm" else 25.4
                nominal = round(self.rng.uniform(low, high) / scale, 3 if unit == "mm" else 4)
                limit = max(round(tolerance / scale, 4), 0.0005)
                data |= {"nominal": Decimal(f"{nominal:.4f}"), "method": self.gauge_types[gauge_type].name,
                         "lower_limit": Decimal(f"{nominal if form == 'form' else nominal - limit:.4f}"),
                         "upper_limit": Decimal(f"{nominal + limit:.4f}")}
                operation = self.rng.choice(machining)
            sampling = self.weighted([(Sampling.FIRST_ARTICLE_ONLY, 60), (Sampling.FIRST_LAST, 25),
                                      (Sampling.EVERY_NTH, 15)])
            mark = self.rng.random()
            designator = (Designator.CRITICAL if industry in ("aero", "med") and mark < 0.03
                          else Designator.KEY if mark < 0.12 else Designator.NONE)
            self.create(Characteristic, plan=plan, balloon_number=str(balloon), sheet="1",
                        zone=f"{self.rng.choice('ABCD')}{self.rng.randint(1, 8)}", designator=designator,
                        gauge_type=self.gauge_types[gauge_type] if gauge_type else None, operation_number=operation,
                        sampling=sampling, sample_every=self.rng.choice([5, 10]) if sampling == Sampling.EVERY_NTH
                        else None, **data)
        if "outside" in numbers:
            self.create(Characteristic, plan=plan, balloon_number=str(count + 1), sheet="1", unit="",
                        description="Finish", requirement_kind=RequirementKind.ATTRIBUTE,
                        attribute_note=f"Per routing step {numbers['outside']}; vendor certificate on file",
                        method="Certificate review", operation_number=numbers["outside"])

    # Jobs -------------------------------------------------------------------------------------------------------

    def plan_job(self, *, due_date: dt.date, ordered_on: dt.date, material_status: str, past: bool) -> JobPlan:
        revision = self.rng.choice(self.past_revisions if past else self.revisions)
        quantity = self.weighted(SERIALIZED_QUANTITIES if revision.serialized
                                 else PRODUCTION_QUANTITIES if past else QUANTITIES)
        return JobPlan(revision=revision, quantity=quantity, due_date=due_date, priority=self.weighted(PRIORITIES),
                       material_status=material_status, ordered_on=ordered_on)

    def number_jobs(self, plans: list[JobPlan], key: Callable[[JobPlan], dt.date]) -> None:
        """WO numbers in the order the jobs were made, per year, as job_create numbers new ones."""
        for plan in plans:
            year = key(plan).year
            self.job_sequence[year] = self.job_sequence.get(year, 0) + 1
            plan.number = f"WO{year % 100:02d}-{self.job_sequence[year]:05d}"

    def seed_sales_orders(self, plans: list[JobPlan]) -> None:
        """Most customer jobs come from a sales order; an order has one to four lines ordered within a week."""
        linked = [plan for plan in plans if plan.revision.part.customer is not None and self.rng.random() < 0.85]
        linked.sort(key=lambda plan: (plan.revision.part.customer.code, plan.ordered_on, plan.number))
        groups: list[list[JobPlan]] = []
        for plan in linked:
            group = groups[-1] if groups else None
            if (group and group[0].revision.part.customer == plan.revision.part.customer and len(group) < 4
                    and (plan.ordered_on - group[0].ordered_on).days <= 7):
                group.append(plan)
            else:
                groups.append([plan])
        for group in sorted(groups, key=lambda group: (group[0].ordered_on, group[0].number)):
            customer = group[0].revision.part.customer
            self.order_sequence += 1
            po_number = {"aero": f"4500{self.rng.randint(100000, 999999)}",
                         "med": f"PO-{self.rng.randint(10000, 99999)}"}.get(
                self.industry[customer.pk], f"P{self.rng.randint(100000, 999999)}")
            order = self.create(SalesOrder, number=f"SO-{self.order_sequence}", customer=customer,
                                po_number=po_number, order_date=group[0].ordered_on)
            for line_number, plan in enumerate(group, start=1):
                plan.order_line = self.create(SalesOrderLine, order=order, line_number=line_number,
                                              part_revision=plan.revision, quantity=plan.quantity,
                                              due_date=plan.due_date)

    def create_jobs(self, plans: list[JobPlan], *, release: bool) -> None:
        for plan in plans:
            plan.job = job_create(
                user=self.admin, part_revision=plan.revision, quantity=plan.quantity, due_date=plan.due_date,
                number=plan.number, order_line=plan.order_line, priority=plan.priority,
                material_status=plan.material_status, material_expected_on=plan.material_expected_on)
            if plan.material_status in MaterialStatus.available():
                supplier = MATERIALS[plan.revision.material][1]
                for _ in range(2 if self.rng.random() < 0.1 else 1):  # now and then the bar came from two heats
                    self.create(MaterialLot, job=plan.job, material=plan.revision.material,
                                heat_number=f"{self.rng.choice('ABCDEHKLMN')}{self.rng.randint(10000, 99999)}",
                                certificate_number=f"MTR-{self.rng.randint(100000, 999999)}", supplier=supplier)
            if plan.revision.serialized:
                for piece in range(1, plan.quantity + 1):
                    self.create(SerialNumber, job=plan.job, serial=f"{plan.number}-{piece:03d}")
            if release and plan.released:
                job_release(job_id=plan.job.pk, user=self.admin)

    def seed_job_history(self) -> None:
        """Jobs started in the past weeks, run on the machines' calendars; those not done by today stay open."""
        window = (self.midnight - 2 * DAY) - self.jobs_start
        plans = []
        for _ in range(self.size.history_jobs):
            ready_at = (self.jobs_start + window * self.rng.random()).replace(second=0, microsecond=0)
            plan = self.plan_job(due_date=timezone.localdate(ready_at) + dt.timedelta(days=self.rng.randint(14, 35)),
                                 ordered_on=timezone.localdate(ready_at) - dt.timedelta(days=self.rng.randint(3, 14)),
                                 material_status=self.weighted([(MaterialStatus.RECEIVED, 1), (MaterialStatus.CUT, 2)]),
                                 past=True)
            plan.ready_at = ready_at
            plans.append(plan)
        plans.sort(key=lambda plan: plan.ready_at)
        self.number_jobs(plans, key=lambda plan: timezone.localdate(plan.ready_at))
        self.seed_sales_orders(plans)
        self.create_jobs(plans, release=False)
        self.run_history(plans)

    def run_history(self, plans: list[JobPlan]) -> None:
        """Release each job when its work may start, once what the shop finished before it is recorded: the
        first-article rules of the release then see the past as it was, and a repeat order needs none.
        Operations are dispatched in the order they became ready, each on the eligible machine that finishes it
        first; one that would end after midnight today is left to do, and its job stays open."""
        ready: list[tuple[dt.datetime, int, int, int]] = []  # when, job (index in plans), operation, quantity
        finished: list[tuple[dt.datetime, int, FinishedOperation, JobOperation]] = []  # not recorded yet
        options = Prefetch("machine_options", queryset=JobOperationMachine.objects.order_by("rank"))
        for index, plan in enumerate([*plans, None]):
            until = plan.ready_at if plan else self.midnight
            while ready and ready[0][0] < until:
                ready_at, job, position, quantity = heapq.heappop(ready)
                steps = self.operations[plans[job].job.pk]
                done = self.place(steps[position], ready_at, quantity)
                if done is None:
                    continue
                heapq.heappush(finished, (done.finished_at, steps[position].pk, done, steps[position]))
                if position + 1 < len(steps):
                    next_ready = done.finished_at + steps[position].min_wait_minutes * MINUTE
                    heapq.heappush(ready, (next_ready, job, position + 1, done.good))
            self.record_finished(finished, until=until)
            if plan is not None:
                job_release(job_id=plan.job.pk, user=self.admin)
                self.operations[plan.job.pk] = list(
                    plan.job.operations.select_related("fixture", "nc_program").prefetch_related(options)
                    .order_by("operation_number"))
                heapq.heappush(ready, (plan.ready_at, index, 0, plan.quantity))

    def record_finished(self, finished: list[tuple[dt.datetime, int, FinishedOperation, JobOperation]], *,
                        until: dt.datetime) -> None:
        """Record the operations finished by `until`; an approved first article proved its NC program."""
        batch = []
        while finished and finished[0][0] <= until:
            batch.append(heapq.heappop(finished))
        if not batch:
            return
        running = {pk: self.running_spans.pop(pk) for _, pk, _, _ in batch if pk in self.running_spans}
        operations_import_finished(records=[done for _, _, done, _ in batch], user=self.admin, running=running)
        for _, _, _, operation in batch:
            program = operation.nc_program
            if (operation.first_article != FirstArticleRequirement.NONE and program is not None
                    and program.status == NCProgramStatus.UNPROVEN and program.pk not in self.proven):
                nc_program_mark_proven(nc_program_id=program.pk, user=self.admin)
                self.proven.add(program.pk)

    def place(self, operation: JobOperation, ready_at: dt.datetime, quantity: int) -> FinishedOperation | None:
        scrap = 0
        if operation.kind == StepKind.INTERNAL and quantity > 1 and self.rng.random() < 0.12:
            scrap = min(quantity - 1, self.rng.choice([1, 1, 1, 2, 3]))
        reason = self.rng.choice(self.scrap_reasons) if scrap else None
        if operation.kind == StepKind.OUTSIDE:  # back from the vendor on a working morning after the lead time
            back = timezone.localdate(ready_at) + dt.timedelta(days=operation.lead_days)
            back += dt.timedelta(days=max(0, 7 - back.weekday()) if back.weekday() >= 5 else 0)
            received = local(back, dt.time(10))
            if received > self.midnight:
                return None
            return FinishedOperation(operation_id=operation.pk, machine_id=None, operator=self.users["operator"],
                                     labour=(), finished_at=received, good=quantity)
        setup_factor = min(2.5, max(0.5, self.rng.lognormvariate(0, 0.25)))
        run_factor = max(0.8, self.rng.normalvariate(1.05, 0.08))
        wait = round(self.rng.uniform(*self.reason_minutes["INSPECT"])) * MINUTE \
            if operation.first_article != FirstArticleRequirement.NONE else dt.timedelta(0)
        best = None
        for option in operation.machine_options.all():
            lane = self.lanes[option.machine_id]
            setup = round(float(option.setup_minutes) * setup_factor) * MINUTE
            cycles = math.ceil(quantity / operation.parts_per_cycle)
            run = max(1, round(cycles * float(option.cycle_minutes) * run_factor / self.running_share)) * MINUTE
            slot = lane.slot(ready_at, setup, wait, run)
            if slot is not None and slot[1][-1][1] <= self.midnight and (best is None or slot[1][-1][1] < best[3]):
                best = (lane, setup, slot, slot[1][-1][1])
        if best is None:
            return None
        lane, setup, (setup_start, pieces), run_end = best
        setup_end = setup_start + setup
        if setup:
            lane.activities.append(Work(setup_start, setup_end, MachineState.SETUP))
        if wait:
            lane.activities.append(Work(setup_end, setup_end + wait, MachineState.DOWN, "INSPECT"))
        lane.activities.append(Work(pieces[0][0], run_end, MachineState.RUNNING))  # off shift it stands still
        lane.free_from, lane.last_operation = run_end, operation
        labour = [LabourSpan(self.operator_at(lane, setup_start), Activity.SETUP, setup_start, setup_end)] \
            if setup else []
        # Labour while someone is there, one span per shift; a lights-out stretch runs on alone.
        labour += [LabourSpan(self.operator_at(lane, start), Activity.RUN, start, end)
                   for piece_start, piece_end, attended in pieces if attended
                   for start, end in self.shifts_of(piece_start, piece_end)]
        spans = [span for piece_start, piece_end, attended in pieces
                 for span in (self.shifts_of(piece_start, piece_end) if attended else [(piece_start, piece_end)])]
        # Reported a minute before the stretch ends: at the handover instant a report counts for the next shift.
        self.running_spans[operation.pk] = [(start, end - MINUTE) if end < run_end and end - start > MINUTE
                                            else (start, end) for start, end in spans]
        return FinishedOperation(operation_id=operation.pk, machine_id=lane.machine.pk,
                                 operator=self.operator_at(lane, run_end), labour=tuple(labour), finished_at=run_end,
                                 good=quantity - scrap, scrap=scrap, scrap_reason=reason)

    @staticmethod
    def shifts_of(start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
        """An attended stretch (one day's two shifts at most) cut where the second shift takes over."""
        handover = local(timezone.localdate(start), SECOND_SHIFT[1])
        return [(start, handover), (handover, end)] if start < handover < end else [(start, end)]

    def operator_at(self, lane: Lane, moment: dt.datetime) -> Any:
        """Each shift has two operators, each looking after half of the machines."""
        first_shift = timezone.localtime(moment).time() < SECOND_SHIFT[1]
        crew = [self.users["operator"], self.crew[0]] if first_shift else self.crew[1:]
        return crew[lane.index % 2]

    def seed_open_jobs(self) -> None:
        """New work due over the next six weeks beside the past jobs still open: the newest orders are left for
        the planner to release and the oldest few are already late; material mostly in, some on order."""
        count = max(0, self.size.open_jobs - Job.objects.filter(status__in=JobStatus.open()).count())
        ordered = sorted(self.today - dt.timedelta(days=self.rng.randint(1, 20)) for _ in range(count))
        to_release, late = max(3, count // 12), max(2, count // 25)
        plans = []
        for index, ordered_on in enumerate(ordered):
            released = index < count - to_release
            material = self.weighted(
                [(MaterialStatus.RECEIVED, 45), (MaterialStatus.CUT, 30), (MaterialStatus.ORDERED, 20),
                 (MaterialStatus.NOT_ORDERED, 5)] if released
                else [(MaterialStatus.NOT_ORDERED, 1), (MaterialStatus.ORDERED, 1)])
            days = -self.rng.randint(1, 6) if index < late else self.rng.randint(3, 42)
            plan = self.plan_job(due_date=self.today + dt.timedelta(days=days), ordered_on=ordered_on,
                                 material_status=material, past=False)
            plan.released = released
            if material == MaterialStatus.ORDERED:
                plan.material_expected_on = self.today + dt.timedelta(days=self.rng.randint(1, 14))
            plans.append(plan)
        self.number_jobs(plans, key=lambda plan: self.today)
        self.seed_sales_orders(plans)
        self.create_jobs(plans, release=True)

    def seed_current_setups(self) -> None:
        """Each machine keeps the setup of the last operation it ran; a fixture stays on the machine that used it
        last (it is on one machine at a time)."""
        mounted: set[int] = set()
        for lane in sorted(self.lanes.values(), key=lambda lane: lane.free_from, reverse=True):
            operation = lane.last_operation
            if operation is None:
                continue
            fixture = operation.fixture if operation.fixture_id not in mounted else None
            record_update(instance=lane.machine, user=self.admin, data={
                "setup_fixture": fixture.code if fixture else "", "setup_material": operation.material,
                "setup_tool_kit": operation.tool_kit,
                "setup_program": operation.nc_program.program_number if operation.nc_program else ""})
            if fixture is not None:
                record_update(instance=fixture, user=self.admin,
                              data={"mounted_on": lane.machine, "status": FixtureStatus.IN_USE})
                mounted.add(fixture.pk)

    def seed_work_in_progress(self) -> None:
        """A few operations on machines now, through the operator's own actions, so that the board, the
        terminal, the inspector's queue and the scheduler's fixed operations have something to show:
        one in setup, one whose first article waits for inspection, two running with parts reported."""
        operator = self.users["operator"]
        ready = (JobOperation.objects.filter(status=OperationStatus.READY, kind=StepKind.INTERNAL)
                 .select_related("job").prefetch_related("machine_options")
                 .order_by("job__due_date", "job__number", "operation_number"))
        busy: set[int] = set()
        wanted = {"setup": 1, "first_article": 1, "running": 2}
        for operation in ready:
            if not any(wanted.values()):
                break
            machine = next((o.machine_id for o in sorted(operation.machine_options.all(), key=lambda o: o.rank)
                            if o.machine_id not in busy), None)
            if machine is None:
                continue
            try:
                operation = operation_start_setup(operation_id=operation.pk, machine_id=machine, user=operator,
                                                  terminal="seed")
            except ApplicationError:  # its fixture is on another machine's work in progress: try the next one
                continue
            busy.add(machine)
            # The machine is known now, so whether a first article is needed is final.
            goal = ("first_article" if not operation.production_gate_open and wanted["first_article"] else
                    "running" if operation.production_gate_open and wanted["running"] else "setup")
            if goal != "setup":
                operation_first_piece(operation_id=operation.pk, user=operator, terminal="seed")
            if goal == "running":
                operation_report(operation_id=operation.pk, user=operator, terminal="seed",
                                 good=max(1, operation.job.quantity // 3))
            wanted[goal] = max(0, wanted[goal] - 1)

    # Machine states ---------------------------------------------------------------------------------------------

    def seed_state_history(self) -> None:
        """Each machine's status log from the first day of history until now, the last state left open."""
        now = timezone.now()
        for lane in self.lanes.values():
            events = [event for event in self.expand(lane.timeline(self.history_start, self.day_end))
                      if event[2] < now]  # the day is drawn whole, so the data does not depend on the hour
            intervals = [Interval(state=state, started_at=start, ended_at=end, reason=self.reasons.get(reason))
                         for state, reason, start, end in events]
            intervals[-1] = replace(intervals[-1], ended_at=None)  # what the machine does now
            source = StateSource.MTCONNECT if lane.machine.kind in MONITORED_KINDS else StateSource.TERMINAL
            state_events_import(machine_id=lane.machine.pk, intervals=intervals, user=self.admin, source=source)

    def expand(self, pieces: list[tuple[dt.datetime, dt.datetime, str, str]]) -> list[Event]:
        """Fill the gaps and break up the runs, then merge neighbours in the same state, to whole seconds."""
        events: list[Event] = []
        for start, end, state, reason in pieces:
            if state == GAP:
                split = min(max(start, self.jobs_start), end)
                events += self.unlogged_work(start, split) + self.fill_gap(split, end)
            elif state == GAP_UNATTENDED:
                events.append((MachineState.IDLE, "", start, end))
            elif state == MachineState.RUNNING:
                events += self.running(start, end)
            else:
                events.append((state, reason, start, end))
        merged: list[Event] = []
        for state, reason, start, end in events:
            start, end = start.replace(microsecond=0), end.replace(microsecond=0)
            if start >= end:
                continue
            if merged and merged[-1][:2] == (state, reason):
                merged[-1] = (state, reason, merged[-1][2], end)
            else:
                merged.append((state, reason, start, end))
        return merged

    def stop(self, code: str, start: dt.datetime, end: dt.datetime) -> Event:
        state = MachineState.PLANNED_DOWN if self.reasons[code].planned else MachineState.DOWN
        return (state, code, start, min(end, start + self.rng.uniform(*self.reason_minutes[code]) * MINUTE))

    def fill_gap(self, start: dt.datetime, end: dt.datetime) -> list[Event]:
        """Working time with no operation: idle, now and then a break, a meeting, maintenance or a wait."""
        events: list[Event] = []
        while start < end:
            window_end = min(end, start + 4 * 60 * MINUTE)
            code = self.weighted(GAP_EVENTS)
            if code:
                event = self.stop(code, start, window_end)
                shift = (window_end - event[3]) * self.rng.random()
                event = (event[0], code, event[2] + shift, event[3] + shift)
                events += [(MachineState.IDLE, "", start, event[2]), event,
                           (MachineState.IDLE, "", event[3], window_end)]
            else:
                events.append((MachineState.IDLE, "", start, window_end))
            start = window_end
        return events

    def running(self, start: dt.datetime, end: dt.datetime) -> list[Event]:
        """A run as the machine reports it: running stretches broken by minor stops and now and then a real one."""
        events: list[Event] = []
        while start < end:
            stretch_end = min(end, start + max(5.0, self.rng.expovariate(1 / self.size.running_minutes)) * MINUTE)
            events.append((MachineState.RUNNING, "", start, stretch_end))
            if stretch_end < end:
                events.append(self.stop(self.weighted(RUN_STOPS), stretch_end, end))
                stretch_end = events[-1][3]
            start = stretch_end
        return events

    def unlogged_work(self, start: dt.datetime, end: dt.datetime) -> list[Event]:
        """Before the job history (large size): setups and runs of work whose jobs the demo does not hold."""
        events: list[Event] = []
        while start < end:
            idle_end = min(end, start + self.rng.uniform(5, 90) * MINUTE)
            setup_end = min(end, idle_end + self.rng.uniform(30, 120) * MINUTE)
            run_end = min(end, setup_end + self.rng.uniform(60, 600) * MINUTE)
            events += [*self.fill_gap(start, idle_end), (MachineState.SETUP, "", idle_end, setup_end),
                       *self.running(setup_end, run_end)]
            start = run_end
        return events

    # Summary ----------------------------------------------------------------------------------------------------

    def summary(self) -> list[str]:
        open_jobs = Job.objects.filter(status__in=JobStatus.open())
        gauges = Counter(Gauge.objects.values_list("status", flat=True))
        return [
            f"  {WorkCenter.objects.count()} work centers, {Machine.objects.count()} machines, "
            f"{Fixture.objects.count()} fixtures ({Fixture.objects.filter(mounted_on__isnull=False).count()} mounted), "
            f"{ChangeoverRule.objects.count()} changeover rules",
            f"  {Customer.objects.count()} customers, {SalesOrder.objects.count()} sales orders with "
            f"{SalesOrderLine.objects.count()} lines, {Part.objects.count()} parts with "
            f"{PartRevision.objects.count()} revisions, {RoutingStep.objects.count()} routing steps, "
            f"{NCProgram.objects.count()} NC programs",
            f"  {InspectionPlan.objects.count()} inspection plans with {Characteristic.objects.count()} "
            f"characteristics; {gauges.total()} gauges ({gauges[GaugeStatus.OVERDUE]} overdue, "
            f"{gauges[GaugeStatus.DUE_SOON]} due soon)",
            f"  {open_jobs.count()} open jobs ({open_jobs.filter(status=JobStatus.PLANNED).count()} to release, "
            f"{open_jobs.filter(due_date__lt=self.today).count()} late) with "
            f"{JobOperation.objects.filter(job__in=open_jobs).exclude(status=OperationStatus.DONE).count()} "
            f"open operations; {Job.objects.filter(status=JobStatus.COMPLETE).count()} jobs complete",
            f"  {LabourEntry.objects.count()} labour entries, {ProductionEntry.objects.count()} production entries, "
            f"{MachineStateEvent.objects.count()} machine state events",
        ]


class Command(BaseCommand):
    help = "Build a believable demo machine shop through the services. Deterministic for a seed; idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=1, help="Random seed: the same seed gives the same shop.")
        parser.add_argument("--size", choices=sorted(SIZES), default="small",
                            help="small: 14 machines and 90 days of history (the demo); large: 60 machines and a "
                                 "year of machine history (benchmarks).")

    def handle(self, *args: Any, seed: int, size: str, **options: Any) -> None:
        if WorkCenter.objects.filter(code="MILL3").exists():
            self.stdout.write("The demo shop is already seeded: nothing to do (`manage.py flush` empties it).")
            return
        if WorkCenter.objects.exists() or Job.objects.exists():
            raise CommandError("This database already holds a shop; seed_demo only fills an empty one.")
        began = time.monotonic()
        self.stdout.write(f"Seeding the {size} demo shop (seed {seed}):")
        seeder = Seeder(seed=seed, size=SIZES[size], write=self.progress)
        with transaction.atomic():  # all or nothing: a failed run leaves no half-seeded shop behind
            seeder.run()
        self.stdout.write(f"Seeded in {time.monotonic() - began:.0f} s:")
        for line in seeder.summary():
            self.stdout.write(line)
        self.stdout.write("Demo logins:")
        for username, first_name, last_name, _ in DEMO_USERS:
            password = "(existing account, password unchanged)" if username in seeder.kept_users else DEMO_PASSWORD
            self.stdout.write(f"  {username:<10} {password:<12} {first_name} {last_name}")

    def progress(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()  # the large size takes minutes: show each stage as it starts
