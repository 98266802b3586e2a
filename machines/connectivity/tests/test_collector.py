"""The collector against replay agents serving recorded documents, with an in-memory sink."""

import asyncio
import contextlib
import dataclasses
import datetime as dt
import socket
import threading
import time

import pytest

from machines.connectivity import replay
from machines.connectivity.observations import UNAVAILABLE, Kind
from machines.connectivity.tests.support import FAST, RecordingSink, Running, machine, run, until

VMC, HAAS, OKUMA = 1, 2, 3


@pytest.fixture
def vmc_haas():
    agent = replay.ReplayAgent(replay.load("vmc-haas")).start()
    yield agent
    agent.stop()


@pytest.fixture
def okuma():
    agent = replay.ReplayAgent(replay.load("okuma")).start()
    yield agent
    agent.stop()


def no_duplicates(sink: RecordingSink, machine_id: int) -> bool:
    seen = [(c["instance_id"], o.sequence) for c in sink.of("ingest", machine_id) for o in c["observations"]]
    return len(seen) == len(set(seen))


@pytest.mark.parametrize("stream", [True, False], ids=["streaming", "polling"])
def test_several_vendors_devices_are_read_by_type_one_stream_per_agent(vmc_haas, okuma, stream):
    sink = RecordingSink()
    machines = [machine(VMC, vmc_haas.url, "VMC-3Axis"), machine(HAAS, vmc_haas.url, "haas-001"),
                machine(OKUMA, okuma.url + "/", "OKUMA")]

    async def scenario():
        async with Running(sink, machines, dataclasses.replace(FAST, stream=stream)):
            await until(lambda: len(sink.of("ingest", OKUMA)) >= 1 and len(sink.of("ingest", HAAS)) >= 1)
            vmc_haas.play(9)
            okuma.play(5)
            await until(lambda: "ACTIVE" in sink.values(HAAS, Kind.EXECUTION)
                        and "ACTIVE" in sink.values(OKUMA, Kind.EXECUTION)
                        and "Countersink" in sink.values(VMC, Kind.PROGRAM))

    run(scenario())
    # Each agent was probed once and followed with one stream (or polls) for all its machines.
    assert vmc_haas.requests["probe"] == 1 and okuma.requests["probe"] == 1
    assert (vmc_haas.requests["stream"] == 1) is stream
    # The agent starts every data item UNAVAILABLE; its names differ per vendor, its types do not.
    assert sink.values(VMC, Kind.EXECUTION)[:4] == [UNAVAILABLE, "READY", "INTERRUPTED", "ACTIVE"]
    assert sink.values(HAAS, Kind.EXECUTION) == [UNAVAILABLE, "READY", "ACTIVE"]
    assert sink.values(OKUMA, Kind.EXECUTION) == [UNAVAILABLE, "READY", "ACTIVE"]
    assert sink.values(OKUMA, Kind.PROGRAM)[-1] == "IMTS-2022-2-HOB.MIN"
    assert {o.data_item_id for o in sink.observations(HAAS)} <= {"hc1", "hc2", "hc3"}
    counts = [(o.sub_type, o.value) for o in sink.observations(VMC, Kind.PART_COUNT)]
    assert ("ALL", "121") in counts and ("BAD", "2") in counts
    assert ("ALL", "0") in [(o.sub_type, o.value) for o in sink.observations(OKUMA, Kind.PART_COUNT)]
    for machine_id in (VMC, HAAS, OKUMA):
        observations = sink.observations(machine_id)
        assert all(o.timestamp.tzinfo == dt.UTC for o in observations)
        assert no_duplicates(sink, machine_id)
        assert not sink.of("lost", machine_id)


def test_an_agent_that_answers_a_stream_request_with_one_document_is_polled(vmc_haas):
    sink = RecordingSink()
    _, plain = vmc_haas.document("/sample", {"from": str(vmc_haas._next)})
    vmc_haas.serve_next("/sample", plain)  # what an agent without `interval` support answers

    async def scenario():
        async with Running(sink, [machine(HAAS, vmc_haas.url, "Haas_1")]):
            await until(lambda: vmc_haas.requests["sample"] >= 2)
            vmc_haas.play(7)
            await until(lambda: "ACTIVE" in sink.values(HAAS, Kind.EXECUTION))

    run(scenario())
    assert vmc_haas.requests["stream"] == 1
    assert sink.values(HAAS, Kind.EXECUTION) == [UNAVAILABLE, "READY", "ACTIVE"]


