"""The gates never pass what they could not judge: a time that is not a time is refused, a
family too small to test is named as not judged, a comparison across profiles or machines
says so, and a yardstick that cannot fail is refused. Synthetic runs with known samples."""

import json
from pathlib import Path

import pytest

from bench import cli
from bench.timing.testing_runs import benchmark_document, benchmark_entry, sin_run, write_json


def _compare(tmp_path, baseline, candidate, *extra):
    old = write_json(tmp_path / "old.json", baseline)
    new = write_json(tmp_path / "new.json", candidate)
    return cli.main(["compare", str(old), str(new), "--results", str(tmp_path / "r"), *extra])


def _one_line(capsys, *expected):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for text in expected:
        assert text in err, err


def _with_rounds(document, change):
    """`document` with every dezero round passed through `change` (stats kept as they were)."""
    document = json.loads(json.dumps(document))
    for bench in document["benchmarks"]:
        if bench["extra_info"]["backend"] == "dezero":
            bench["stats"]["data"] = [change(i, v) for i, v in enumerate(bench["stats"]["data"])]
    return document


@pytest.mark.parametrize(
    "change, shown",
    [
        (lambda i, v: 2 * v if i else float("nan"), "nan"),
        (lambda i, v: -v, "-"),
    ],
    ids=["nan_round", "negative"],
)
def test_a_run_with_nan_or_negative_times_is_refused(tmp_path, capsys, change, shown):
    candidate = _with_rounds(sin_run(seed=2), change)  # and 2x slower
    assert _compare(tmp_path, sin_run(seed=1), candidate) == 2
    _one_line(capsys, "new.json", "data", shown)
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("field", ["median", "min"])
def test_a_run_with_a_nan_or_negative_statistic_is_refused(tmp_path, capsys, field):
    candidate = sin_run(seed=2)
    candidate["benchmarks"][3]["stats"][field] = float("nan")
    assert _compare(tmp_path, sin_run(seed=1), candidate) == 2
    _one_line(capsys, "new.json", f"{field} = nan")
    candidate["benchmarks"][3]["stats"][field] = -1.0
    assert _compare(tmp_path, sin_run(seed=1), candidate) == 2
    _one_line(capsys, "new.json", f"{field} = -1.0")


def test_all_zero_times_are_refused_not_divided_by(tmp_path, capsys):
    zero = sin_run(seed=1)
    for bench in zero["benchmarks"]:
        stats = bench["stats"]
        stats["data"] = [0.0] * len(stats["data"])
        stats.update(
            dict.fromkeys(("min", "max", "mean", "stddev", "median", "iqr", "q1", "q3"), 0.0)
        )
    assert _compare(tmp_path, zero, zero) == 2
    _one_line(capsys, "old.json", "a round of 0 s", "positive times only")


def _four_cases(scale):
    entries = [
        benchmark_entry(backend, "sin", depth, 1, "forward", [per * depth * scale] * 5)
        for depth in (1, 10, 100, 1000)
        for backend, per in (("dezero", 4e-6), ("numpy", 1e-6))
    ]
    return benchmark_document(entries)


def test_a_family_too_small_to_judge_is_not_called_a_pass(tmp_path, capsys):
    candidate = _with_rounds(_four_cases(1.0), lambda i, v: 2 * v)  # +100 % on 4 cases
    assert _compare(tmp_path, _four_cases(1.0), candidate) == 3
    out = capsys.readouterr().out
    summary = out.strip().splitlines()[-1]
    assert summary.startswith("timing gate: not judged (0 of 1 families judged")
    assert "could not judge" in summary and "sin (4 cases, +100.0 %)" in summary
    assert "pass" not in summary


def test_a_small_family_within_the_threshold_is_a_pass(tmp_path, capsys):
    assert _compare(tmp_path, _four_cases(1.0), _four_cases(1.0)) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("timing gate: pass")


def test_compare_help_documents_the_exit_codes(capsys):
    with pytest.raises(SystemExit):
        cli.main(["compare", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for code in ("Exit 0:", "1: a family slower", "2: a bad file", "3: none slower"):
        assert code in text, text


def test_comparing_runs_of_two_profiles_says_so(tmp_path, capsys):
    default = sin_run(seed=2)
    default["machine_info"]["bench_profile"] = "default"
    assert _compare(tmp_path, sin_run(seed=1), default) == 0
    err = capsys.readouterr().err
    assert "quick-profile run, the candidate a default-profile run" in err
    assert "quick-profile run" in (tmp_path / "r" / "runs" / "compare.md").read_text()


def test_comparing_runs_of_two_machines_names_what_differs(tmp_path, capsys):
    other = sin_run(seed=2)
    other["machine_info"]["cpu"] = {"brand_raw": "another cpu", "flags": ["avx512f"]}
    assert _compare(tmp_path, sin_run(seed=1), other) == 0
    err = capsys.readouterr().err
    assert "different machines (cpu.brand_raw, cpu.flags differ)" in err
    assert _compare(tmp_path, sin_run(seed=1), sin_run(seed=2)) == 0
    assert "note:" not in capsys.readouterr().err  # alike runs: no note


def test_dezero_cannot_be_its_own_yardstick(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _compare(tmp_path, sin_run(seed=1), sin_run(seed=2), "--yardstick", "dezero")
    assert exit_info.value.code == 2
    _one_line(capsys, "--yardstick", "'dezero'")


def test_the_same_json_twice_is_one_run_in_the_report(tmp_path, monkeypatch):
    from bench.files import atomic_write
    from bench.report import plots

    monkeypatch.setattr(
        plots,
        "write_plots",
        lambda d, **tables: [atomic_write.write_text(Path(d) / "p.png", "")],
    )
    run = write_json(tmp_path / "laptop.json", sin_run(seed=1))
    results = tmp_path / "results"
    spelled = tmp_path / "." / "laptop.json"
    assert cli.main(["tables", str(run), str(spelled), "--results", str(results)]) == 0
    report = (results / "runs" / "laptop" / "REPORT.md").read_text()
    assert report.count("laptop.json") == 1, report


@pytest.mark.parametrize(
    "extra, named",
    [
        (["--seconds", "5"], "--seconds"),
        (["--jobs", "2"], "--jobs"),
        (["--programs", "10", "--scheduler", "local"], "--programs, --scheduler"),
    ],
)
def test_replay_refuses_options_it_would_ignore(tmp_path, capsys, extra, named):
    program = tmp_path / "p.json"
    program.write_text('{"version": 1, "nodes": []}')
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["fuzz", "--replay", str(program), *extra])
    assert exit_info.value.code == 2
    _one_line(capsys, "--replay", f"{named} do not apply")
