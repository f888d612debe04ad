"""Results say where they come from: the SIMD level that decided each backend's roundings is
recorded in every benchmark JSON and accuracy row, REPORT.md states it, and `compare` says
when two runs' levels differ."""

import json

import numpy as np
import pandas as pd
import pytest

from bench import cli
from bench.files.destinations import RESULTS
from bench.machine import simd
from bench.report.markdown import render_report
from bench.timing.testing_runs import sin_run, write_json
from validation.accuracy import read_accuracy


def test_levels_name_numpys_dispatch_and_every_installed_library():
    levels = simd.levels()
    found = np.__config__.CONFIG["SIMD Extensions"]
    assert levels["numpy"].startswith(f"baseline {' '.join(found['baseline'])}; dispatched")
    assert all(target in levels["numpy"] for target in found["found"])
    assert levels["xla"] == "host"


def test_torch_level_is_its_cpu_capability():
    torch = pytest.importorskip("torch")
    assert simd.levels()["torch"] == torch.backends.cpu.get_cpu_capability()


def test_xla_level_is_the_isa_cap_in_xla_flags(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false --xla_cpu_max_isa=AVX2")
    assert simd.xla_level() == "AVX2"


def test_benchmark_json_records_the_levels():
    from bench.timing import plugin as conftest

    class Config:
        def getoption(self, name):
            return name == "benchmark_disable"

    info = {}
    conftest.pytest_benchmark_update_machine_info(Config(), info)
    assert info["bench_simd"] == simd.levels()
    json.dumps(info)  # stays JSON


def test_accuracy_rows_record_their_librarys_level():
    pytest.importorskip("torch")
    from bench.workloads.profiles import PROFILES, AccuracyCase
    from validation.accuracy import COLUMNS, measure

    assert "simd" in COLUMNS
    rows = pd.DataFrame(measure(AccuracyCase("sin", 1, 1, "float64"), ["dezero", "torch"],
                                PROFILES["ci"]))  # fmt: skip
    by_backend = rows.groupby("backend")["simd"].agg(set)
    assert by_backend["dezero"] == {simd.describe("numpy")}
    assert by_backend["torch"] == {simd.describe("torch")}
    assert simd.describe("numpy").startswith("numpy: baseline")


def test_report_states_the_levels_of_benchmarks_and_accuracy(tmp_path):
    from bench.timing import tables as timing

    document = sin_run()
    document["machine_info"]["bench_simd"] = {"numpy": "baseline X86_V2; dispatched X86_V3",
                                              "torch": "AVX2", "xla": "host"}  # fmt: skip
    meta = [{"path": "run.json", "machine": "testbox", "commit": "0123456", "datetime": "now",
             "machine_info": document["machine_info"], "commit_info": {}}]  # fmt: skip
    rows = read_accuracy(RESULTS / "accuracy.csv")
    rows = rows[rows["family"].eq("sin") & rows["backend"].isin(["numpy", "torch"])]
    accuracy = rows.assign(simd=rows["backend"].map({"numpy": "numpy: X", "torch": "torch: AVX2"}))
    raw, _ = timing.load_benchmarks([write_json(tmp_path / "run.json", document)])
    text = render_report(timing.timing_table(raw), accuracy, meta, [])
    assert "SIMD numpy baseline X86_V2; dispatched X86_V3, torch AVX2, xla host" in text
    assert "- `accuracy.csv`: computed at SIMD numpy: X; torch: AVX2" in text


def test_report_without_levels_is_unchanged():
    """Results recorded before the levels were (the committed ones) render as before."""
    from bench.report.markdown import _accuracy_simd_lines, _simd_phrase

    assert _simd_phrase(None) == "" and _simd_phrase({}) == ""
    assert _accuracy_simd_lines(pd.DataFrame({"backend": ["numpy"]})) == []


def _run(tmp_path, name, levels, seed):
    document = sin_run(seed=seed)
    if levels is not None:
        document["machine_info"]["bench_simd"] = levels
    return write_json(tmp_path / name, document)


def test_compare_says_when_the_two_runs_simd_levels_differ(tmp_path, capsys):
    avx2 = {"numpy": "baseline X86_V2; dispatched X86_V3", "torch": "AVX2", "xla": "host"}
    avx512 = avx2 | {"numpy": "baseline X86_V2; dispatched X86_V3 X86_V4", "torch": "AVX512"}
    old, new = _run(tmp_path, "old.json", avx2, 1), _run(tmp_path, "new.json", avx512, 2)
    cli.main(["compare", str(old), str(new), "--results", str(tmp_path / "results")])
    out = "".join(capsys.readouterr())  # notes go to stderr, beside the other run notes
    assert "SIMD levels differ" in out and "torch 'AVX2' vs 'AVX512'" in out
    assert "X86_V4" in out and "xla" not in out.split("SIMD levels differ")[1].split("\n")[0]
    report = (tmp_path / "results" / "runs" / "compare.md").read_text()
    assert "SIMD levels differ" in report


def test_compare_of_runs_at_the_same_level_says_nothing_of_it(tmp_path, capsys):
    levels = {"numpy": "baseline X86_V2; dispatched X86_V3", "xla": "host"}
    old, new = _run(tmp_path, "old.json", levels, 1), _run(tmp_path, "new.json", levels, 2)
    cli.main(["compare", str(old), str(new), "--results", str(tmp_path / "results")])
    assert "SIMD" not in "".join(capsys.readouterr())


def test_compare_with_a_run_that_does_not_record_levels_says_so(tmp_path, capsys):
    old = _run(tmp_path, "old.json", None, 1)
    new = _run(tmp_path, "new.json", {"numpy": "x", "xla": "host"}, 2)
    cli.main(["compare", str(old), str(new), "--results", str(tmp_path / "results")])
    assert "does not say its SIMD levels" in "".join(capsys.readouterr())