def test_conditions_with_codes_and_a_vendor_type_whose_prefix_the_agent_never_declares(vmc_haas, caplog):
    sink = RecordingSink()

    async def scenario():
        async with Running(sink, [machine(VMC, vmc_haas.url, "VMC-3Axis")]):
            await until(lambda: sink.of("ingest", VMC))
            vmc_haas.play(20)
            await until(lambda: ("motion", "NORMAL") in [
                (o.data_item_id, o.value) for o in sink.observations(VMC, Kind.CONDITION)][-2:])

    run(scenario())
    conditions = [(o.data_item_id, o.sub_type, o.value, o.native_code, o.text)
                  for o in sink.observations(VMC, Kind.CONDITION)]
    assert ("filter", "x:FILTER", "WARNING", "CF-7", "COOLANT FILTER CLOGGED") in conditions
    assert ("motion", "MOTION_PROGRAM", "FAULT", "PS0010", "IMPROPER G-CODE") in conditions
    assert ("motion", "MOTION_PROGRAM", "NORMAL", "", "") in conditions
    # The documents carry <x:Flow> with no xmlns:x: read anyway, said once.
    assert caplog.text.count("Namespace prefix x on Flow is not defined") == 1
    assert not sink.of("lost")


def test_an_agent_restart_is_reprobed_and_resynced_without_duplicates(vmc_haas):
    sink = RecordingSink()

    async def scenario():
        async with Running(sink, [machine(VMC, vmc_haas.url, "VMC-3Axis")]):
            vmc_haas.play(7)
            await until(lambda: "ACTIVE" in sink.values(VMC, Kind.EXECUTION))
            before = vmc_haas.instance_id
            vmc_haas.restart()
            assert vmc_haas.instance_id != before
            vmc_haas.play(3)
            await until(lambda: sink.cursors[VMC][0] == vmc_haas.instance_id
                        and "Countersink" in sink.values(VMC, Kind.PROGRAM))

    run(scenario())
    assert vmc_haas.requests["probe"] == 2
    instances = [c["instance_id"] for c in sink.of("ingest", VMC)]
    assert len(set(instances)) == 2
    assert no_duplicates(sink, VMC)
    assert not sink.of("gap") and not sink.of("lost")


def test_a_buffer_overrun_while_running_is_a_gap_then_a_resync_from_current():
    agent = replay.ReplayAgent(replay.load("vmc-haas"), buffer_size=30).start()
    sink = RecordingSink()

    async def scenario():
        settings = dataclasses.replace(FAST, stream=False, poll_interval=1.0)
        async with Running(sink, [machine(VMC, agent.url, "VMC-3Axis")], settings):
            await until(lambda: sink.of("ingest", VMC))
            agent.play(15)  # ~50 observations: more than the agent holds before the next poll
            await until(lambda: sink.of("gap", VMC))
            await until(lambda: sink.values(VMC, Kind.EXECUTION)[-1] == "ACTIVE")

    try:
        run(scenario())
    finally:
        agent.stop()
    (gap,) = sink.of("gap", VMC)
    assert gap["since"] <= gap["until"]
    # After the gap the machine's values as they stand come from /current; the cursor is past them.
    assert sink.values(VMC, Kind.PROGRAM)[-1] == "Tap"
    assert sink.cursors[VMC] == (agent.instance_id, agent._next)
    assert no_duplicates(sink, VMC)


