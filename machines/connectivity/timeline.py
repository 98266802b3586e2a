"""One timeline per machine. The machine's own signals say *whether* it runs, the operator's declared activity says
*what* it works at (setup or production), the operator's reason says *why*. `state_derive` is the precedence of the
three, as one pure function; the README's "Machine signals" table is its specification, and its test reads that
table (machines/connectivity/tests/test_timeline.py)."""

from dataclasses import dataclass
from enum import StrEnum

from machines.choices import MachineState
from machines.connectivity.observations import UNAVAILABLE


class Says(StrEnum):
    """What the signals alone say about the machine."""

    UNKNOWN = "unknown"            # no connection, or the agent cannot read the machine
    ALARM = "alarm"                # E-stop, an active fault, an edge device's alarm
    RUNNING = "running"            # a program runs in automatic (or single block)
    MANUAL = "manual"              # it moves by hand or by MDI: no part is being made
    STOPPED = "stopped"            # a program interrupted: feed hold, stop, optional stop, waiting
    NOT_IN_CYCLE = "not_in_cycle"  # ready, program completed: between cycles
    NOTHING = "nothing"            # no run signal (yet): the operator's word stands


# MTConnect Execution values (Part 2, "EXECUTION") and controller modes, with the note an interval gets.
EXECUTION_STOPPED = {
    "FEED_HOLD": "Feed hold", "INTERRUPTED": "Interrupted", "STOPPED": "Program stopped",
    "PROGRAM_STOPPED": "Program stopped", "OPTIONAL_STOP": "Optional stop", "PROGRAM_OPTIONAL_STOP": "Optional stop",
    "WAIT": "Waiting",
}
EXECUTION_NOT_IN_CYCLE = {"READY": "Not in cycle", "PROGRAM_COMPLETED": "Program completed"}
MANUAL_MODES = {"MANUAL": "Manual (jog)", "MANUAL_DATA_INPUT": "MDI", "EDIT": "Edit"}


@dataclass(frozen=True, slots=True)
class Signals:
    """The latest values that decide a machine's state ("" or None: never reported)."""

    connected: bool = True
    error: str = ""                 # why the connection was lost
    availability: str = ""
    emergency_stop: str = ""
    mode: str = ""
    execution: str = ""
    running: bool | None = None     # an edge device's signals
    alarm: bool | None = None
    faults: tuple[str, ...] = ()    # the text of each active FAULT condition


@dataclass(frozen=True, slots=True)
class Context:
    """What the operator declared last (the state a jobs service asked machine_state_change for)."""

    state: str = MachineState.IDLE
    reason_id: int | None = None


@dataclass(frozen=True, slots=True)
class Derived:
    state: str
    reason_id: int | None = None
    note: str = ""


def machine_says(signals: Signals) -> tuple[Says, str]:
    """The signals alone, in this order: no connection, unavailable, E-stop, a fault, an edge alarm, then the
    execution (with the controller mode), then an edge device's running signal."""
    if not signals.connected:
        return Says.UNKNOWN, f"Connection lost: {signals.error}" if signals.error else "Connection lost"
    if signals.availability == UNAVAILABLE:
        return Says.UNKNOWN, "Machine unavailable"
    if signals.emergency_stop == "TRIGGERED":
        return Says.ALARM, "Emergency stop"
    if signals.faults:
        return Says.ALARM, "; ".join(signals.faults)
    if signals.alarm:
        return Says.ALARM, "Alarm"
    execution = signals.execution
    if execution == "ACTIVE":
        if signals.mode in MANUAL_MODES:
            return Says.MANUAL, MANUAL_MODES[signals.mode]
        return Says.RUNNING, ""
    if execution in EXECUTION_STOPPED:
        return Says.STOPPED, EXECUTION_STOPPED[execution]
    if execution in EXECUTION_NOT_IN_CYCLE:
        return Says.NOT_IN_CYCLE, EXECUTION_NOT_IN_CYCLE[execution]
    if signals.running is not None:
        return (Says.RUNNING, "") if signals.running else (Says.NOT_IN_CYCLE, "Not running")
    return Says.NOTHING, ""


def state_derive(signals: Signals, context: Context) -> Derived:
    """The state a monitored machine's log records: the signals decide whether it runs, the context what it
    works at, the operator's reason why.
    - Running in automatic is production, except in a setup (prove-out is setup time).
    - A pause the operator declared (down or planned down, with its reason) explains whatever stops the machine,
      even a lost connection (the operator knows it is switched off for the repair).
    - Otherwise a lost connection or an unavailable machine is unknown time: disconnected.
    - In production anything else stops it: alarm, or stopped (a feed hold, between cycles, jogging or MDI),
      each waiting for the operator's reason past the machine's threshold.
    - In a setup the machine is stopped most of the time by nature: only an alarm leaves setup.
    - With no operation on the machine nothing waits for it: whatever stops it is idle time."""
    says, note = machine_says(signals)
    declared = context.state
    if says is Says.RUNNING:
        if declared == MachineState.SETUP:
            return Derived(MachineState.SETUP)
        if declared == MachineState.RUNNING:
            return Derived(MachineState.RUNNING)
        paused = declared in (MachineState.DOWN, MachineState.PLANNED_DOWN)
        return Derived(MachineState.RUNNING, note="Running though paused" if paused else "No operation started")
    if declared in (MachineState.DOWN, MachineState.PLANNED_DOWN):
        return Derived(declared, context.reason_id, note)
    if says is Says.UNKNOWN:
        return Derived(MachineState.DISCONNECTED, note=note)
    if says is Says.NOTHING:
        return Derived(declared, context.reason_id)
    if declared == MachineState.SETUP:
        return Derived(MachineState.ALARM, note=note) if says is Says.ALARM else Derived(MachineState.SETUP)
    if declared == MachineState.RUNNING:
        return Derived(MachineState.ALARM if says is Says.ALARM else MachineState.STOPPED, note=note)
    return Derived(declared, context.reason_id, note if says is Says.ALARM else "")
