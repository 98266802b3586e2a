"""The services the collector and edge devices call, against the real database: the status log a monitored machine
gets from its signals and its operator, replays and restarts, gaps and lost connections, unexplained stops."""

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection as db_connection
from django.utils import timezone

from core.errors import ApplicationError, Conflict, Forbidden
from machines.choices import MachineState, StateSource
from machines.connectivity.observations import Kind, Observation
from machines.connectivity.selectors import connection_cursor, stops_unexplained
from machines.connectivity.services import (
    connection_gap,
    connection_ingest,
    connection_lost,
    connections_ingest,
    stop_explain,
)
from machines.models import DowntimeReason, MachineConnection, MachineStateEvent
from machines.services.states import machine_state_change, state_totals_rebuild
from tests.factories import MachineFactory

T0 = (timezone.now() - dt.timedelta(hours=8)).replace(microsecond=0)
AGENT = "1700000000"


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


class Agent:
    """Numbers observations as an agent does: one sequence for every data item of the device."""

    def __init__(self, sequence: int = 1):
        self.sequence = sequence

    def __call__(self, kind: Kind, value: str, minutes: float, **fields) -> Observation:
        observation = Observation(kind=kind, value=value, timestamp=at(minutes), sequence=self.sequence, **fields)
        self.sequence += 1
        return observation


def ingest(machine, observations, instance_id=AGENT) -> int:
    next_sequence = max((o.sequence for o in observations), default=0) + 1
    return connection_ingest(machine_id=machine.pk, instance_id=instance_id, observations=observations,
                             next_sequence=next_sequence)


def log(machine) -> list[tuple]:
    return [(event.state, event.source, event.note, event.reason_id)
            for event in MachineStateEvent.objects.filter(machine=machine).order_by("started_at", "pk")]


def states(machine) -> list[str]:
    return [row[0] for row in log(machine)]


@pytest.fixture
def alarm(db):
    return DowntimeReason.objects.create(code="ALARM", label="Machine alarm")


@pytest.fixture
def monitored(db):
    """A machine whose agent has reported it powered up and ready in automatic."""
    machine = MachineFactory()
    agent = Agent()
    ingest(machine, [agent(Kind.AVAILABILITY, "AVAILABLE", 0), agent(Kind.CONTROLLER_MODE, "AUTOMATIC", 0),
                     agent(Kind.EXECUTION, "READY", 0)])
    machine.agent = agent
    return machine


@pytest.mark.django_db
def test_a_feed_hold_nobody_reported_is_a_stop_then_running_again(monitored, operator):
    agent = monitored.agent
    machine_state_change(machine_id=monitored.pk, state=MachineState.RUNNING, user=operator, at=at(1))
    ingest(monitored, [agent(Kind.EXECUTION, "ACTIVE", 2), agent(Kind.EXECUTION, "FEED_HOLD", 10),
                       agent(Kind.EXECUTION, "ACTIVE", 50)])

    assert log(monitored) == [
        (MachineState.IDLE, StateSource.MTCONNECT, "", None),
        (MachineState.STOPPED, StateSource.MTCONNECT, "Not in cycle", None),  # run started, no cycle yet
        (MachineState.RUNNING, StateSource.MTCONNECT, "", None),
        (MachineState.STOPPED, StateSource.MTCONNECT, "Feed hold", None),
        (MachineState.RUNNING, StateSource.MTCONNECT, "", None),
    ]
    feed_hold = MachineStateEvent.objects.get(machine=monitored, note="Feed hold")
    assert (feed_hold.started_at, feed_hold.ended_at) == (at(10), at(50))
    assert state_totals_rebuild(machine_ids=[monitored.pk]) == 0  # the running totals were written right


