"""The precedence of signals, the operator's activity and reasons: every row of the README's "Machine signals" table,
in every context, against `state_derive`. The table is read from the README, so the two cannot drift apart."""

import re
import shlex
from pathlib import Path

import pytest

from machines.choices import MachineState
from machines.connectivity.timeline import Context, Signals, machine_says, state_derive

README = Path(__file__).resolve().parents[3] / "README.md"
REASON_ID = 7  # the operator's reason of a pause
CONTEXTS = {  # the table's columns: the operator's activity
    "No operation": Context(MachineState.IDLE),
    "Setup": Context(MachineState.SETUP),
    "Production": Context(MachineState.RUNNING),
}


def table() -> list[dict[str, str]]:
    section = README.read_text().split("## Machine signals", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    return [dict(zip(header, (cell.strip() for cell in line.strip("|").split("|")), strict=True))
            for line in lines[2:]]


def signals(cell: str) -> Signals:
    values: dict = {}
    faults = []
    quoted = re.fullmatch(r"`(.*)`", cell)
    assert quoted is not None, f"the table's signals cell is not in backticks: {cell}"
    for pair in shlex.split(quoted.group(1)):
        name, value = pair.split("=", 1)
        if name == "fault":
            faults.append(value)
        elif name in ("connected", "running", "alarm"):
            values[name] = {"true": True, "false": False}[value]
        else:
            values[name] = value
    return Signals(**values, faults=tuple(faults))


ROWS = table()


def test_the_readme_has_the_table():
    assert len(ROWS) >= 20


@pytest.mark.parametrize("row", ROWS, ids=[row["Signals (latest values)"] for row in ROWS])
def test_every_row_of_the_readme_table(row):
    given = signals(row["Signals (latest values)"])
    assert machine_says(given)[0].replace("_", " ") == row["The machine says"]
    for column, context in CONTEXTS.items():
        derived = state_derive(given, context)
        assert derived.state == row[column], column
        assert derived.reason_id is None
    assert state_derive(given, CONTEXTS["Production"]).note == row["Note (production)"]
    for paused in (MachineState.DOWN, MachineState.PLANNED_DOWN):
        derived = state_derive(given, Context(paused, REASON_ID))
        if row["Paused"] == "paused":
            assert (derived.state, derived.reason_id) == (paused, REASON_ID)
        else:
            assert (derived.state, derived.reason_id) == (row["Paused"], None)


def test_a_lost_connection_says_why():
    derived = state_derive(Signals(connected=False, error="timed out"), Context(MachineState.RUNNING))
    assert (derived.state, derived.note) == (MachineState.DISCONNECTED, "Connection lost: timed out")
