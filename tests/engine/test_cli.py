"""The command line: ``python -m matching.engine solve --mode stable|optimal INSTANCE.json``."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from matching.engine.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "instance.json"

GOOD = {
    "mentees": [{"id": "r1", "ranking": ["a3", "a1"]}, {"id": "r2"}, {"id": "r3", "never": ["a1"]}],
    "mentors": [{"id": "a1", "capacity": 2, "ranking": ["r2", "r1"]}, {"id": "a3", "capacity": 1}],
    "scores": {"r1": {"a1": 0.83, "a3": 0.41}, "r2": {"a1": 0.5, "a3": 0.9}, "r3": {"a1": 0.7, "a3": 0.2}},
}


def run(tmp_path, capsys, instance, *args):
    path = tmp_path / "instance.json"
    path.write_text(instance if isinstance(instance, str) else json.dumps(instance))
    code = main(["solve", *args, str(path)])
    out, err = capsys.readouterr()
    return code, out, err


def engine(*args, stdin=None):
    env = {"PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "matching.engine", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("mode", ["stable", "optimal"])
def test_a_good_instance_prints_the_result_as_json(mode):
    done = engine("solve", "--mode", mode, "-", stdin=json.dumps(GOOD))
    assert done.returncode == 0, done.stderr
    output = json.loads(done.stdout)
    assert output["mode"] == mode
    assert set(output["assignment"]) == {"r1", "r2", "r3"}
    assert {"matched", "unmatched", "total_score", "blocking_pairs"} <= set(output["stats"])
    assert output["stats"]["matched"] + output["stats"]["unmatched"] == 3


def test_stable_cli_result(tmp_path, capsys):
    code, out, err = run(tmp_path, capsys, GOOD, "--mode", "stable", "--why-not")
    output = json.loads(out)
    assert code == 0 and err == ""
    # r1 loses a3 to r2, whom a3 (ranking by score) prefers; r3 may not have a1 and loses a3 to r2 too.
    assert output["assignment"] == {"r1": "a1", "r2": "a3", "r3": None}
    assert output["stats"]["unmatched_mentees"] == ["r3"]
    assert output["stats"]["rank_distribution"] == {"1": 1, "2": 1}
    assert output["stats"]["blocking_pairs"] == 0
    assert output["stats"]["mentor_load"] == {
        "a1": {"assigned": 1, "capacity": 2},
        "a3": {"assigned": 1, "capacity": 1},
    }
    assert output["why_not"] == {
        "r3": "every mentor you could be paired with filled their spots with residents who fit them better"
    }


def test_the_documented_example_solves(tmp_path, capsys):
    for mode in ("stable", "optimal"):
        assert main(["solve", "--mode", mode, str(EXAMPLE)]) == 0
        assert json.loads(capsys.readouterr().out)["mode"] == mode


def test_help_works():
    done = engine("--help")
    assert done.returncode == 0 and "solve" in done.stdout
    done = engine("solve", "--help")
    assert done.returncode == 0 and "--mode" in done.stdout and "ranking" in done.stdout


def bad(**changes):
    instance = json.loads(json.dumps(GOOD))
    instance.update(changes)
    return instance


@pytest.mark.parametrize(
    "instance, mode, problem",
    [
        ("{not json", "stable", "malformed JSON"),
        ("[]", "stable", "must be a JSON object"),
        (bad(mentees=[{"id": "r1"}, {"id": "r1"}]), "stable", "duplicate mentee id 'r1'"),
        (bad(mentors=[{"id": "a1"}, {"id": "a1"}, {"id": "a3"}]), "stable", "duplicate mentor id 'a1'"),
        (bad(mentors=[{"id": "a1", "capacity": -1}, {"id": "a3"}]), "stable", "negative capacity -1"),
        (bad(mentors=[{"id": "a1", "capacity": 1.5}, {"id": "a3"}]), "stable", "capacity must be an integer"),
        (bad(mentees=[{"id": "r1", "ranking": ["a9"]}, {"id": "r2"}, {"id": "r3"}]), "stable", "unknown id 'a9'"),
        (bad(mentors=[{"id": "a1", "ranking": ["r9"]}, {"id": "a3"}]), "stable", "unknown id 'r9'"),
        (bad(scores={"r9": {"a1": 1}}), "stable", "unknown mentee 'r9'"),
        (bad(scores={"r1": {"a9": 1}}), "stable", "unknown mentor 'a9'"),
        (bad(scores={"r1": {"a1": "high"}}), "stable", "must be a number"),
        (bad(scores=None), "optimal", 'optimal mode needs "scores"'),
        ({k: v for k, v in GOOD.items() if k != "scores"}, "optimal", 'optimal mode needs "scores"'),
        ({k: v for k, v in GOOD.items() if k != "mentors"}, "stable", 'missing "mentors"'),
        (bad(mentees=[{"name": "r1"}]), "stable", 'mentees[0] has no "id"'),
        (bad(mentees=[{"id": True}]), "stable", "a mentee id must be a string or an integer"),
        (bad(mentees=[{"id": "r1", "ranking": "a1"}]), "stable", "ranking must be a list"),
        (bad(mentees=[{"id": "r1", "rank": ["a1"]}]), "stable", "unknown key 'rank'"),
        (bad(mentor=[]), "stable", "unknown key 'mentor'"),
    ],
)
def test_bad_input_exits_2_naming_the_problem(tmp_path, capsys, instance, mode, problem):
    code, out, err = run(tmp_path, capsys, instance, "--mode", mode)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert problem in err


def test_a_missing_file_exits_2(capsys):
    assert main(["solve", "--mode", "stable", "/nonexistent/instance.json"]) == 2
    assert "cannot read /nonexistent/instance.json" in capsys.readouterr().err


def test_a_bad_mode_exits_2():
    done = engine("solve", "--mode", "greedy", str(EXAMPLE))
    assert done.returncode == 2 and "invalid choice: 'greedy'" in done.stderr