@pytest.mark.django_db
def test_one_document_of_several_machines_is_each_machine_s_batch_as_if_alone(monitored, operator):
    """The collector hands one agent's document for all its machines at once: each machine's log, values and cursor
    come out as they would from its own call, a machine seen for the first time and a replayed batch included."""
    alone, together, new = monitored, MachineFactory(), MachineFactory()
    agent = monitored.agent
    first = Agent()
    ingest(together, [first(Kind.AVAILABILITY, "AVAILABLE", 0), first(Kind.CONTROLLER_MODE, "AUTOMATIC", 0),
                      first(Kind.EXECUTION, "READY", 0)])
    batch = [agent(Kind.EXECUTION, "ACTIVE", 2), agent(Kind.PART_COUNT, "1", 3, sub_type="ALL"),
             agent(Kind.EXECUTION, "FEED_HOLD", 10), agent(Kind.EXECUTION, "ACTIVE", 50)]
    for machine in (alone, together, new):
        machine_state_change(machine_id=machine.pk, state=MachineState.RUNNING, user=operator, at=at(1))
    next_sequence = agent.sequence

    assert connection_ingest(machine_id=alone.pk, instance_id=AGENT, observations=batch,
                             next_sequence=next_sequence) == 4
    applied = connections_ingest(instance_id=AGENT, next_sequence=next_sequence,
                                 batches={together.pk: batch, new.pk: batch})
    again = connections_ingest(instance_id=AGENT, next_sequence=next_sequence,
                               batches={together.pk: batch, new.pk: batch})

    assert applied == {together.pk: 4, new.pk: 4} and again == {together.pk: 0, new.pk: 0}
    assert log(together) == log(alone)
    assert states(new) == [MachineState.RUNNING, MachineState.STOPPED, MachineState.RUNNING]
    assert connection_cursor(machine_id=together.pk) == connection_cursor(machine_id=new.pk) == (AGENT, next_sequence)
    assert MachineConnection.objects.get(machine=together).signals == MachineConnection.objects.get(
        machine=alone).signals
    assert state_totals_rebuild(machine_ids=[alone.pk, together.pk, new.pk]) == 0


@pytest.mark.django_db
def test_signals_that_change_no_state_write_no_interval_but_are_kept(monitored, operator):
    agent = monitored.agent
    machine_state_change(machine_id=monitored.pk, state=MachineState.RUNNING, user=operator, at=at(1))
    ingest(monitored, [agent(Kind.EXECUTION, "ACTIVE", 2)])
    before = log(monitored)

    applied = ingest(monitored, [
        agent(Kind.PROGRAM, "O1234", 3), agent(Kind.PART_COUNT, "17", 4, sub_type="ALL"),
        agent(Kind.EXECUTION, "ACTIVE", 5), agent(Kind.CONDITION, "WARNING", 6, data_item_id="logic",
                                                  native_code="W12", text="Coolant low"),
        agent(Kind.EMERGENCY_STOP, "ARMED", 7),
    ])

    assert applied == 5
    assert log(monitored) == before
    signals = MachineConnection.objects.get(machine=monitored).signals
    assert (signals["program"], signals["part_count"], signals["emergency_stop"]) == ("O1234", "17", "ARMED")
    assert signals["conditions"]["logic"]["W12"]["text"] == "Coolant low"
    assert signals["at"]["program"] == at(3).isoformat()


@pytest.mark.django_db
def test_a_replay_adds_nothing_twice_and_a_resumed_batch_adds_only_the_rest(monitored, operator):
    machine_state_change(machine_id=monitored.pk, state=MachineState.RUNNING, user=operator, at=at(1))
    agent = Agent(sequence=monitored.agent.sequence)
    batch = [agent(Kind.EXECUTION, "ACTIVE" if n % 2 == 0 else "FEED_HOLD", 2 + n) for n in range(6)]

    assert ingest(monitored, batch[:4]) == 4
    after_first = log(monitored)
    assert ingest(monitored, batch[:4]) == 0  # the collector restarted from an older cursor
    assert log(monitored) == after_first
    assert ingest(monitored, batch[2:]) == 2  # overlapping: the first two of it were applied
    assert states(monitored)[-6:] == ["running", "stopped"] * 3
    assert connection_cursor(machine_id=monitored.pk) == (AGENT, batch[-1].sequence + 1)


