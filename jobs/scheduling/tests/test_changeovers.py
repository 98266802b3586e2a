"""Changeover minutes from rules: most specific wins, priority breaks ties, attributes add up."""

from jobs.scheduling.changeovers import ChangeoverRules
from jobs.scheduling.problem import ChangeoverRule, Setup


def fixture_minutes(rules, old, new, work_center="MILL"):
    return ChangeoverRules(rules).minutes(work_center, Setup(fixture=old), Setup(fixture=new))


def test_most_specific_rule_wins():
    rules = [
        ChangeoverRule("fixture", "*", "*", 60),
        ChangeoverRule("fixture", "VISE", "*", 40),
        ChangeoverRule("fixture", "VISE", "PLATE", 20),
    ]
    assert fixture_minutes(rules, "VISE", "PLATE") == 20
    assert fixture_minutes(rules, "VISE", "TOMB") == 40
    assert fixture_minutes(rules, "TOMB", "PLATE") == 60


def test_work_center_rule_beats_shop_wide_rule():
    rules = [ChangeoverRule("fixture", "*", "*", 60), ChangeoverRule("fixture", "*", "*", 90, work_center="5AX")]
    assert fixture_minutes(rules, "A", "B", "5AX") == 90
    assert fixture_minutes(rules, "A", "B", "LATHE") == 60


def test_priority_breaks_ties_between_equally_specific_rules():
    rules = [
        ChangeoverRule("fixture", "VISE", "*", 40, priority=0),
        ChangeoverRule("fixture", "*", "PLATE", 30, priority=5),
    ]
    assert fixture_minutes(rules, "VISE", "PLATE") == 30
    rules[0] = ChangeoverRule("fixture", "VISE", "*", 40, priority=9)
    assert fixture_minutes(rules, "VISE", "PLATE") == 40


def test_first_rule_wins_a_complete_tie():
    rules = [ChangeoverRule("fixture", "*", "*", 45), ChangeoverRule("fixture", "*", "*", 50)]
    assert fixture_minutes(rules, "A", "B") == 45


def test_minutes_of_changed_attributes_add_up():
    rules = ChangeoverRules(
        [
            ChangeoverRule("fixture", "*", "*", 60),
            ChangeoverRule("material", "*", "*", 15),
            ChangeoverRule("tool_kit", "*", "*", 30),
            ChangeoverRule("program", "*", "*", 5),
        ]
    )
    old = Setup("VISE", "AL6061", "TK1", "O100")
    assert rules.minutes("MILL", old, Setup("PLATE", "SS304", "TK2", "O200")) == 110
    assert rules.minutes("MILL", old, Setup("VISE", "SS304", "TK1", "O200")) == 20
    assert rules.minutes("MILL", old, old) == 0


def test_no_requirement_and_no_rule_cost_nothing():
    rules = ChangeoverRules([ChangeoverRule("fixture", "*", "*", 60)])
    # the next operation does not care about the fixture
    assert rules.minutes("MILL", Setup(fixture="VISE"), Setup(fixture=None, material="AL")) == 0
    # materials change but no rule prices it
    assert rules.minutes("MILL", Setup(material="AL"), Setup(material="TI")) == 0
    # a bare machine (nothing mounted) still needs the fixture mounted
    assert rules.minutes("MILL", Setup(), Setup(fixture="VISE")) == 60


def test_exact_from_rule_does_not_match_an_empty_machine():
    rules = ChangeoverRules([ChangeoverRule("program", "j1", "j2", 7)])
    assert rules.minutes("M", Setup(program="j1"), Setup(program="j2")) == 7
    assert rules.minutes("M", Setup(), Setup(program="j2")) == 0
