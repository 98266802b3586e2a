"""Random sequences of shop-floor actions; after every step the floor's invariants hold."""

import contextlib

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from core.errors import ApplicationError
from jobs.choices import OperationStatus
from jobs.models import JobOperation, ProductionEntry, ScrapReason
from jobs.selectors import operation_quantities
from jobs.services import operations as services
from jobs.services.release import job_release
from machines.models import DowntimeReason, MachineStateEvent
from tests.factories import JobFactory, MachineFactory, RoutingStepFactory, RoutingStepMachineFactory


class ShopFloor(RuleBasedStateMachine):
    """Two jobs of a two-step routing (the second step needs a first article) on three machines."""

    @initialize()
    def build(self):
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        users = get_user_model().objects
        self.operator = users.create_user("hyp-operator")
        self.operator.groups.add(Group.objects.get(name="operator"))
        self.inspector = users.create_user("hyp-inspector")
        self.inspector.groups.add(Group.objects.get(name="inspector"))
        turn = RoutingStepFactory(operation_number=10)
        mill = RoutingStepFactory(routing=turn.routing, operation_number=20, needs_first_article=True)
        self.machines = [MachineFactory(work_center=turn.work_center), MachineFactory(work_center=mill.work_center)]
        self.machines.append(MachineFactory(work_center=mill.work_center, calendar=self.machines[1].calendar))
        RoutingStepMachineFactory(step=mill, machine=self.machines[1])
        RoutingStepMachineFactory(step=mill, machine=self.machines[2], rank=2)
        planner = users.create_user("hyp-planner")
        planner.groups.add(Group.objects.get(name="planner"))
        for _ in range(2):
            job = JobFactory(part_revision=turn.routing.part_revision, quantity=6)
            job_release(job_id=job.pk, user=planner)
        self.operations = list(JobOperation.objects.filter(job__part_revision=turn.routing.part_revision))
        self.reason = DowntimeReason.objects.create(code="HYP", label="Alarm")
        self.scrap_reason = ScrapReason.objects.create(code="HYP", label="Dimension")
        self.reported = {op.pk: 0 for op in self.operations}

    def teardown(self):
        if hasattr(self, "atomic"):
            transaction.set_rollback(True)
            self.atomic.__exit__(None, None, None)

    def attempt(self, action, **arguments):
        with contextlib.suppress(ApplicationError):  # a refusal; the invariants say nothing broke
            action(**arguments)

    @rule(op=st.integers(0, 3), machine=st.integers(0, 2))
    def start_setup(self, op, machine):
        self.attempt(services.operation_start_setup, operation_id=self.operations[op].pk,
                     machine_id=self.machines[machine].pk, user=self.operator)

    @rule(op=st.integers(0, 3), verb=st.sampled_from(["first_piece", "start_run", "resume"]))
    def step(self, op, verb):
        self.attempt(getattr(services, f"operation_{verb}"), operation_id=self.operations[op].pk, user=self.operator)

    @rule(op=st.integers(0, 3), good=st.integers(0, 4), scrap=st.integers(0, 2))
    def report(self, op, good, scrap):
        operation_id = self.operations[op].pk
        before = ProductionEntry.objects.filter(operation_id=operation_id).count()
        self.attempt(services.operation_report, operation_id=operation_id, user=self.operator, good=good,
                     scrap=scrap, scrap_reason=self.scrap_reason, confirm_overrun=True)
        if ProductionEntry.objects.filter(operation_id=operation_id).count() > before:
            self.reported[operation_id] += good + scrap

    @rule(op=st.integers(0, 3))
    def pause(self, op):
        self.attempt(services.operation_pause, operation_id=self.operations[op].pk, user=self.operator,
                     reason=self.reason)

    @rule(op=st.integers(0, 3), short=st.booleans())
    def complete(self, op, short):
        self.attempt(services.operation_complete, operation_id=self.operations[op].pk, user=self.operator,
                     short_reason="short" if short else "")

    @rule(op=st.integers(0, 3), release=st.booleans())
    def hold(self, op, release):
        action = services.operation_release_hold if release else services.operation_hold
        arguments = {} if release else {"reason": "check"}
        self.attempt(action, operation_id=self.operations[op].pk, user=self.inspector, **arguments)

    @rule(op=st.integers(0, 3), approve=st.booleans())
    def inspect(self, op, approve):
        self.attempt(services.operation_production_gate_set, operation_id=self.operations[op].pk,
                     user=self.inspector, open_gate=approve)

    @invariant()
    def machine_intervals_never_overlap(self):
        for machine in getattr(self, "machines", []):
            events = list(MachineStateEvent.objects.filter(machine=machine).order_by("started_at", "pk"))
            assert sum(event.ended_at is None for event in events) <= 1
            for earlier, later in zip(events, events[1:], strict=False):
                assert earlier.ended_at is not None and earlier.ended_at <= later.started_at

    @invariant()
    def quantities_are_the_sum_of_reports(self):
        for operation in getattr(self, "operations", []):
            totals = operation_quantities(operation)
            assert totals["good"] + totals["scrap"] == self.reported[operation.pk]

    @invariant()
    def no_production_before_the_first_article_is_approved(self):
        for operation in getattr(self, "operations", []):
            operation.refresh_from_db()
            if not operation.production_gate_open:
                assert not ProductionEntry.objects.filter(operation=operation).exists()
                assert operation.status != OperationStatus.RUNNING

    @invariant()
    def a_machine_works_one_operation_at_a_time(self):
        for machine in getattr(self, "machines", []):
            assert JobOperation.objects.filter(machine=machine, status__in=OperationStatus.active()).count() <= 1


@pytest.mark.django_db
def test_random_action_sequences_keep_the_invariants():
    run_state_machine_as_test(ShopFloor, settings=settings(
        max_examples=20, stateful_step_count=20, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    ))