@pytest.mark.django_db
def test_a_restarted_agent_numbers_from_one_again_under_a_new_instance(monitored, operator):
    machine_state_change(machine_id=monitored.pk, state=MachineState.RUNNING, user=operator, at=at(1))
    ingest(monitored, [monitored.agent(Kind.EXECUTION, "ACTIVE", 2)])
    restarted = Agent(sequence=1)

    assert ingest(monitored, [restarted(Kind.EXECUTION, "FEED_HOLD", 3)], instance_id="1700009999") == 1
    assert states(monitored)[-1] == MachineState.STOPPED
    assert connection_cursor(machine_id=monitored.pk) == ("1700009999", 2)


@pytest.mark.django_db
def test_no_cursor_before_the_first_observation():
    assert connection_cursor(machine_id=MachineFactory().pk) is None


@pytest.mark.django_db
def test_a_buffer_overrun_is_unknown_time_between_its_ends(monitored, operator):
    machine_state_change(machine_id=monitored.pk, state=MachineState.RUNNING, user=operator, at=at(1))
    ingest(monitored, [monitored.agent(Kind.EXECUTION, "ACTIVE", 2)])
    sequence = monitored.agent.sequence

    gap = dict(machine_id=monitored.pk, instance_id=AGENT, since=at(10), until=at(25), next_sequence=sequence + 500)
    connection_gap(**gap)
    connection_gap(**gap)  # told twice

    unknown = MachineStateEvent.objects.get(machine=monitored, state=MachineState.DISCONNECTED)
    assert (unknown.started_at, unknown.ended_at) == (at(10), at(25))
    assert "buffer overran" in unknown.note
    assert states(monitored)[-2:] == [MachineState.DISCONNECTED, MachineState.RUNNING]
    assert connection_cursor(machine_id=monitored.pk) == (AGENT, sequence + 500)


@pytest.mark.django_db
def test_a_lost_connection_is_disconnected_time_with_its_error_until_the_signals_return(monitored, operator):
    machine_state_change(machine_id=monitored.pk, state=MachineState.RUNNING, user=operator, at=at(1))
    ingest(monitored, [monitored.agent(Kind.EXECUTION, "ACTIVE", 2)])

    connection_lost(machine_id=monitored.pk, at=at(30), error="Connection refused")
    connection_lost(machine_id=monitored.pk, at=at(31), error="Connection timed out")  # the collector retries

    status = MachineConnection.objects.get(machine=monitored)
    assert not status.connected
    assert (status.last_error, status.last_error_at) == ("Connection timed out", at(31))
    lost = MachineStateEvent.objects.get(machine=monitored, state=MachineState.DISCONNECTED)
    assert (lost.started_at, lost.ended_at, lost.note) == (at(30), None, "Connection lost: Connection refused")

    ingest(monitored, [monitored.agent(Kind.EXECUTION, "ACTIVE", 45)])  # back: the last cycle runs on
    assert states(monitored)[-2:] == [MachineState.DISCONNECTED, MachineState.RUNNING]
    assert MachineStateEvent.objects.get(machine=monitored, state=MachineState.DISCONNECTED).ended_at == at(45)
    assert MachineConnection.objects.get(machine=monitored).connected


@pytest.mark.django_db
def test_a_run_started_while_the_machine_is_in_cycle_is_the_machines_running_time(monitored, operator):
    """The reports' measured run time counts the machine's own intervals: the tap that made Spindle look must not
    turn hours of cycling into operator-reported time."""
    ingest(monitored, [monitored.agent(Kind.EXECUTION, "ACTIVE", 2)])
    machine_state_change(machine_id=monitored.pk, state=MachineState.SETUP, user=operator, at=at(3))
    machine_state_change(machine_id=monitored.pk, state=MachineState.RUNNING, user=operator, at=at(9))

    assert log(monitored)[-2:] == [(MachineState.SETUP, StateSource.TERMINAL, "", None),
                                   (MachineState.RUNNING, StateSource.MTCONNECT, "", None)]


