"""A machine's latest signal values, as MachineConnection.signals keeps them (JSON):

    {"availability": "AVAILABLE", "emergency_stop": "ARMED", "mode": "AUTOMATIC", "execution": "ACTIVE",
     "program": "O1234", "part_count": "17", "part_count_good": "15", "running": "true", "alarm": "false",
     "conditions": {"<data item id>": {"<native code>": {"level": "FAULT", "text": "…", "type": "SYSTEM"}}},
     "at": {"execution": "<the source's ISO time of the value>", …}}

Only active conditions (WARNING, FAULT) are kept. Pure functions: the services fold observations in with them."""

from machines.connectivity.observations import Kind, Observation
from machines.connectivity.timeline import Signals

KEYS = {
    Kind.AVAILABILITY: "availability", Kind.EMERGENCY_STOP: "emergency_stop", Kind.CONTROLLER_MODE: "mode",
    Kind.EXECUTION: "execution", Kind.PROGRAM: "program", Kind.RUNNING: "running", Kind.ALARM: "alarm",
}
# The kinds a machine's state depends on (a program or a part count changes no state).
STATE_KINDS = frozenset({
    Kind.AVAILABILITY, Kind.EMERGENCY_STOP, Kind.CONTROLLER_MODE, Kind.EXECUTION, Kind.CONDITION, Kind.RUNNING,
    Kind.ALARM,
})
NOT_ACTIVE = frozenset({"NORMAL", "UNAVAILABLE"})


def signal_key(observation: Observation) -> str:
    """The name a signal's latest value and its time are kept under."""
    if observation.kind == Kind.PART_COUNT:
        sub_type = observation.sub_type.upper()
        return "part_count" if sub_type in ("", "ALL") else f"part_count_{sub_type.lower()}"
    if observation.kind == Kind.CONDITION:
        return f"condition:{observation.data_item_id}"
    return KEYS[observation.kind]


def signal_record(values: dict, observation: Observation) -> bool:
    """Keep the observation as its signal's latest value. True when a value the machine's state depends on
    changed."""
    key = signal_key(observation)
    values.setdefault("at", {})[key] = observation.timestamp.isoformat()
    if observation.kind == Kind.CONDITION:
        return _condition_record(values.setdefault("conditions", {}), observation)
    before = values.get(key)
    values[key] = observation.value
    return observation.kind in STATE_KINDS and before != observation.value


def _condition_record(conditions: dict, observation: Observation) -> bool:
    """A condition data item holds several active codes at once; NORMAL with a code clears that code, without one
    (or UNAVAILABLE) every code of the item (MTConnect Part 3, Condition)."""
    item_id = observation.data_item_id
    before = conditions.get(item_id, {})
    level = observation.value.upper()
    if level in NOT_ACTIVE:
        cleared = observation.native_code
        after = {code: entry for code, entry in before.items() if cleared and code != cleared}
    else:
        entry = {"level": level, "text": observation.text, "type": observation.sub_type}
        after = {**before, observation.native_code: entry}
    if after:
        conditions[item_id] = after
    else:
        conditions.pop(item_id, None)
    return after != before


def _flag(value: str | None) -> bool | None:
    if value is None:
        return None
    return {"true": True, "false": False}.get(value.lower())


def signals_of(values: dict, *, connected: bool = True, error: str = "") -> Signals:
    faults = tuple(
        entry["text"] or code or "Fault"
        for codes in values.get("conditions", {}).values() for code, entry in codes.items()
        if entry["level"] == "FAULT"
    )
    return Signals(
        connected=connected, error=error, availability=values.get("availability", ""),
        emergency_stop=values.get("emergency_stop", ""), mode=values.get("mode", ""),
        execution=values.get("execution", ""), running=_flag(values.get("running")),
        alarm=_flag(values.get("alarm")), faults=faults,
    )
