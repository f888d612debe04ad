"""Bad input gets one line naming the thing, exit 2, before any work, and changes nothing.

Bad settings, scheduler addresses, destinations that cannot be written (a read-only folder,
a folder where a file goes), hand-edited fuzz programs and out-of-range numbers. The work
each command would do is replaced by a call that fails the test, so "checked before the
work" is what is tested, and nothing here measures anything.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import cli
from bench.report.markdown import README_BEGIN, README_END
from bench.timing import testing_runs
from bench.timing.testing_runs import sin_run, write_json

REPO = Path(__file__).resolve().parent.parent


def _one_line(capsys, *expected) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for text in expected:
        assert text in err, err
    return err


def _exit_2(argv, capsys, *expected) -> str:
    """`argv` ends in exit 2 (returned or, from argparse, raised) with one line of stderr."""
    try:
        code = cli.main(argv)
    except SystemExit as exit_info:
        code = exit_info.code
    assert code == 2
    return _one_line(capsys, *expected)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _no_work(monkeypatch, module, name):
    monkeypatch.setattr(module, name, lambda *a, **k: pytest.fail(f"{name} ran before the check"))


@pytest.fixture
def unwritable(tmp_path):
    """A results folder nothing can be written into (read-only; as root, whom permissions
    do not stop, a path below a regular file)."""
    if os.geteuid() != 0:
        folder = tmp_path / "results"
        folder.mkdir()
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
    else:
        blocker = tmp_path / "not_a_folder"
        blocker.write_text("")
        yield blocker / "results"


def test_bad_thread_setting_is_one_line_even_for_help():
    env = os.environ | {"DEZERO_BENCH_THREADS": "abc", "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--help"], env=env, cwd=REPO, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert "DEZERO_BENCH_THREADS" in done.stderr and "'abc'" in done.stderr


@pytest.mark.parametrize("address", ["tcp://", "inproc://x", "tcp://host", "tcp://:8786"])
def test_malformed_scheduler_address_is_refused_by_the_parser(
    address, tmp_path, monkeypatch, capsys
):
    from validation.fuzz import checker as fuzz

    _no_work(monkeypatch, fuzz, "run_fuzz")
    argv = ["fuzz", "--programs", "1", "--out", str(tmp_path), "--scheduler", address]
    _exit_2(argv, capsys, repr(address))


@pytest.mark.parametrize("command", ["fuzz", "accuracy"])
def test_scheduler_nobody_answers_is_one_line_within_seconds(command, tmp_path, capsys):
    from validation import accuracy
    from validation.fuzz import checker as fuzz

    address = "tcp://127.0.0.1:1"
    argv = ["fuzz", "--programs", "1", "--out", str(tmp_path / "fuzz")]
    if command == "accuracy":
        argv = ["accuracy", "--profile", "ci", "--families", "sin", "--results", str(tmp_path)]
    start = time.perf_counter()
    with pytest.MonkeyPatch.context() as patch:
        _no_work(patch, fuzz, "run_fuzz")
        _no_work(patch, accuracy, "run_accuracy")
        _exit_2([*argv, "--scheduler", address], capsys, address, "cannot reach")
    # the connect gives up after 3 s (dask's own default waits 30); the rest is importing
    # dask, seconds on a loaded machine
    assert time.perf_counter() - start < 20
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    "argv, module, work",
    [
        (["fuzz", "--programs", "1", "--backends", "dezero", "--out"], "validation.fuzz.checker",
         "run_fuzz"),
        (["baseline", "--families", "sin", "--baseline"], "validation.accuracy", "run_accuracy"),
        (["check", "--strength", "--results"], "validation.strength", "measure_strength"),
    ],
    ids=["fuzz", "baseline", "check-strength"],
)  # fmt: skip
def test_unwritable_destination_is_one_line_before_the_work(
    argv, module, work, unwritable, monkeypatch, capsys
):
    import importlib

    _no_work(monkeypatch, importlib.import_module(module), work)
    target = unwritable / "accuracy_baseline.csv" if argv[0] == "baseline" else unwritable
    _exit_2([*argv, str(target)], capsys, str(unwritable), "not writable")


@pytest.fixture
def default_results(tmp_path):
    """A results folder holding a default-profile benchmark JSON, and a README with a block."""
    return testing_runs.default_results(tmp_path, (README_BEGIN, README_END))


@pytest.mark.parametrize("folder_name", ["timing.md", "REPORT.md", "time_per_op.png"])
def test_tables_with_a_folder_in_an_output_files_place_changes_nothing(
    default_results, folder_name, capsys
):
    results, readme = default_results
    (results / folder_name).mkdir()
    before = _files(results.parent)
    argv = ["tables", "--results", str(results), "--readme", str(readme)]
    _exit_2(argv, capsys, str(results / folder_name), "is a folder")
    assert _files(results.parent) == before


def test_tables_with_a_folder_as_readme_is_one_line(default_results, capsys):
    results, readme = default_results
    folder = results.parent / "readme_folder"
    folder.mkdir()
    before = _files(results.parent)
    _exit_2(["tables", "--results", str(results), "--readme", str(folder)], capsys, "is a folder")
    assert _files(results.parent) == before


def test_run_with_a_folder_where_its_json_goes_stops_before_benchmarking(
    default_results, monkeypatch, capsys
):
    from bench.timing import run_suite

    results, readme = default_results
    (results / "benchmark-default-float64.json").unlink()
    (results / "benchmark-default-float64.json").mkdir()
    _no_work(monkeypatch, run_suite, "run_benchmarks")
    argv = ["run", "--skip-accuracy", "--quiet", "--results", str(results), "--readme", str(readme)]
    _exit_2(argv, capsys, "benchmark-default-float64.json", "is a folder")


def test_compare_with_a_folder_where_its_report_goes_is_one_line(tmp_path, capsys):
    old = write_json(tmp_path / "old.json", sin_run(seed=1))
    new = write_json(tmp_path / "new.json", sin_run(seed=2))
    (tmp_path / "results" / "runs" / "compare.md").mkdir(parents=True)
    argv = ["compare", str(old), str(new), "--results", str(tmp_path / "results")]
    _exit_2(argv, capsys, "compare.md", "is a folder")


def test_folder_given_as_an_input_file_says_it_is_a_folder(tmp_path, capsys):
    _exit_2(["tables", str(tmp_path), "--results", str(tmp_path / "r")], capsys, "is a folder")


def test_folder_given_as_the_gate_baseline_says_it_is_a_folder(tmp_path, monkeypatch, capsys):
    from validation import gate

    _no_work(monkeypatch, gate, "ci_accuracy")
    _exit_2(["check", "--baseline", str(tmp_path)], capsys, str(tmp_path), "is a folder")


def test_missing_readme_says_it_does_not_exist(default_results, capsys):
    results, readme = default_results
    missing = readme.with_name("READ_ME.md")
    before = _files(results.parent)
    argv = ["tables", "--results", str(results), "--readme", str(missing)]
    _exit_2(argv, capsys, str(missing), "no such file")
    assert _files(results.parent) == before


GOOD_INPUT = {"op": "input", "shape": [2], "values": [0.5, 1.5]}


@pytest.mark.parametrize(
    "program, problem",
    [
        ({"nodes": [{**GOOD_INPUT, "shape": [3]}, {"op": "sin", "args": [0]}]},
         "holds 3 values, got 2"),
        ({"nodes": [{**GOOD_INPUT, "values": ["a", "b"]}, {"op": "sin", "args": [0]}]},
         "not a list of finite numbers"),
        ({"nodes": [GOOD_INPUT, 7]}, "node 1: is a int"),
        ({"nodes": [GOOD_INPUT, {"op": "sin", "args": [5]}]}, "only earlier nodes"),
        ({"nodes": []}, "no op node"),
        ({"nodes": [GOOD_INPUT]}, "no op node"),
        ({"nodes": [GOOD_INPUT, {"op": "add", "args": [0]}]}, "add takes 2"),
        ({"nodes": [GOOD_INPUT, {"op": "input", "shape": [3], "values": [1.0, 2.0, 3.0]},
                    {"op": "add", "args": [0, 1]}]}, "node 2 (add of shape (2,) and (3,))"),
        ({"nodes": [GOOD_INPUT, {"op": "sum", "args": [0], "attrs": {"axis": 4}}]},
         "node 1 (sum"),
        ({"nodes": {"0": GOOD_INPUT}}, "'nodes' list"),
    ],
    ids=["wrong-shape", "string-values", "int-node", "dangling-arg", "empty", "no-op",
         "arity", "broadcast", "bad-axis", "nodes-not-a-list"],
)  # fmt: skip
def test_hand_edited_replay_program_is_one_line_naming_the_file(
    program, problem, tmp_path, monkeypatch, capsys
):
    from validation.fuzz import report as fuzz_report

    _no_work(monkeypatch, fuzz_report, "check")
    path = tmp_path / "program.json"
    path.write_text(json.dumps(program))
    _exit_2(["fuzz", "--replay", str(path), "--backends", "dezero"], capsys, str(path), problem)


@pytest.mark.parametrize("text", ["{", "", "[1, 2"])
def test_replay_file_that_is_not_json_names_the_file(text, tmp_path, capsys):
    path = tmp_path / "program.json"
    path.write_text(text)
    _exit_2(["fuzz", "--replay", str(path)], capsys, str(path), "not valid JSON")


@pytest.mark.parametrize(
    "argv",
    [["run", "--jobs", "0"], ["run", "--jobs", "-3"], ["accuracy", "--jobs", "0"],
     ["accuracy", "--jobs", "-3"]],
)  # fmt: skip
def test_jobs_below_one_is_refused(argv, tmp_path, monkeypatch, capsys):
    from bench.cli import accuracy_sweep as accuracy_results
    from bench.timing import run_suite

    _no_work(monkeypatch, run_suite, "run_benchmarks")
    _no_work(monkeypatch, accuracy_results, "run_accuracy")
    _exit_2([*argv, "--results", str(tmp_path)], capsys, "--jobs")


def test_accuracy_depth_beyond_the_profiles_grid_is_refused(tmp_path, monkeypatch, capsys):
    from bench.cli import accuracy_sweep as accuracy_results

    _no_work(monkeypatch, accuracy_results, "run_accuracy")
    argv = ["accuracy", "--depths", "99999999999999999999", "--results", str(tmp_path)]
    _exit_2(argv, capsys, "99999999999999999999", "at most 100,000")
    argv = ["accuracy", "--profile", "quick", "--depths", "1000", "--results", str(tmp_path)]
    _exit_2(argv, capsys, "--depths 1000", "'quick'")
    assert not any(tmp_path.iterdir())
