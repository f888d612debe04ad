"""The timing gate (`python -m bench compare`) on synthetic runs with known samples."""

import numpy as np
import pytest

from bench import cli, timing_gate
from bench.testing_runs import benchmark_document, benchmark_entry, sin_run, write_json


def _compare(tmp_path, baseline, candidate, *extra):
    old = write_json(tmp_path / "old.json", baseline)
    new = write_json(tmp_path / "new.json", candidate)
    return cli.main(["compare", str(old), str(new), "--results", str(tmp_path / "r"), *extra])


def test_identical_runs_pass(tmp_path, capsys):
    run = sin_run(seed=1)
    assert _compare(tmp_path, run, run) == 0
    out = capsys.readouterr().out
    assert "timing gate: pass (6 cases" in out
    assert (tmp_path / "r" / "runs" / "compare.md").read_text().count("| same") == 6


def test_noise_only_passes(tmp_path, capsys):
    assert _compare(tmp_path, sin_run(seed=1), sin_run(seed=2)) == 0
    assert "SLOWER" not in capsys.readouterr().err


def test_planted_30_percent_slowdown_fails_naming_the_case(tmp_path, capsys):
    assert _compare(tmp_path, sin_run(seed=1), sin_run(dezero_scale=1.3, seed=2)) == 1
    err = capsys.readouterr().err
    assert err.count("SLOWER: dezero sin") == 6
    # x1.3 give or take the noise
    assert "SLOWER: dezero sin d100 w1 float64 backward: ratio x1." in err
    assert "p = " in err


def test_machine_drift_is_divided_out_by_the_yardstick(tmp_path):
    """The whole candidate run 2x slower (a slow phase of the machine): not a regression."""
    slow = sin_run(seed=2)
    for bench in slow["benchmarks"]:
        bench["stats"]["data"] = [2 * v for v in bench["stats"]["data"]]
    assert _compare(tmp_path, sin_run(seed=1), slow) == 0
    # the same drift compared in raw seconds is flagged: why the yardstick exists
    assert _compare(tmp_path, sin_run(seed=1), slow, "--yardstick", "none") == 1


def test_slowdown_under_threshold_passes_even_when_significant():
    base = {("sin", 1, 1, "float64", "forward"): np.linspace(1.0, 1.01, 20)}
    cand = {("sin", 1, 1, "float64", "forward"): np.linspace(1.05, 1.06, 20)}
    table = timing_gate.compare_runs(base, cand, threshold=0.10)
    assert table.loc[0, "p_value"] < 1e-6
    assert table.loc[0, "verdict"] == timing_gate.SAME
    assert timing_gate.compare_runs(base, cand, threshold=0.04).loc[0, "verdict"] == "slower"


def test_three_rounds_cannot_reach_alpha_and_are_reported_not_flagged():
    base = {("sin", 1, 1, "float64", "forward"): np.array([1.0, 1.0, 1.0])}
    cand = {("sin", 1, 1, "float64", "forward"): np.array([2.0, 2.0, 2.0])}
    assert timing_gate.min_p_value(3, 3) == pytest.approx(0.05)
    assert timing_gate.compare_runs(base, cand).loc[0, "verdict"] == timing_gate.TOO_FEW


def test_run_without_samples_is_an_input_error(tmp_path, capsys):
    run = sin_run(seed=1)
    del run["benchmarks"][0]["stats"]["data"]
    assert _compare(tmp_path, run, sin_run(seed=2)) == 2
    err = capsys.readouterr().err.strip()
    assert "old.json" in err and "no per-round samples" in err and "\n" not in err


def test_runs_without_a_shared_case_are_an_input_error(tmp_path, capsys):
    other = benchmark_document(
        [benchmark_entry(b, "exp", 5, 1, "forward", [1e-6] * 5) for b in ("dezero", "numpy")]
    )
    assert _compare(tmp_path, sin_run(seed=1), other) == 2
    assert "shares no dezero case" in capsys.readouterr().err


def test_candidate_defaults_to_the_newest_run_of_the_baseline_profile(tmp_path, capsys):
    results = tmp_path / "results"
    run_folder = results / "runs" / "quick-dezero-numpy-sin"
    run_folder.mkdir(parents=True)
    baseline = write_json(tmp_path / "baseline.json", sin_run(seed=1))
    write_json(run_folder / "benchmark-quick-float64-dezero-numpy-sin.json", sin_run(1.3, seed=3))
    assert cli.main(["compare", str(baseline), "--results", str(results)]) == 1
    assert (
        "benchmark-quick-float64-dezero-numpy-sin.json"
        in (results / "runs" / "compare.md").read_text()
    )


@pytest.mark.parametrize("threshold", ["0", "1.5", "ten"])
def test_threshold_outside_0_1_is_rejected(tmp_path, threshold, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["compare", "a.json", "b.json", "--threshold", threshold])
    assert exit_info.value.code == 2
    assert "between 0 and 1" in capsys.readouterr().err
