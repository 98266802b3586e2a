"""Every machine state renders: a colour on the board's tiles and on the state labels of the other pages (its
label comes from MachineState)."""

import re
from pathlib import Path

import pytest

from machines.choices import MachineState

CSS = Path(__file__).resolve().parents[2] / "static" / "css"


@pytest.mark.parametrize("state", MachineState.values)
def test_every_state_has_a_colour_on_the_board_and_on_state_labels(state):
    board = (CSS / "board.css").read_text()
    pages = (CSS / "spindle.css").read_text()
    assert re.search(rf"\.tile\.state-{state} \{{[^}}]*--state:", board), state
    assert re.search(rf"\.state-{state}\b[^{{]*\{{[^}}]*background", pages), state