@pytest.mark.django_db
def test_the_operators_pause_explains_a_stop_and_a_lost_connection(monitored, operator, alarm):
    machine_state_change(machine_id=monitored.pk, state=MachineState.RUNNING, user=operator, at=at(1))
    ingest(monitored, [monitored.agent(Kind.EXECUTION, "ACTIVE", 2)])

    machine_state_change(machine_id=monitored.pk, state=MachineState.DOWN, reason=alarm, user=operator, at=at(5))
    assert states(monitored)[-1] == MachineState.RUNNING  # the cycle runs on: the machine says it runs
    ingest(monitored, [monitored.agent(Kind.EXECUTION, "FEED_HOLD", 6)])
    connection_lost(machine_id=monitored.pk, at=at(7), error="Power off")

    assert log(monitored)[-1] == (MachineState.DOWN, StateSource.MTCONNECT, "Feed hold", alarm.pk)
    machine_state_change(machine_id=monitored.pk, state=MachineState.RUNNING, user=operator, at=at(20))
    assert log(monitored)[-1][:3] == (MachineState.DISCONNECTED, StateSource.MTCONNECT, "Connection lost: Power off")


@pytest.mark.django_db
def test_in_a_setup_only_an_alarm_leaves_setup(monitored, operator):
    agent = monitored.agent
    machine_state_change(machine_id=monitored.pk, state=MachineState.SETUP, user=operator, at=at(1))
    ingest(monitored, [
        agent(Kind.EXECUTION, "ACTIVE", 2), agent(Kind.CONTROLLER_MODE, "MANUAL_DATA_INPUT", 3),
        agent(Kind.EXECUTION, "FEED_HOLD", 4), agent(Kind.CONTROLLER_MODE, "AUTOMATIC", 5),
        agent(Kind.EXECUTION, "ACTIVE", 6),  # prove-out
        agent(Kind.CONDITION, "FAULT", 7, data_item_id="servo", native_code="401", text="Servo alarm 401"),
        agent(Kind.CONDITION, "NORMAL", 9, data_item_id="servo"),
    ])
    assert [row[:3] for row in log(monitored)] == [
        (MachineState.IDLE, StateSource.MTCONNECT, ""),
        (MachineState.SETUP, StateSource.TERMINAL, ""),
        (MachineState.ALARM, StateSource.MTCONNECT, "Servo alarm 401"),
        (MachineState.SETUP, StateSource.MTCONNECT, ""),
    ]


@pytest.mark.django_db
def test_changes_at_one_instant_leave_the_last_and_no_empty_interval(monitored, operator):
    agent = monitored.agent
    machine_state_change(machine_id=monitored.pk, state=MachineState.RUNNING, user=operator, at=at(1))
    ingest(monitored, [agent(Kind.EXECUTION, "ACTIVE", 2)])
    before = log(monitored)
    ingest(monitored, [agent(Kind.EXECUTION, "FEED_HOLD", 3), agent(Kind.EXECUTION, "ACTIVE", 3)])
    assert log(monitored) == before  # a blip of no length: still running, in one interval
    ingest(monitored, [agent(Kind.EXECUTION, "FEED_HOLD", 4),
                       agent(Kind.CONDITION, "FAULT", 4, data_item_id="servo", native_code="401", text="Overtravel")])
    assert log(monitored)[len(before):] == [(MachineState.ALARM, StateSource.MTCONNECT, "Overtravel", None)]
    assert state_totals_rebuild(machine_ids=[monitored.pk]) == 0