def test_a_cursor_the_agent_no_longer_holds_is_a_gap_when_the_collector_comes_back():
    agent = replay.ReplayAgent(replay.load("vmc-haas"), buffer_size=30).start()
    sink = RecordingSink()
    machines = [machine(VMC, agent.url, "VMC-3Axis")]

    async def first_run():
        async with Running(sink, machines):
            await until(lambda: sink.of("ingest", VMC))

    async def second_run():
        async with Running(sink, machines):
            await until(lambda: sink.of("gap", VMC) and sink.cursors[VMC][1] == agent._next)

    try:
        run(first_run())
        stored = sink.cursors[VMC]
        agent.play(15)
        run(second_run())
    finally:
        agent.stop()
    (gap,) = sink.of("gap", VMC)
    assert gap["next_sequence"] == stored[1]  # the cursor as it stood: the /current batch after it counts
    assert sink.values(VMC, Kind.PART_COUNT)[-2:] == ["123", "3"]  # as they stand after line 15


def test_an_unreachable_agent_is_lost_after_the_timeout_then_reconnected_with_backoff():
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.02)
    port = listener.getsockname()[1]
    attempts: list[float] = []
    dead = threading.Event()

    def refuse():  # accepts and hangs up at once: a dead agent behind a live port
        while not dead.is_set():
            with contextlib.suppress(TimeoutError):
                connection, _ = listener.accept()
                attempts.append(time.monotonic())
                connection.close()
        listener.close()

    threading.Thread(target=refuse, daemon=True).start()
    sink = RecordingSink()
    url = f"http://127.0.0.1:{port}"
    agent = replay.ReplayAgent(replay.load("okuma"), port=port)

    async def scenario():
        async with Running(sink, [machine(OKUMA, url, "OKUMA")]):
            await asyncio.sleep(0.3)
            assert not sink.of("lost")  # not yet: the timeout is 0.5 s
            await until(lambda: sink.of("lost"))
            await asyncio.sleep(1.0)
            dead.set()
            await asyncio.sleep(0.1)
            agent.start()
            await until(lambda: sink.of("ingest", OKUMA))

    try:
        run(scenario())
    finally:
        agent.stop()
    (lost,) = sink.of("lost", OKUMA)  # once, not at every retry
    assert "unreachable" in lost["error"]
    # 0.05 s doubling to 0.2 s over ~1.5 s: a handful of attempts, not one every 0.05 s.
    assert 4 <= len(attempts) <= 14


def test_an_agent_back_after_an_outage_is_resumed_where_it_stood_and_the_machine_shown_connected(vmc_haas):
    sink = RecordingSink()

    async def scenario():
        async with Running(sink, [machine(VMC, vmc_haas.url, "VMC-3Axis")], dataclasses.replace(FAST, stream=False)):
            vmc_haas.play(7)
            await until(lambda: "ACTIVE" in sink.values(VMC, Kind.EXECUTION))
            vmc_haas.stop()
            await until(lambda: sink.of("lost", VMC))
            calls = len(sink.calls)
            vmc_haas.start()  # the same agent (instanceId and buffer), nothing new since
            await until(lambda: [k for k, _ in sink.calls[calls:]].count("ingest") >= 1)

    run(scenario())
    back = sink.of("ingest", VMC)[-1]
    assert back["observations"] == [] and back["next_sequence"] == vmc_haas._next
    assert vmc_haas.requests["probe"] == 2 and vmc_haas.requests["current"] == 2
    assert not sink.of("gap") and no_duplicates(sink, VMC)


def test_a_truncated_document_is_an_error_and_loses_nothing(vmc_haas):
    sink = RecordingSink()

    async def scenario():
        settings = dataclasses.replace(FAST, stream=False)
        async with Running(sink, [machine(VMC, vmc_haas.url, "VMC-3Axis")], settings):
            await until(lambda: sink.of("ingest", VMC))
            vmc_haas.play(7)
            _, whole = vmc_haas.document("/sample", {"from": str(sink.cursors[VMC][1]), "count": "200"})
            vmc_haas.serve_next("/sample", whole[: len(whole) // 2])
            await until(lambda: sink.of("lost", VMC))
            await until(lambda: sink.cursors[VMC][1] == vmc_haas._next)

    run(scenario())
    (lost,) = sink.of("lost", VMC)
    assert "truncated" in lost["error"]
    assert sink.values(VMC, Kind.EXECUTION)[:4] == [UNAVAILABLE, "READY", "INTERRUPTED", "ACTIVE"]
    assert no_duplicates(sink, VMC)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>'
         b"<MTConnectStreams>&lol2;</MTConnectStreams>", "DTD"),
        (b"<MTConnectStreams><Header/>" + b"<!-- padding -->" * 80_000 + b"</MTConnectStreams>", "cap"),
    ],
    ids=["billion-laughs", "over-the-cap"],
)
def test_a_hostile_document_is_refused_and_shown_on_the_machine(vmc_haas, body, error):
    sink = RecordingSink()

    async def scenario():
        settings = dataclasses.replace(FAST, stream=False, max_bytes=1_000_000)
        async with Running(sink, [machine(VMC, vmc_haas.url, "VMC-3Axis")], settings):
            await until(lambda: sink.of("ingest", VMC))
            vmc_haas.serve_next("/sample", body)
            await until(lambda: sink.of("lost", VMC))
            vmc_haas.play(7)
            await until(lambda: "ACTIVE" in sink.values(VMC, Kind.EXECUTION))  # resumed where it stood

    run(scenario())
    assert error in sink.of("lost", VMC)[0]["error"]


