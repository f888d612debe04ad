"""The workloads' harness: bad input stops before work, the table built from a small fake run,
merging that never clobbers rows a run did not produce, where runs write, the README block's
line budget, and the pytest-benchmark suite collecting under `-k workloads`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from bench import cli
from bench.cli import workloads_run
from bench.files.destinations import README, RESULTS
from bench.report import markdown as report
from bench.report import plots
from bench.timing import tables as timing
from bench.timing.workload_suite import WorkloadCase, case_outcomes, workload_cases
from bench.timing.workload_tables import (
    merge_saved,
    read_workloads,
    render_markdown,
    workload_table,
)

REPO = Path(__file__).resolve().parent.parent


def _document(times: dict) -> dict:
    """A pytest-benchmark document of workload benchmarks: {(evaluation, size, backend): s}."""
    benchmarks = [
        {
            "stats": {"median": seconds, "iqr": 0.0, "min": seconds, "rounds": 5},
            "extra_info": {
                "workload": True,
                "evaluation": evaluation,
                "size": size,
                "size_index": 0,
                "elements": 100,
                "backend": backend,
                "backend_version": "1.0",
                "dtype": "float64",
                "compile_seconds": 2.5 if backend == "jax_jit" else None,
            },
        }  # fmt: skip
        for (evaluation, size, backend), seconds in times.items()
    ]
    return {
        "machine_info": {"node": "box", "cpu": {"brand_raw": "test cpu"}},
        "commit_info": {"id": "testcommit", "dirty": False},
        "datetime": "2026-01-01T00:00:00",
        "benchmarks": benchmarks,
    }


def _cases(rows) -> pd.DataFrame:
    """Case outcomes: (evaluation, size, backend, status, reason) tuples."""
    columns = ["evaluation", "size", "backend", "status", "reason"]
    return pd.DataFrame(rows, columns=columns).assign(size_index=0)


def _accuracy(errors: dict) -> pd.DataFrame:
    """`workload_accuracy`'s shape: `eval`, and figures per quantity (objective, gradient)."""
    return pd.DataFrame(
        [
            {"eval": e, "size": s, "backend": b, "status": "ok", "reason": None,
             "objective_rel_err": error / 10, "gradient_rel_err": error,
             "objective_excess": 0.5, "gradient_excess": 0.75, "gradbench_error": error}
            for (e, s, b), error in errors.items()
        ]
    )  # fmt: skip


def _fake_run(times, skipped=(), errors=None) -> pd.DataFrame:
    rows = [(*key, "passed", None) for key in times]
    rows += [(*key, "skipped", why) for key, why in skipped]
    return workload_table(_cases(rows), _document(times), _accuracy(errors) if errors else None)


GMM = ("gmm", "d=2,k=5,n=1000")


def test_table_from_a_fake_run_has_ratios_to_torch_and_jax_jit_and_says_why_a_row_is_empty():
    times = {(*GMM, "dezero"): 0.004, (*GMM, "torch"): 0.002, (*GMM, "jax_jit"): 0.001}
    table = _fake_run(times, skipped=[((*GMM, "autograd"), "autograd cannot nest grad")])
    rows = table.set_index("backend")
    assert rows.at["dezero", "vs_torch"] == pytest.approx(2.0)
    assert rows.at["dezero", "vs_jax_jit"] == pytest.approx(4.0)
    assert rows.at["torch", "vs_torch"] == pytest.approx(1.0)
    assert rows.at["jax_jit", "compile_s"] == pytest.approx(2.5)
    assert pd.isna(rows.at["autograd", "median_s"])
    assert rows.at["autograd", "reason"] == "autograd cannot nest grad"
    assert list(table["backend"]) == ["dezero", "torch", "jax_jit", "autograd"]


def test_markdown_shows_each_reason_and_flags_a_gradient_beyond_gradbench_tolerance():
    times = {(*GMM, "dezero"): 0.004, (*GMM, "torch"): 0.002}
    table = _fake_run(
        times,
        skipped=[((*GMM, "jax"), "jax cannot run it here")],
        errors={(*GMM, "dezero"): 3e-3, (*GMM, "torch"): 1e-16},
    )
    text = render_markdown(table)
    assert "## gmm" in text and "jax cannot run it here" in text
    assert "3.0e-03 FAIL" in text and "1.0e-16 ok" in text
    assert "box (test cpu), commit testcommit: 2 rows" in text
    rows = table.set_index("backend")
    assert rows.at["dezero", "max_rel_error"] == 3e-3  # the largest of its quantities
    assert rows.at["dezero", "excess"] == 0.75