@pytest.mark.django_db
def test_times_stay_between_the_open_interval_and_now(monitored, operator):
    machine_state_change(machine_id=monitored.pk, state=MachineState.RUNNING, user=operator, at=at(60))
    agent = monitored.agent
    ingest(monitored, [agent(Kind.EXECUTION, "ACTIVE", 30)])  # older than the operator's change
    assert MachineStateEvent.objects.get(machine=monitored, ended_at__isnull=True).started_at == at(60)

    before = timezone.now()
    ingest(monitored, [agent(Kind.EXECUTION, "FEED_HOLD", 24 * 60)])  # an agent clock hours ahead
    stop = MachineStateEvent.objects.get(machine=monitored, ended_at__isnull=True)
    assert stop.state == MachineState.STOPPED and before <= stop.started_at <= timezone.now()
    machine_state_change(machine_id=monitored.pk, state=MachineState.IDLE, user=operator)  # no Conflict
    assert states(monitored)[-1] == MachineState.IDLE


@pytest.mark.django_db
def test_a_batch_costs_a_handful_of_queries_however_many_observations_change_the_state(
        monitored, operator, django_assert_max_num_queries):
    machine_state_change(machine_id=monitored.pk, state=MachineState.RUNNING, user=operator, at=at(1))
    agent = monitored.agent
    batch = [agent(Kind.EXECUTION, "ACTIVE" if n % 2 == 0 else "FEED_HOLD", 2 + n / 100) for n in range(2000)]

    with django_assert_max_num_queries(8):
        assert ingest(monitored, batch) == 2000

    assert MachineStateEvent.objects.filter(machine=monitored).count() == 2 + 2000
    assert state_totals_rebuild(machine_ids=[monitored.pk]) == 0


@pytest.mark.django_db
def test_a_machine_that_never_reported_keeps_the_terminals_states(operator, alarm):
    machine = MachineFactory()
    machine_state_change(machine_id=machine.pk, state=MachineState.RUNNING, user=operator, at=at(1))
    machine_state_change(machine_id=machine.pk, state=MachineState.DOWN, reason=alarm, user=operator, at=at(2))
    assert log(machine) == [(MachineState.RUNNING, StateSource.TERMINAL, "", None),
                            (MachineState.DOWN, StateSource.TERMINAL, "", alarm.pk)]
    assert not MachineConnection.objects.filter(machine=machine).exists()


@pytest.mark.django_db
def test_a_machine_starts_monitoring_from_what_the_operator_declared(operator):
    machine = MachineFactory()
    machine_state_change(machine_id=machine.pk, state=MachineState.RUNNING, user=operator, at=at(1))
    agent = Agent()
    ingest(machine, [agent(Kind.EXECUTION, "ACTIVE", 2), agent(Kind.EXECUTION, "FEED_HOLD", 3)])
    assert states(machine) == [MachineState.RUNNING, MachineState.STOPPED]


# --- Unexplained stops -----------------------------------------------------------------------------------------


@pytest.fixture
def stops(monitored, operator):
    """In production: a 10-minute feed hold, a 1-minute one, then a feed hold still going on for 5 minutes."""
    machine_state_change(machine_id=monitored.pk, state=MachineState.RUNNING, user=operator, at=at(1))
    agent = monitored.agent
    ingest(monitored, [agent(Kind.EXECUTION, "ACTIVE", 2), agent(Kind.EXECUTION, "FEED_HOLD", 10),
                       agent(Kind.EXECUTION, "ACTIVE", 20), agent(Kind.EXECUTION, "FEED_HOLD", 30),
                       agent(Kind.EXECUTION, "ACTIVE", 31), agent(Kind.EXECUTION, "FEED_HOLD", 40)])
    return monitored


