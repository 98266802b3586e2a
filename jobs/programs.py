"""NC program numbers as controls report them, against the program an operation calls for."""

import re

from machines.connectivity.observations import UNAVAILABLE

# An extension a control or a DNC system adds to a program's file (.NC, .MIN, .H, .TAP, .PRG…): letters only, short.
_EXTENSION = re.compile(r"\.[A-Z]{1,4}$")
# A Fanuc-style program number: an optional O, then digits; leading zeros do not count (O01506 is O1506).
_NUMBER = re.compile(r"O?0*(\d+)")


def program_name(reported: str) -> str:
    """What a control reports as its program, without the path, the extension or a comment: "O1506",
    "//CNC_MEM/USER/PATH1/O1506", "O1506.NC" and "O1506 (BRACKET)" are all "O1506". Empty when it reports none."""
    text = reported.strip().upper()
    if not text or text == UNAVAILABLE:
        return ""
    name = re.split(r"[\\/:]", text)[-1]  # a path on the control's memory card, a share or a Heidenhain drive
    name = re.split(r"[\s(]", name, maxsplit=1)[0]
    return _EXTENSION.sub("", name)


def program_key(reported: str) -> str:
    """The program's identity for comparison: a number without its O and leading zeros ("O01506", "1506" and
    "O1506.NC" are "1506"); a named program ("IMTS-2022-2-HOB.MIN") by its upper-case name ("IMTS-2022-2-HOB")."""
    name = program_name(reported)
    number = _NUMBER.fullmatch(name)
    return number.group(1) if number else name


def program_mismatch(*, running: str, expected: str) -> str:
    """The warning when the control runs another program than the operation's ("running O1506, expected O1412"),
    or "" when they agree, when the control reports no program or when the operation names none."""
    name = program_name(running)
    if not name or not expected.strip() or program_key(running) == program_key(expected):
        return ""
    return f"running {name}, expected {expected.strip()}"
