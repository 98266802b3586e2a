"""Benchmark readers on the shared instances, the JSON problem file and the shop generator."""

import json
from pathlib import Path

import pytest

from jobs.scheduling import ProblemError, compile_problem, load_problem, problem_to_dict, save_problem, solve
from jobs.scheduling.generator import generate_shop
from jobs.scheduling.io import SCHEMA_PATH, solution_from_dict, solution_to_dict
from jobs.scheduling.readers import best_known, instance_format, read_instance

BENCH = Path(__file__).resolve().parents[4] / "shared" / "benchmarks"
needs_bench = pytest.mark.skipif(not BENCH.exists(), reason="shared benchmark instances not present")


@needs_bench
def test_mk01_parses_to_10_jobs_on_6_machines():
    problem = read_instance(BENCH / "fjsp/brandimarte/mk01.txt")
    assert len(problem.jobs) == 10 and len(problem.machines) == 6
    assert len(problem.operations) == 55
    first = problem.operations[0]
    assert (first.id, [(m.machine, m.run) for m in first.modes]) == ("j0-o0", [("m0", 5), ("m2", 4)])
    assert best_known(BENCH / "fjsp/brandimarte/mk01.txt") == 40


@needs_bench
def test_sdst_flow_shop_reader_keeps_the_setup_matrix():
    problem = read_instance(BENCH / "sdst-pfsp/ruiz_1.txt")
    inst = compile_problem(problem)
    assert (len(problem.jobs), len(problem.machines)) == (20, 5)
    assert problem.permutation_groups == [["m0", "m1", "m2", "m3", "m4"]]
    assert [m.run for op in problem.operations[:5] for m in op.modes] == [54, 79, 16, 66, 58]
    numbers = [int(x) for x in (BENCH / "sdst-pfsp/ruiz_1.txt").read_text().split()]
    setups = numbers[2 + 20 * 5 :]
    # machine 0, previous job 3, next job 7; the first job on a machine needs no setup
    assert inst.chg_ops(0, inst.op_index["j3-o0"], inst.op_index["j7-o0"]) == setups[3 * 20 + 7]
    assert inst.chg_ops(0, -1, inst.op_index["j7-o0"]) == 0


@needs_bench
def test_jsp_reader_numbers_machines_from_zero():
    problem = read_instance(BENCH / "jsp/ta01.txt")
    assert (len(problem.jobs), len(problem.machines), len(problem.operations)) == (15, 15, 225)
    assert instance_format(BENCH / "jsp/ta01.txt") == "jsp"
    assert best_known(BENCH / "jsp/ta01.txt") == 1231


def test_unknown_format_is_refused(tmp_path):
    path = tmp_path / "mystery.txt"
    path.write_text("1 1\n")
    with pytest.raises(ProblemError, match="cannot tell the format"):
        read_instance(path)


def test_generator_is_seeded_and_valid():
    a, b = generate_shop(150, 10, seed=4), generate_shop(150, 10, seed=4)
    assert problem_to_dict(a) == problem_to_dict(b)
    assert problem_to_dict(a) != problem_to_dict(generate_shop(150, 10, seed=5))
    assert len(a.operations) == 150 and len(a.machines) == 10
    assert all(m.windows for m in a.machines) and a.changeover_rules and a.fixtures
    assert any(not w.attended for m in a.machines for w in m.windows)
    assert solve(a, "edd").valid


def test_json_round_trip_and_schema(tmp_path):
    problem = generate_shop(40, 5, seed=1)
    problem.operations[0].fixed = None
    path = tmp_path / "shop.json"
    save_problem(problem, path)
    again = load_problem(path)
    assert problem_to_dict(again) == problem_to_dict(problem)
    assert read_instance(path).name == problem.name
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(json.loads(path.read_text()), json.loads(SCHEMA_PATH.read_text()))
    result = solve(again, "edd")
    assert solution_from_dict(solution_to_dict(result.solution)).assignments == result.solution.assignments


def test_malformed_json_names_the_problem(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(ProblemError, match="not JSON"):
        load_problem(path)
    path.write_text(json.dumps({"machines": [{"id": "M1"}], "jobs": [], "operations": [{"id": "X", "job": "J"}]}))
    with pytest.raises(ProblemError, match="unknown job 'J'"):
        compile_problem(load_problem(path))
