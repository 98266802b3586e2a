"""The demo shop, seeded stage by stage through the services of the apps, as its users would have made it: the
catalogue's tables (catalog.py) made into records, past jobs run by the simulator (history.py), open jobs, and a few
operations on machines now.

Deterministic for a seed on a given day: every choice comes from one random.Random(seed), drawn in the order of
the stages, and every time is placed relative to today's local midnight; only the machines' current states are
cut at the moment it runs."""

import datetime as dt
import hashlib
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import CommandError
from django.db import models
from django.utils import timezone

from core.errors import ApplicationError
from core.roles import ROLES
from core.services import record_create, record_update
from demo import catalog
from demo.history import Clock, History
from inspection.choices import Designator, GaugeStatus, RequirementKind, Sampling
from inspection.models import Characteristic, Gauge, GaugeType, InspectionPlan
from inspection.services.gauges import gauge_calibrate
from jobs.choices import JobStatus, MaterialStatus, NCProgramStatus, OperationStatus, PartRevisionStatus, StepKind
from jobs.models import (
    Customer,
    Job,
    JobOperation,
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
from jobs.services.operations import operation_first_piece, operation_report, operation_start_setup
from jobs.services.release import job_create, job_release, part_revision_release
from machines.choices import CalendarExceptionKind, FixtureKind, FixtureStatus, MachineKind
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


@dataclass
class JobPlan:
    """A job drawn before it is made: numbered, given its sales order line, then created through the services."""

    revision: PartRevision
    quantity: int
    due_date: dt.date
    priority: int
    material_status: str
    ordered_on: dt.date
    released: bool = True  # when it is created; the history releases a past job when its work may start
    material_expected_on: dt.date | None = None
    ready_at: dt.datetime | None = None  # history: when the first operation may start
    number: str = ""
    order_line: SalesOrderLine | None = None
    job: Job | None = None


class Seeder:
    """One `seed_…` method per stage; `run` calls them in order, which is the order of the random draws."""

    def __init__(self, *, seed: int, size: catalog.Size, write: Callable[[str], None]):
        self.rng = random.Random(seed)
        self.size = size
        self.write = write
        self.clock = Clock.on(timezone.localdate(), size)
        self.users: dict[str, Any] = {}
        self.crew: list[Any] = []
        self.calendars: dict[str, Calendar] = {}
        self.work_centers: dict[str, WorkCenter] = {}
        self.machines: dict[str, list[Machine]] = {}
        self.fixtures: dict[str, list[Fixture]] = {}
        self.reasons: dict[str, DowntimeReason] = {}
        self.scrap_reasons: list[ScrapReason] = []
        self.gauge_types: dict[str, GaugeType] = {}
        self.industry: dict[int, str] = {}
        self.revisions: list[PartRevision] = []  # the newest released revision of each part: open work
        self.past_revisions: list[PartRevision] = []  # what past jobs made: new parts and revisions are not here
        self.program_number = 1000 + self.rng.randint(0, 800)
        self.job_sequence: dict[int, int] = {}
        self.order_sequence = 10000 + self.rng.randint(0, 4000)
        self.kept_users: list[str] = []

    @property
    def admin(self) -> Any:
        return self.users["admin"]  # records everything: the history shows the demo's admin made it

    def create(self, model: type[models.Model], **data: Any) -> Any:
        return record_create(model=model, user=self.admin, data=data)

    def run(self) -> None:
        self.stage("Users", self.seed_users)
        self.stage("Calendars", self.seed_calendars)
        self.stage("Machines", self.seed_machines)
        self.stage("Fixtures", self.seed_fixtures)
        self.stage("Changeover rules", self.seed_changeover_rules)
        self.stage("Downtime and scrap reasons", self.seed_reasons)
        self.stage("Gauges", self.seed_gauges)
        self.stage("Customers, parts, routings, inspection plans", self.seed_parts)
        history = History(rng=self.rng, clock=self.clock, running_minutes=self.size.running_minutes,
                          admin=self.admin, operators=[self.users["operator"], *self.crew],
                          machines=[machine for machines in self.machines.values() for machine in machines],
                          reasons=self.reasons, scrap_reasons=self.scrap_reasons)
        self.stage("Past jobs and their operations", lambda: self.seed_job_history(history))
        self.stage("Open jobs", self.seed_open_jobs)
        self.stage("Current machine setups", history.record_current_setups)
        self.stage("Machine state history", history.record_machine_states)
        self.stage("Work in progress", self.seed_work_in_progress)

    def stage(self, name: str, seed: Callable[[], None]) -> None:
        began = time.monotonic()
        self.write(f"  {name}...")
        seed()
        self.write(f"    done in {time.monotonic() - began:.1f} s")

    # Users ------------------------------------------------------------------------------------------------------

    def seed_users(self) -> None:
        user_model = get_user_model()
        groups = {group.name: group for group in Group.objects.filter(name__in=ROLES)}
        if set(groups) != set(ROLES):
            raise CommandError("The role groups are missing: run `manage.py migrate` first.")
        for username, first_name, last_name, staff in catalog.DEMO_USERS:
            user = user_model.objects.filter(username=username).first()
            if user is None:
                user = user_model.objects.create_user(
                    username=username, password=catalog.DEMO_PASSWORD, first_name=first_name, last_name=last_name,
                    email=f"{username}@spindle.example", is_staff=staff, is_superuser=username == "admin")
            else:
                self.kept_users.append(username)  # someone made it before: leave its password alone
            user.groups.add(groups[username])
            self.users[username] = user
        for username, first_name, last_name in catalog.CREW:
            user = user_model.objects.create_user(username=username, password=None, first_name=first_name,
                                                  last_name=last_name, email=f"{username}@spindle.example")
            user.groups.add(groups["operator"])
            self.crew.append(user)

    # Machines ---------------------------------------------------------------------------------------------------

    def seed_calendars(self) -> None:
        last_day = self.clock.today + dt.timedelta(weeks=8)
        first_day = timezone.localdate(self.clock.history_start)
        holidays = [(day, name) for year in range(first_day.year, last_day.year + 1)
                    for day, name in catalog.us_holidays(year) if first_day <= day <= last_day]
        for name, description, windows in catalog.CALENDARS:
            calendar = self.create(Calendar, name=name, description=description)
            for weekday in catalog.WORKDAYS:
                for window_name, opens, closes, attended in windows:
                    self.create(ShiftWindow, calendar=calendar, name=window_name, weekday=weekday, start_time=opens,
                                end_time=closes, attended=attended)
            for day, holiday in holidays:
                self.create(CalendarException, calendar=calendar, kind=CalendarExceptionKind.CLOSED,
                            starts_at=catalog.local(day), ends_at=catalog.local(day + catalog.DAY), attended=False,
                            priority=10, note=holiday)
            self.calendars[name] = calendar

    def seed_machines(self) -> None:
        for code, name, description, prefix, catalogue in catalog.WORK_CENTERS:
            center = self.create(WorkCenter, code=code, name=name, description=description)
            self.work_centers[code] = center
            bought = [catalogue[i % len(catalogue)] for i in range(self.size.machines[code])]
            self.machines[code] = []
            for i, (model, kind, rate) in enumerate(bought):
                twins = [other for other, _, _ in bought if other == model]
                label = model if len(twins) == 1 else f"{model} #{[m for m, _, _ in bought[:i + 1]].count(model)}"
                calendar = catalog.LIGHTS_OUT if model in catalog.LIGHTS_OUT_MODELS else catalog.TWO_SHIFTS
                machine = self.create(Machine, code=f"{prefix}-{i + 1:02d}", name=label, work_center=center, kind=kind,
                                      hourly_rate=Decimal(rate), calendar=self.calendars[calendar])
                self.machines[code].append(machine)

    def seed_fixtures(self) -> None:
        for rack, (prefix, name, kind, centers, count) in enumerate(catalog.FIXTURES):
            for n in range(1, count * self.size.fixture_sets + 1):
                code = f"{prefix}-{n:02d}"
                status, location = catalog.FIXTURES_OUT.get(
                    code, (FixtureStatus.AVAILABLE, f"Tool crib, rack {rack + 1}-{n}"))
                fixture = self.create(Fixture, code=code, name=f"{name} #{n}", kind=kind, status=status,
                                      storage_location=location,
                                      compatible_work_centers=[self.work_centers[c] for c in centers])
                if status == FixtureStatus.AVAILABLE:
                    for center in centers:
                        self.fixtures.setdefault(center, []).append(fixture)

    def seed_changeover_rules(self) -> None:
        for code, minutes in catalog.CHANGEOVER_MINUTES.items():
            for attribute, value in zip(catalog.CHANGEOVER_ATTRIBUTES, minutes, strict=True):
                if value:
                    self.changeover_rule(code, attribute, "*", "*", value, priority=0)
        for code, attribute, from_value, to_value, minutes in catalog.CHANGEOVER_SPECIFIC:
            self.changeover_rule(code, attribute, from_value, to_value, minutes, priority=10)

    def changeover_rule(self, code: str, attribute: str, from_value: str, to_value: str, minutes: int, *,
                        priority: int) -> None:
        rate = self.machines[code][0].hourly_rate  # the cost is the machine time it takes
        self.create(ChangeoverRule, work_center=self.work_centers[code], attribute=attribute, from_value=from_value,
                    to_value=to_value, minutes=minutes, cost=(rate * minutes / 60).quantize(Decimal("0.01")),
                    priority=priority)

    def seed_reasons(self) -> None:
        for code, label, planned, category, _ in catalog.DOWNTIME_REASONS:
            self.reasons[code] = self.create(DowntimeReason, code=code, label=label, planned=planned,
                                             loss_category=category)
        self.scrap_reasons = [self.create(ScrapReason, code=code, label=label)
                              for code, label in catalog.SCRAP_REASONS]

    # Inspection -------------------------------------------------------------------------------------------------

    def seed_gauges(self) -> None:
        for code, name in catalog.GAUGE_TYPES:
            self.gauge_types[code] = self.create(GaugeType, code=code, name=name)
        rows = [row for row in catalog.GAUGES for _ in range(row[-1])]
        # A few overdue and a few due within two weeks, so the inspector's list has something to show.
        overdue, due_soon = set(self.rng.sample(range(len(rows)), 3)), set(self.rng.sample(range(len(rows)), 7))
        due_soon -= overdue
        numbers: dict[str, int] = {}
        for i, (type_code, prefix, description, low, high, resolution, unit, interval, _) in enumerate(rows):
            numbers[prefix] = numbers.get(prefix, 0) + 1
            if i in overdue:
                last = self.clock.today - dt.timedelta(days=interval + self.rng.randint(3, 25))
            elif i in due_soon:
                last = self.clock.today - dt.timedelta(days=interval - self.rng.randint(2, 13))
            else:
                last = self.clock.today - dt.timedelta(days=self.rng.randint(10, interval - 20))
            gauge = self.create(
                Gauge, asset_id=f"{prefix}-{numbers[prefix]:03d}", gauge_type=self.gauge_types[type_code],
                description=description, range_low=low and Decimal(low), range_high=high and Decimal(high),
                resolution=resolution and Decimal(resolution), unit=unit,
                location="QC lab" if type_code == "CMM" else self.rng.choice(catalog.GAUGE_LOCATIONS),
                calibration_interval_days=interval)
            found_worn = self.rng.random() < 0.1
            # The service sets the next due date from the interval and the status from it.
            gauge_calibrate(gauge_id=gauge.pk, user=self.admin, calibrated_on=last,
                            as_found_in_tolerance=not found_worn,
                            as_found_notes="Worn, adjusted and re-verified." if found_worn else "",
                            as_left_in_tolerance=True,
                            certificate_number=f"C{last:%y}-{self.rng.randint(10000, 99999)}",
                            performed_by=self.rng.choice(catalog.CALIBRATION_LABS))

    # Parts ------------------------------------------------------------------------------------------------------

    def seed_parts(self) -> None:
        customers = []
        for code, name, industry in catalog.CUSTOMERS:
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
            shape, family = self.rng.choice(catalog.SHAPES)
            part = self.create(Part, number=number, description=f"{shape}, {self.rng.choice(catalog.QUALIFIERS)}",
                               customer=customer)
            material = self.rng.choice(catalog.INDUSTRY_MATERIALS[industry])
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

    def seed_routing(self, revision: PartRevision, family: str, material: str, *, newer: bool) -> list[RoutingStep]:
        routing = self.create(Routing, part_revision=revision, version=1)
        plan = catalog.routing_plan(self.rng, family, material)
        tool_family = catalog.MATERIALS[material][0]
        steps = []
        for position, (name, code, process) in enumerate(plan):
            number = (position + 1) * 10
            if process is not None:
                process_name, vendor, lead_days, cost = process
                steps.append(self.create(RoutingStep, routing=routing, operation_number=number, name=process_name,
                                         kind=StepKind.OUTSIDE, vendor=vendor, lead_days=lead_days,
                                         outside_cost=Decimal(cost)))
                continue
            (setup_low, setup_high), (cycle_low, cycle_high) = catalog.STEP_STANDARDS[code]
            fixture = self.rng.choice(self.fixtures[code]) if code in self.fixtures and self.rng.random() < 0.9 \
                else None
            per_cycle = self.rng.randint(4, 8) if fixture and fixture.kind == FixtureKind.TOMBSTONE else (
                2 if code in ("MILL3", "MILL5") and self.rng.random() < 0.1 else 1)
            machine = self.rng.choice(self.machines[code]) if self.rng.random() < 0.3 else None
            program = None
            if code in catalog.MACHINING:
                self.program_number += self.rng.randint(1, 7)
                program_number = f"O{self.program_number}"
                proven = self.rng.random() < (0.6 if newer else 0.9)
                program = self.create(
                    NCProgram, part_revision=revision, operation_number=number, machine=machine,
                    work_center=None if machine else self.work_centers[code], program_number=program_number,
                    checksum=hashlib.sha256(f"{revision}:{number}:{program_number}".encode()).hexdigest(),
                    status=NCProgramStatus.PROVEN if proven else NCProgramStatus.UNPROVEN)
            cycle = round(self.rng.uniform(cycle_low, cycle_high), 1)
            previous_is_machining = any(step.work_center_id and step.work_center.code in catalog.MACHINING
                                        for step in steps)
            step = self.create(
                RoutingStep, routing=routing, operation_number=number, name=name, work_center=self.work_centers[code],
                setup_minutes=Decimal(5 * round(self.rng.uniform(setup_low, setup_high) / 5)),
                cycle_minutes=Decimal(str(cycle)), parts_per_cycle=per_cycle,
                min_wait_minutes=60 if code == "CMM" and self.rng.random() < 0.3 else 0,  # thermal stabilization
                fixture=fixture, material=material if code in catalog.MACHINING else "",
                tool_kit=catalog.TOOL_KITS.get(code, "").format(family=tool_family), nc_program=program,
                needs_first_article=code in catalog.MACHINING and not previous_is_machining,
                instructions=self.rng.choice(catalog.INSTRUCTIONS[code]))
            self.seed_step_machines(step, code, machine)
            steps.append(step)
        return steps

    def seed_step_machines(self, step: RoutingStep, code: str, program_machine: Machine | None) -> None:
        """Ranked eligible machines: the one a machine-specific program was written for, or now and then a
        preference among the work center's machines with its own standards; none means any machine of it."""
        if program_machine is not None:
            chosen = [program_machine]
        elif code in catalog.MACHINING and len(self.machines[code]) > 1 and self.rng.random() < 0.4:
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
                     in catalog.MACHINING]
        count = min(40, 5 + int(self.rng.expovariate(1 / 6)))  # most parts have about ten, a few have forty
        for balloon in range(1, count + 1):
            description, gauge_type, form, (low, high), tolerance, _ = catalog.weighted(
                self.rng, [(feature, feature[-1]) for feature in catalog.FEATURES])
            data: dict[str, Any] = {"description": description, "unit": unit}
            if form == "attribute":
                note_mm, note_in, method = catalog.ATTRIBUTE_NOTES[description]
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
            sampling = catalog.weighted(self.rng, [(Sampling.FIRST_ARTICLE_ONLY, 60), (Sampling.FIRST_LAST, 25),
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
        quantity = catalog.weighted(self.rng, catalog.SERIALIZED_QUANTITIES if revision.serialized
                                    else catalog.PRODUCTION_QUANTITIES if past else catalog.QUANTITIES)
        return JobPlan(revision=revision, quantity=quantity, due_date=due_date,
                       priority=catalog.weighted(self.rng, catalog.PRIORITIES), material_status=material_status,
                       ordered_on=ordered_on)

    def number_jobs(self, plans: list[JobPlan], made_on: Callable[[JobPlan], dt.date]) -> None:
        """WO numbers in the order the jobs were made, per year, as job_create numbers new ones."""
        for plan in plans:
            year = made_on(plan).year
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

    def create_jobs(self, plans: list[JobPlan], made_on: Callable[[JobPlan], dt.date]) -> None:
        """Number the jobs, give most customer jobs a sales order line, then create them with their material lots
        and serial numbers."""
        self.number_jobs(plans, made_on)
        self.seed_sales_orders(plans)
        for plan in plans:
            plan.job = job_create(
                user=self.admin, part_revision=plan.revision, quantity=plan.quantity, due_date=plan.due_date,
                number=plan.number, order_line=plan.order_line, priority=plan.priority,
                material_status=plan.material_status, material_expected_on=plan.material_expected_on)
            if plan.material_status in MaterialStatus.available():
                supplier = catalog.MATERIALS[plan.revision.material][1]
                for _ in range(2 if self.rng.random() < 0.1 else 1):  # now and then the bar came from two heats
                    self.create(MaterialLot, job=plan.job, material=plan.revision.material,
                                heat_number=f"{self.rng.choice('ABCDEHKLMN')}{self.rng.randint(10000, 99999)}",
                                certificate_number=f"MTR-{self.rng.randint(100000, 999999)}", supplier=supplier)
            if plan.revision.serialized:
                for piece in range(1, plan.quantity + 1):
                    self.create(SerialNumber, job=plan.job, serial=f"{plan.number}-{piece:03d}")
            if plan.released:
                job_release(job_id=plan.job.pk, user=self.admin)

    def seed_job_history(self, history: History) -> None:
        """Jobs started in the past weeks, run on the machines' calendars; those not done by today stay open."""
        window = (self.clock.midnight - 2 * catalog.DAY) - self.clock.jobs_start
        plans = []
        for _ in range(self.size.history_jobs):
            ready_at = (self.clock.jobs_start + window * self.rng.random()).replace(second=0, microsecond=0)
            plan = self.plan_job(due_date=timezone.localdate(ready_at) + dt.timedelta(days=self.rng.randint(14, 35)),
                                 ordered_on=timezone.localdate(ready_at) - dt.timedelta(days=self.rng.randint(3, 14)),
                                 material_status=catalog.weighted(
                                     self.rng, [(MaterialStatus.RECEIVED, 1), (MaterialStatus.CUT, 2)]),
                                 past=True)
            plan.ready_at, plan.released = ready_at, False
            plans.append(plan)
        plans.sort(key=lambda plan: plan.ready_at)
        self.create_jobs(plans, made_on=lambda plan: timezone.localdate(plan.ready_at))
        history.run([(plan.ready_at, plan.job) for plan in plans])

    def seed_open_jobs(self) -> None:
        """New work due over the next six weeks beside the past jobs still open: the newest orders are left for
        the planner to release and the oldest few are already late; material mostly in, some on order."""
        count = max(0, self.size.open_jobs - Job.objects.filter(status__in=JobStatus.open()).count())
        ordered = sorted(self.clock.today - dt.timedelta(days=self.rng.randint(1, 20)) for _ in range(count))
        to_release, late = max(3, count // 12), max(2, count // 25)
        plans = []
        for index, ordered_on in enumerate(ordered):
            released = index < count - to_release
            material = catalog.weighted(
                self.rng,
                [(MaterialStatus.RECEIVED, 45), (MaterialStatus.CUT, 30), (MaterialStatus.ORDERED, 20),
                 (MaterialStatus.NOT_ORDERED, 5)] if released
                else [(MaterialStatus.NOT_ORDERED, 1), (MaterialStatus.ORDERED, 1)])
            days = -self.rng.randint(1, 6) if index < late else self.rng.randint(3, 42)
            plan = self.plan_job(due_date=self.clock.today + dt.timedelta(days=days), ordered_on=ordered_on,
                                 material_status=material, past=False)
            plan.released = released
            if material == MaterialStatus.ORDERED:
                plan.material_expected_on = self.clock.today + dt.timedelta(days=self.rng.randint(1, 14))
            plans.append(plan)
        self.create_jobs(plans, made_on=lambda plan: self.clock.today)

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
            f"{open_jobs.filter(due_date__lt=self.clock.today).count()} late) with "
            f"{JobOperation.objects.filter(job__in=open_jobs).exclude(status=OperationStatus.DONE).count()} "
            f"open operations; {Job.objects.filter(status=JobStatus.COMPLETE).count()} jobs complete",
            f"  {LabourEntry.objects.count()} labour entries, {ProductionEntry.objects.count()} production entries, "
            f"{MachineStateEvent.objects.count()} machine state events",
        ]


