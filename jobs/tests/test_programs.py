"""The program a control reports against the operation's NC program number."""

import pytest

from jobs.programs import program_key, program_mismatch, program_name


@pytest.mark.parametrize("reported", [
    "O1506", "1506", "O1506.NC", "o1506.nc", "O01506", "//CNC_MEM/USER/PATH1/O1506", "O1506 (BRACKET OP10)",
    r"\\dnc\programs\O1506.TAP", "TNC:\\nc_prog\\1506.H", " O1506\n",
])
def test_the_vendor_forms_of_one_program_number_are_one_program(reported):
    assert program_key(reported) == "1506"
    assert program_mismatch(running=reported, expected="O1506") == ""


def test_a_named_program_keeps_its_name_without_path_or_extension():
    assert program_name("//CNC_MEM/USER/IMTS-2022-2-HOB.MIN") == "IMTS-2022-2-HOB"
    assert program_key("imts-2022-2-hob.min") == program_key("IMTS-2022-2-HOB")
    assert program_key("BRACKET-A") != program_key("BRACKET-B")


def test_another_program_is_named_as_the_control_runs_it_and_as_the_operation_expects_it():
    assert program_mismatch(running="//CNC_MEM/USER/PATH1/O1506", expected="O1412") == "running O1506, expected O1412"
    assert program_mismatch(running="1506", expected="O1412") == "running 1506, expected O1412"
    assert program_mismatch(running="O14120", expected="O1412") == "running O14120, expected O1412"


@pytest.mark.parametrize(("running", "expected"), [("", "O1412"), ("UNAVAILABLE", "O1412"), ("O1506", ""),
                                                   ("   ", "O1412")])
def test_nothing_to_compare_warns_of_nothing(running, expected):
    assert program_mismatch(running=running, expected=expected) == ""