@pytest.mark.django_db
def test_stops_longer_than_the_threshold_wait_for_a_reason(stops):
    unexplained = stops_unexplained(machine_id=stops.pk, now=at(45))
    assert [(event.started_at, event.ended_at) for event in unexplained] == [(at(10), at(20)), (at(40), None)]
    assert not stops_unexplained(machine_id=stops.pk, now=at(41)).filter(ended_at__isnull=True).exists()
    stops.unexplained_stop_seconds = 59  # now the minute between starting the run and its first cycle counts too
    stops.save()
    assert [e.started_at for e in stops_unexplained(machine_id=stops.pk, now=at(45))] == [at(1), at(10), at(30),
                                                                                         at(40)]
    assert [e.started_at for e in stops_unexplained(machine_id=stops.pk, now=at(45), since=at(35))] == [at(40)]


@pytest.mark.django_db
def test_a_reason_explains_the_whole_stop_once(stops, operator, alarm):
    stop = stops_unexplained(machine_id=stops.pk, now=at(45))[0]
    explained = stop_explain(machine_id=stops.pk, event_id=stop.pk, reason_id=alarm.pk, user=operator)
    again = stop_explain(machine_id=stops.pk, event_id=stop.pk, reason_id=alarm.pk, user=operator)

    assert explained.reason == again.reason == alarm
    stop.refresh_from_db()
    assert (stop.started_at, stop.ended_at, stop.reason) == (at(10), at(20), alarm)
    assert stop not in stops_unexplained(machine_id=stops.pk, now=at(45))


@pytest.mark.django_db
def test_an_explained_open_stop_keeps_its_reason_while_the_machine_stays_stopped(stops, operator, alarm):
    open_stop = MachineStateEvent.objects.get(machine=stops, ended_at__isnull=True)
    stop_explain(machine_id=stops.pk, event_id=open_stop.pk, reason_id=alarm.pk, user=operator)
    ingest(stops, [stops.agent(Kind.EXECUTION, "READY", 46)])  # still stopped, for another cause
    assert MachineStateEvent.objects.get(machine=stops, ended_at__isnull=True) == open_stop


@pytest.mark.django_db
def test_explaining_refuses_a_planned_reason_an_interval_that_is_no_stop_and_other_roles(stops, operator, planner,
                                                                                        alarm):
    stop = stops_unexplained(machine_id=stops.pk, now=at(45))[0]
    running = MachineStateEvent.objects.filter(machine=stops, state=MachineState.RUNNING).first()
    lunch = DowntimeReason.objects.create(code="LUNCH", label="Lunch", planned=True)
    with pytest.raises(ApplicationError, match="planned reason"):
        stop_explain(machine_id=stops.pk, event_id=stop.pk, reason_id=lunch.pk, user=operator)
    with pytest.raises(Conflict, match="not a stop"):
        stop_explain(machine_id=stops.pk, event_id=running.pk, reason_id=alarm.pk, user=operator)
    with pytest.raises(Forbidden):
        stop_explain(machine_id=stops.pk, event_id=stop.pk, reason_id=alarm.pk, user=planner)
    stop.refresh_from_db()
    assert stop.reason is None


# --- Two collectors at once --------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_ingests_of_one_batch_at_once_apply_it_once(operator):
    machine = MachineFactory()
    machine_state_change(machine_id=machine.pk, state=MachineState.RUNNING, user=operator, at=at(1))
    agent = Agent()
    batch = [agent(Kind.EXECUTION, "ACTIVE" if n % 2 == 0 else "FEED_HOLD", 2 + n) for n in range(40)]

    def run(_):
        try:
            return ingest(machine, batch)
        finally:
            db_connection.close()  # each thread has its own connection

    with ThreadPoolExecutor(max_workers=2) as pool:
        applied = sorted(pool.map(run, range(2)))

    assert applied == [0, 40]
    assert MachineStateEvent.objects.filter(machine=machine).count() == 1 + 39  # the first only confirms running
    assert MachineStateEvent.objects.filter(machine=machine, ended_at__isnull=True).count() == 1
    assert state_totals_rebuild(machine_ids=[machine.pk]) == 0
