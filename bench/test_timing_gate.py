"""The timing gate (`python -m bench compare`) on synthetic runs with known samples."""

import numpy as np
import pytest

from bench import cli
from bench.timing import gate as timing_gate
from bench.timing.testing_runs import benchmark_document, benchmark_entry, sin_run, write_json


def _compare(tmp_path, baseline, candidate, *extra):
    old = write_json(tmp_path / "old.json", baseline)
    new = write_json(tmp_path / "new.json", candidate)
    return cli.main(["compare", str(old), str(new), "--results", str(tmp_path / "r"), *extra])


def test_identical_runs_pass(tmp_path, capsys):
    run = sin_run(seed=1)
    assert _compare(tmp_path, run, run) == 0
    assert "timing gate: pass (6 cases in 1 families" in capsys.readouterr().out
    report = (tmp_path / "r" / "runs" / "compare.md").read_text()
    assert "| sin      | 6       | +0.0 %" in report and "| same" in report


def test_noise_only_passes(tmp_path, capsys):
    for seed in range(2, 7):
        assert _compare(tmp_path, sin_run(seed=1), sin_run(seed=seed, noise=0.2)) == 0
    assert "SLOWER" not in capsys.readouterr().err


def test_planted_30_percent_slowdown_fails_naming_family_and_cases(tmp_path, capsys):
    assert _compare(tmp_path, sin_run(seed=1), sin_run(dezero_scale=1.3, seed=2)) == 1
    err = capsys.readouterr().err
    assert err.startswith("SLOWER: dezero sin: x1.")  # x1.3 give or take the noise
    assert "over 6 cases" in err and "Wilcoxon p = 0.016" in err  # 6 of 6 up: p = 1/64
    assert "d100 w1 float64 backward x1." in err


def test_a_speed_up_passes(tmp_path):
    assert _compare(tmp_path, sin_run(dezero_scale=1.3, seed=1), sin_run(seed=2)) == 0


def test_machine_drift_is_divided_out_by_the_yardstick(tmp_path):
    """The whole candidate run 2x slower (a slow phase of the machine): not a regression."""
    slow = sin_run(seed=2)
    for bench in slow["benchmarks"]:
        bench["stats"]["data"] = [2 * v for v in bench["stats"]["data"]]
    assert _compare(tmp_path, sin_run(seed=1), slow) == 0
    # the same drift compared in raw seconds is flagged: why the yardstick exists
    assert _compare(tmp_path, sin_run(seed=1), slow, "--yardstick", "none") == 1


def test_one_case_slower_is_not_a_family_regression():
    """One noisy case out of six doubles (one run's bad luck): the median change of the
    family stays 1, so the family passes."""
    base = {("sin", d, 1, "float64", "forward"): (np.full(5, 2.0), np.ones(5)) for d in range(6)}
    cand = dict(base) | {("sin", 0, 1, "float64", "forward"): (np.full(5, 4.0), np.ones(5))}
    cases = timing_gate.case_table(base, cand)
    assert sorted(cases["change"]) == [1, 1, 1, 1, 1, 2]
    verdict = timing_gate.family_verdicts(cases).iloc[0]
    assert verdict["change"] == 1
    assert verdict["verdict"] == timing_gate.SAME


def test_slowdown_under_threshold_passes_even_when_every_case_moved():
    base = {("sin", d, 1, "float64", "forward"): (np.full(5, 1.0), None) for d in range(6)}
    cand = {key: (np.full(5, 1.05), None) for key in base}
    cases = timing_gate.case_table(base, cand)
    assert timing_gate.family_verdicts(cases, threshold=0.10).iloc[0]["verdict"] == "same"
    assert timing_gate.family_verdicts(cases, threshold=0.04).iloc[0]["verdict"] == "slower"


def test_a_family_of_four_cases_cannot_reach_alpha_and_is_reported_not_flagged():
    base = {("sin", d, 1, "float64", "forward"): (np.full(5, 1.0), None) for d in range(4)}
    cand = {key: (np.full(5, 2.0), None) for key in base}
    verdict = timing_gate.family_verdicts(timing_gate.case_table(base, cand)).iloc[0]
    assert verdict["verdict"] == timing_gate.TOO_FEW  # 4 cases: smallest p is 1/16 > 0.05


def test_cases_timed_fewer_than_three_times_are_left_out():
    base = {("sin", 1, 1, "float64", "record"): (np.ones(1), None)}
    assert timing_gate.case_table(base, base).empty


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