def test_an_unknown_device_is_shown_on_its_machine_and_the_others_go_on(vmc_haas):
    sink = RecordingSink()
    machines = [machine(VMC, vmc_haas.url, "VMC-3Axis"), machine(HAAS, vmc_haas.url, "Mazak")]

    async def scenario():
        async with Running(sink, machines):
            await until(lambda: sink.of("lost", HAAS) and sink.of("ingest", VMC))

    run(scenario())
    (lost,) = sink.of("lost", HAAS)
    assert "'Mazak' is not on agent" in lost["error"] and "VMC-3Axis, Haas_1" in lost["error"]
    assert not sink.of("ingest", HAAS)


def test_a_sequence_going_backwards_without_a_restart_resyncs(vmc_haas):
    sink = RecordingSink()

    async def scenario():
        async with Running(sink, [machine(VMC, vmc_haas.url, "VMC-3Axis")], dataclasses.replace(FAST, stream=False)):
            vmc_haas.play(7)
            await until(lambda: "ACTIVE" in sink.values(VMC, Kind.EXECUTION))
            vmc_haas.restart(instance_id=vmc_haas.instance_id)  # numbers from 1 again, same instanceId
            vmc_haas.play(1)
            await until(lambda: sink.of("gap", VMC) and sink.values(VMC, Kind.EXECUTION)[-1] == "READY")

    run(scenario())
    (gap,) = sink.of("gap", VMC)
    assert gap["next_sequence"] == 0  # the stored cursor goes back with the agent
    assert sink.cursors[VMC] == (vmc_haas.instance_id, vmc_haas._next)


def test_a_control_clock_minutes_ahead_is_kept_as_the_agent_gave_it(okuma):
    okuma.clock_offset = dt.timedelta(minutes=7)
    sink = RecordingSink()

    async def scenario():
        async with Running(sink, [machine(OKUMA, okuma.url, "OKUMA")]):
            okuma.play(5)
            await until(lambda: "ACTIVE" in sink.values(OKUMA, Kind.EXECUTION))

    run(scenario())
    active = next(o for o in sink.observations(OKUMA, Kind.EXECUTION) if o.value == "ACTIVE")
    ahead = active.timestamp - dt.datetime.now(dt.UTC)
    assert dt.timedelta(minutes=6) < ahead < dt.timedelta(minutes=7)
    assert active.timestamp.tzinfo == dt.UTC


def test_machines_added_to_the_configuration_are_picked_up(vmc_haas, okuma):
    sink = RecordingSink()
    configured = [machine(VMC, vmc_haas.url, "VMC-3Axis")]

    async def scenario():
        async with Running(sink, lambda: list(configured)):
            await until(lambda: sink.of("ingest", VMC))
            configured.append(machine(OKUMA, okuma.url, "OKUMA.123456"))  # by uuid
            await until(lambda: sink.of("ingest", OKUMA))
            okuma.play(5)
            vmc_haas.play(7)
            await until(lambda: "ACTIVE" in sink.values(OKUMA, Kind.EXECUTION)
                        and "ACTIVE" in sink.values(VMC, Kind.EXECUTION))

    run(scenario())
    assert no_duplicates(sink, VMC) and no_duplicates(sink, OKUMA)
