"""What a run prints and leaves is what happened: no worker tracebacks after Ctrl-C, progress
that means what it says, no warnings from the progress bar, no empty folder from a run that
saved nothing, and fuzz output kept out of git."""

import json
import os
import signal
import subprocess
import sys
import warnings
from argparse import Namespace
from pathlib import Path

import pytest

from bench import cli
from bench.cli import fuzz as cli_fuzz

REPO = Path(__file__).resolve().parent.parent


def test_ctrl_c_under_a_local_dask_cluster_is_one_line(tmp_path):
    """A real Ctrl-C (SIGINT to the whole process group, as a terminal sends it) once the
    cluster's workers are busy: the CLI's line alone, no worker or shutdown traceback."""
    argv = ["fuzz", "--programs", "2000", "--backends", "dezero", "--scheduler", "local",
            "--jobs", "1", "--out", str(tmp_path / "fuzz")]  # fmt: skip
    env = os.environ | {"PYTHONPATH": str(REPO), "PYTHONWARNINGS": "ignore"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bench", *argv], cwd=REPO, env=env, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        first = process.stdout.readline()  # the first chunk done: workers are running
        assert first.startswith("[1/"), first
        os.killpg(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130
    assert err.strip().splitlines() == [
        "interrupted: nothing was saved; every results file is as it was before"
    ], err


def test_fuzz_progress_with_seconds_shows_time_not_the_program_cap(capsys):
    show = cli_fuzz.progress(seconds=60, programs=None)
    show(14, 400_000, 350, [])
    out = capsys.readouterr().out
    assert "400000" not in out and "400,000" not in out
    assert out.startswith("[14 chunks, ") and "/60 s]" in out and "350 programs" in out


def test_fuzz_progress_without_seconds_counts_chunks(capsys):
    cli_fuzz.progress(seconds=None, programs=100)(2, 4, 50, [])
    assert capsys.readouterr().out.startswith("[2/4] 50 programs; findings: none")


class _FakeSuite:
    """The benchmark subprocess, replaced: it reports `CASES` collected, then each done."""

    CASES = [
        {"nodeid": f"case{i}", "backend": "numpy", "family": "sin", "depth": 1, "width": 1,
         "pass": "forward"}
        for i in range(100)
    ]  # fmt: skip

    def __init__(self, command, cwd, env, stdout, stderr, pass_fds):
        with os.fdopen(os.dup(pass_fds[0]), "w") as pipe:
            pipe.write(json.dumps({"event": "collected", "cases": self.CASES}) + "\n")
            for case in self.CASES:
                done = {"event": "done", "nodeid": case["nodeid"], "outcome": "passed"}
                pipe.write(json.dumps(done | {"reason": None}) + "\n")

    def wait(self):
        return 0


def test_benchmark_progress_bar_never_overshoots(tmp_path, monkeypatch, capsys):
    """Estimates that round up (5 ms each) once made the bar pass its total: tqdm warned
    'clamping frac' and showed a negative time left."""
    from tqdm import TqdmWarning

    from bench.timing import run_suite

    monkeypatch.setattr(run_suite.subprocess, "Popen", _FakeSuite)
    estimates = {("numpy", "sin", 1, 1, "forward"): 0.005}
    monkeypatch.setattr(run_suite, "_estimates", lambda profile, families=None: estimates)
    args = Namespace(profile="quick", dtype=None, backends=None, families=None, depths=None,
                     quiet=False)  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code, events = run_suite.run_benchmarks(args, tmp_path / "x.json", tmp_path / "log")
    assert code == 0 and len(events) == 100
    assert not [w for w in caught if issubclass(w.category, TqdmWarning)], caught
    err = capsys.readouterr().err
    assert "clamping" not in err and "<-" not in err and "100%" in err


def test_run_interrupted_before_saving_leaves_no_empty_folder(tmp_path, monkeypatch, capsys):
    from bench.timing import run_suite

    def interrupted(args, json_path, log_path):
        assert json_path.parent.is_dir()  # pytest-benchmark writes there at the end
        raise KeyboardInterrupt

    monkeypatch.setattr(run_suite, "run_benchmarks", interrupted)
    results = tmp_path / "results"
    results.mkdir()
    assert cli.main(["run", "--quick", "--quiet", "--results", str(results)]) == 130
    assert list(results.iterdir()) == []
    assert "nothing was saved" in capsys.readouterr().err


def test_fuzz_output_is_ignored_by_git():
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout: .gitignore does not apply")
    for path in ("results/fuzz/findings.csv", "results/fuzz/dezero-raises/program.json"):
        done = subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO, timeout=30)
        assert done.returncode == 0, f"{path} is not git-ignored"


def test_a_run_that_saved_its_json_keeps_its_folder(tmp_path, monkeypatch):
    """The clean-up removes only a folder the run created and left empty."""
    from bench.timing import run_suite
    from bench.timing.testing_runs import sin_run, write_json

    def benchmarks(args, json_path, log_path):
        write_json(json_path, sin_run())
        return 0, []

    monkeypatch.setattr(run_suite, "run_benchmarks", benchmarks)
    results = tmp_path / "results"
    argv = ["run", "--quick", "--quiet", "--skip-accuracy", "--skip-workloads"]
    argv += ["--results", str(results)]
    assert cli.main(argv) == 0
    assert (results / "runs" / "quick" / "benchmark-quick-float64.json").is_file()
