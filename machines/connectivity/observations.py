"""What a machine reports, normalised: the one shape that MTConnect documents and edge-device signals are read
into before Spindle maps them to machine states, part counts and programs."""

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

# The value MTConnect gives a data item the agent cannot read (MTConnect Standard Part 1, "UNAVAILABLE").
UNAVAILABLE = "UNAVAILABLE"


class Kind(StrEnum):
    """The data items Spindle reads, by MTConnect type (names differ per vendor; types do not)."""

    AVAILABILITY = "AVAILABILITY"          # AVAILABLE / UNAVAILABLE
    EMERGENCY_STOP = "EMERGENCY_STOP"      # ARMED / TRIGGERED
    CONTROLLER_MODE = "CONTROLLER_MODE"    # AUTOMATIC, MANUAL, MANUAL_DATA_INPUT, SEMI_AUTOMATIC, EDIT
    EXECUTION = "EXECUTION"                # ACTIVE, READY, INTERRUPTED, FEED_HOLD, STOPPED, OPTIONAL_STOP, ...
    PART_COUNT = "PART_COUNT"              # a count; sub_type ALL / GOOD / BAD
    PROGRAM = "PROGRAM"                    # the program the control runs
    CONDITION = "CONDITION"                # value is the level: NORMAL / WARNING / FAULT / UNAVAILABLE
    # Edge devices (a current clamp or a stack-light tap) say less than a control does.
    RUNNING = "RUNNING"                    # "true" / "false"
    ALARM = "ALARM"                        # "true" / "false"


@dataclass(frozen=True, slots=True)
class Observation:
    kind: Kind
    value: str                  # as the source gave it; UNAVAILABLE kept as is
    timestamp: dt.datetime      # aware, UTC
    sequence: int | None = None  # the agent's sequence number; None for an edge device's signal
    data_item_id: str = ""      # the agent's id of the data item (a condition is tracked per data item)
    sub_type: str = ""          # PART_COUNT: ALL / GOOD / BAD; CONDITION: its type (SYSTEM, LOGIC_PROGRAM, ...)
    native_code: str = ""       # a condition's code on the control
    text: str = ""              # a condition's message