def test_merge_replaces_only_the_rows_the_run_produced():
    lse = ("lse", "n=2500")
    saved = _fake_run(
        {(*GMM, "dezero"): 0.004, (*GMM, "torch"): 0.002, (*lse, "torch"): 0.001},
        errors={(*GMM, "dezero"): 1e-15, (*GMM, "torch"): 1e-16, (*lse, "torch"): 2e-16},
    )
    run = _fake_run({(*GMM, "dezero"): 0.001})  # a --skip-accuracy run of dezero on gmm
    merged = merge_saved(saved, run, accuracy_measured=False).set_index(["evaluation", "backend"])
    assert len(merged) == 3
    assert merged.at[("gmm", "dezero"), "median_s"] == 0.001
    assert merged.at[("gmm", "dezero"), "vs_torch"] == pytest.approx(0.5)  # derived again
    assert merged.at[("gmm", "dezero"), "gradbench_error"] == 1e-15  # not measured: kept
    assert merged.at[("gmm", "torch"), "median_s"] == 0.002
    assert merged.at[("lse", "torch"), "gradbench_error"] == 2e-16
    measured = _fake_run({(*GMM, "dezero"): 0.001}, errors={(*GMM, "dezero"): 5e-15})
    merged = merge_saved(saved, measured, accuracy_measured=True).set_index(
        ["evaluation", "backend"]
    )
    assert merged.at[("gmm", "dezero"), "gradbench_error"] == 5e-15


def test_case_outcomes_keep_skip_reasons_and_mark_a_case_that_never_ran():
    cases = [WorkloadCase("lse", {"n": 50}, 0, b) for b in ("dezero", "jax", "torch")]
    prefix = "bench/timing/test_workloads.py::test_workload"
    events = [
        {"nodeid": f"{prefix}[lse-n=50-dezero]", "outcome": "passed", "reason": None},
        {"nodeid": f"{prefix}[lse-n=50-jax]", "outcome": "skipped", "reason": "no jax here"},
    ]
    outcomes = case_outcomes(cases, events).set_index("backend")
    assert outcomes.at["dezero", "status"] == "passed"
    assert outcomes.at["jax", "reason"] == "no jax here"
    assert outcomes.at["torch", "status"] == "failed"
    assert outcomes.at["torch", "reason"] == "did not run"


@pytest.fixture
def fake_workloads(monkeypatch):
    """`time_workloads` and `accuracy_rows` replaced by instant fakes; records each call."""
    calls = []

    def time_workloads(grid, evals, backends, quiet):
        calls.append((grid, tuple(evals), tuple(backends)))
        cases = workload_cases(grid, evals, backends)
        times = {(c.evaluation, c.label, c.backend): 0.001 * (1 + len(calls)) for c in cases}
        rows = [(*key, "passed", None) for key in times]
        return _cases(rows), _document(times)

    monkeypatch.setattr(workloads_run, "time_workloads", time_workloads)
    # the plots are drawn from the table by their own test; here a placeholder is enough
    monkeypatch.setattr(plots, "write_plots", _placeholder_plots)
    monkeypatch.setattr(workloads_run, "accuracy_rows", lambda *a: (None, 0))
    monkeypatch.setattr(workloads_run, "workload_table", _no_accuracy_table)
    return calls


def _placeholder_plots(results_dir, timing=None, accuracy=None, workloads=None):
    path = Path(results_dir) / "workloads.png"
    path.write_bytes(b"plot")
    return [path]


def _no_accuracy_table(cases, document, accuracy):
    return workload_table(cases, document, None)


