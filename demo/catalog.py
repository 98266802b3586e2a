"""The demo shop's catalogue: its sizes, people, calendars, machines, fixtures, reasons, gauges, customers,
materials, part shapes, routing templates and standards, inspection features, as tables the seeder draws from.

A table of (value, weight) pairs is drawn from with `weighted`, always with the seeder's one random.Random: the
order of the draws is what makes a seed give the same shop twice."""

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from machines.choices import FixtureKind, FixtureStatus, LossCategory, MachineKind, SetupAttribute

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
# Machines `make demo` connects to a replay of a recorded MTConnect agent (machines/connectivity/recordings/):
# recording, device on its agent, the machine kinds it may feed in order of preference (demo/connections.py).
AGENT_DEVICES = [
    ("okuma", "OKUMA", (MachineKind.LATHE, MachineKind.MILL_TURN)),
    ("vmc-haas", "VMC-3Axis", (MachineKind.MILL_3AXIS, MachineKind.MILL_5AXIS)),
    ("vmc-haas", "Haas_1", (MachineKind.MILL_3AXIS,)),
]

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
REASON_MINUTES = {code: minutes for code, _, _, _, minutes in DOWNTIME_REASONS}
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
MACHINING = ("MILL3", "MILL5", "LATHE", "EDM")  # the work centers that cut the part, each step with an NC program
# The tool kit of a work center's steps, by the material's tool family; the wire EDM has one wire for all.
TOOL_KITS = {"MILL3": "TK-M-{family}", "MILL5": "TK-5X-{family}", "LATHE": "TK-L-{family}", "EDM": "WIRE-0.25-BRASS"}
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

# --- Drawing from the tables ---------------------------------------------------------------------------------


def routing_plan(rng: random.Random, family: str, material: str) -> list[tuple[str, str | None, tuple | None]]:
    """A part's routing as steps (name, work center, outside process): machining, deburr, finishing outside,
    CMM."""
    chance = rng.random
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


def weighted(rng: random.Random, table: Sequence[tuple[Any, int]]) -> Any:
    """One value of a table of (value, weight) pairs."""
    return rng.choices([value for value, _ in table], weights=[weight for _, weight in table])[0]


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