def _snapshot(folder: Path) -> dict:
    return {str(p): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--evals", "nope"], "'nope'"),
        (["--backends", "caffe"], "'caffe'"),
        (["--sizes", "huge"], "'huge'"),
        (["--evals"], "--evals"),
    ],
)
def test_bad_input_is_one_line_and_exit_2_before_any_work(
    argv, named, tmp_path, fake_workloads, capsys
):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["workloads", *argv, "--results", str(tmp_path / "results"), "--no-readme"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and named in err, err
    assert fake_workloads == [] and not (tmp_path / "results").exists()


def test_an_unreadable_saved_table_stops_the_run_before_timing(tmp_path, fake_workloads, capsys):
    folder = tmp_path / "results" / "runs" / "quick"
    folder.mkdir(parents=True)
    (folder / "workloads.csv").write_text("not,a\nworkloads,table\n")
    argv = ["workloads", "--sizes", "quick", "--results", str(tmp_path / "results")]
    assert cli.main([*argv, "--no-readme"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "workloads.csv" in err, err
    assert fake_workloads == []


def test_quick_runs_stay_apart_and_a_published_filtered_run_merges(tmp_path, fake_workloads):
    results = tmp_path / "results"
    readme = tmp_path / "README.md"
    readme.write_text(f"# project\n\n{report.README_BEGIN}\nold\n{report.README_END}\n")
    base = ["--results", str(results), "--readme", str(readme), "--quiet"]
    assert cli.main(["workloads", "--evals", "lse", "gmm", "--publish", *base]) == 0
    published = read_workloads(results / "workloads.csv")
    before = _snapshot(results)
    assert cli.main(["workloads", "--sizes", "quick", *base]) == 0
    assert _snapshot(results).items() >= before.items()  # every published file as it was
    assert (results / "runs" / "quick" / "workloads.csv").is_file()
    assert fake_workloads[-1][0] == "quick"
    argv = ["workloads", "--evals", "gmm", "--backends", "dezero", "--publish", *base]
    assert cli.main(argv) == 0
    merged = read_workloads(results / "workloads.csv")
    assert len(merged) == len(published)
    mine = (merged["evaluation"] == "gmm") & (merged["backend"] == "dezero")
    pd.testing.assert_frame_equal(
        merged[~mine].reset_index(drop=True),
        published[~((published["evaluation"] == "gmm") & (published["backend"] == "dezero"))]
        .reset_index(drop=True)
        .assign(vs_torch=merged[~mine]["vs_torch"].to_numpy()),
    )
    assert (merged[mine]["median_s"] > published.loc[mine.to_numpy(), "median_s"].to_numpy()).all()
    assert "GradBench evaluations" in readme.read_text()
    assert "## GradBench evaluations" in (results / "REPORT.md").read_text()
    assert (results / "workloads.png").stat().st_size > 0


def test_run_includes_the_workloads_at_its_profile_sizes_unless_filtered_by_chain(
    tmp_path, monkeypatch, fake_workloads
):
    from bench.timing import run_suite
    from bench.timing.testing_runs import sin_run, write_json

    def benchmarks(args, json_path, log_path):
        write_json(json_path, sin_run())
        return 0, []

    monkeypatch.setattr(run_suite, "run_benchmarks", benchmarks)
    results = tmp_path / "results"
    base = ["--quiet", "--skip-accuracy", "--results", str(results), "--no-readme"]
    assert cli.main(["run", "--quick", *base]) == 0
    assert [call[0] for call in fake_workloads] == ["quick"]
    assert (results / "runs" / "quick" / "workloads.csv").is_file()
    assert cli.main(["run", "--quick", "--families", "sin", *base]) == 0
    assert cli.main(["run", "--quick", "--skip-workloads", *base]) == 0
    assert len(fake_workloads) == 1


def test_readme_block_has_one_line_per_evaluation_and_the_readme_stays_within_160_lines():
    names = ["gmm", "lstm", "ba", "ht", "llsq", "lse", "det", "kmeans", "ode", "particle",
             "saddle", "hello"]  # fmt: skip
    backends = ["dezero", "dezero_replay", "torch", "jax", "jax_jit", "autograd"]
    times = {(n, "s=1", b): 0.001 for n in names for b in backends}
    workloads = _fake_run(times, errors={key: 1e-15 for key in times})
    raw, _ = timing.load_benchmarks([RESULTS / "benchmark-default-float64.json"])
    accuracy = pd.read_csv(RESULTS / "accuracy.csv")
    block = report.readme_block(timing.timing_table(raw), accuracy, workloads)
    rows = [line for line in block.splitlines() if line.startswith("| ")]
    for name in names:
        assert sum(row.startswith(f"| {name} ") for row in rows) == 1, name
    text = README.read_text()
    start = text.index(report.README_BEGIN) + len(report.README_BEGIN)
    new = text[:start] + "\n" + block + "\n" + text[text.index(report.README_END) :]
    assert len(new.splitlines()) <= 160, len(new.splitlines())


def test_plot_draws_the_workloads_from_the_table(tmp_path):
    times = {(*GMM, "dezero"): 0.004, (*GMM, "torch"): 0.002, ("lse", "n=1", "torch"): 0.001}
    written = plots.write_plots(tmp_path, workloads=_fake_run(times))
    assert written == [tmp_path / "workloads.png"]
    assert (tmp_path / "workloads.png").read_bytes().startswith(b"\x89PNG")


def test_the_suite_collects_every_quick_case_under_k_workloads():
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env |= {"PYTHONPATH": str(REPO), "DEZERO_BENCH_PROFILE": "quick"}
    command = [sys.executable, "-m", "pytest", "bench/timing", "--benchmark-only",
               "--collect-only", "-q", "-k", "workloads", "-p", "no:randomly"]  # fmt: skip
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    collected = [line for line in done.stdout.splitlines() if "::" in line]
    expected = {f"test_workload[{case.id}]" for case in workload_cases("quick")}
    assert {line.rsplit("::", 1)[1] for line in collected} == expected


def test_one_json_holding_chains_and_workloads_splits_between_the_two_tables():
    """`pytest --benchmark-only` unfiltered times both suites into one JSON."""
    from bench.timing.testing_runs import sin_run
    from bench.timing.workload_tables import timing_rows

    document = sin_run()
    chains = len(document["benchmarks"])
    document["benchmarks"] += _document({(*GMM, "dezero"): 0.004})["benchmarks"]
    assert len(timing.benchmark_rows(document)) == chains
    assert list(timing_rows(document)["backend"]) == ["dezero"]


def test_a_pytest_error_in_the_timing_run_writes_nothing_and_exits_1(tmp_path, monkeypatch, capsys):
    from bench.timing import run_suite

    monkeypatch.setattr(run_suite, "run_benchmarks", lambda *args: (4, []))  # usage error
    argv = ["workloads", "--sizes", "quick", "--results", str(tmp_path / "results")]
    assert cli.main([*argv, "--no-readme", "--quiet"]) == 1
    assert "workload benchmarks failed (pytest exit 4)" in capsys.readouterr().err
    assert not (tmp_path / "results").exists()
