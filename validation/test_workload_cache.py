"""Fingerprint-cached workload accuracy: an unchanged run measures nothing and rewrites
workloads.csv byte for byte, an edited evaluation recomputes only its rows, a new backend
version only that backend's, and --recompute every row."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from bench import cli
from bench.backends import BACKENDS
from bench.backends.workload_engines import BUILT_IN
from bench.cli import workloads_run
from bench.report import plots
from bench.timing.workload_suite import workload_cases
from bench.timing.workload_tables import read_workloads
from validation import fingerprints as fp
from validation import workload_cache
from validation.workload_cache import FINGERPRINT, evaluation_module, expected_cases

EVALS, BACKENDS_RUN = ["lse", "hello", "ba"], ["dezero", "autograd"]
ALL = {(e, b) for e in EVALS for b in BACKENDS_RUN}


@pytest.fixture(autouse=True)
def fresh_digests():
    """Each test hashes its own tree and platform (the digests are cached per process)."""
    caches = (fp.source_files, fp.code_digest, fp.platform_digest)
    for cached in caches:
        cached.cache_clear()
    yield
    for cached in caches:
        cached.cache_clear()


@pytest.fixture
def timing() -> dict:
    """Whether the fake timing gives each run other times (by default every run the same)."""
    return {"vary": False}


@pytest.fixture
def measured(monkeypatch, timing) -> list[set[tuple[str, str]]]:
    """Timing replaced by a fixed fake (timing is not what is cached) and the plots by a
    placeholder; records the (evaluation, backend) pairs each run measures for accuracy."""
    calls = []

    def time_workloads(grid, evals, backends, quiet):
        cases = workload_cases(grid, evals, backends)
        rows = [(c.evaluation, c.label, c.backend, "passed", None) for c in cases]
        columns = ["evaluation", "size", "backend", "status", "reason"]
        seconds = 0.001 * len(calls) if timing["vary"] else 0.001
        return pd.DataFrame(rows, columns=columns).assign(size_index=0), _document(
            [row[:3] for row in rows], seconds
        )

    real = workloads_run.measure_cases

    def spy(cases, *args):
        calls[-1] |= {(c.name, c.backend) for c in cases}
        return real(cases, *args)

    monkeypatch.setattr(workloads_run, "time_workloads", time_workloads)
    monkeypatch.setattr(workloads_run, "measure_cases", spy)
    monkeypatch.setattr(plots, "write_plots", lambda *a, **k: [])
    return calls


def _document(keys, seconds) -> dict:
    """A pytest-benchmark document timing every (evaluation, size, backend) of `keys`."""
    benchmarks = [
        {"stats": {"median": seconds, "iqr": 0.0, "min": seconds, "rounds": 3},
         "extra_info": {"workload": True, "evaluation": e, "size": s, "backend": b}}
        for e, s, b in keys
    ]  # fmt: skip
    return {"datetime": "2026-01-01T00:00:00", "benchmarks": benchmarks}


def _run(results, calls, *extra) -> bytes:
    """One `bench workloads` run at the quick sizes; the CSV it leaves."""
    calls.append(set())
    argv = ["workloads", "--sizes", "quick", "--evals", *EVALS, "--backends", *BACKENDS_RUN,
            "--results", str(results), "--no-readme", *extra]  # fmt: skip
    assert cli.main(argv) == 0
    return _csv_path(results).read_bytes()


def _csv_path(results):
    (path,) = results.rglob("workloads.csv")  # a filtered run: its own folder under runs/
    return path


def _clone(dest, monkeypatch):
    """The project's packages copied elsewhere, and the fingerprints reading that copy."""
    for package in fp.PROJECT_PACKAGES:
        shutil.copytree(fp.ROOT / package, dest / package,
                        ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    monkeypatch.setattr(fp, "ROOT", dest)
    return dest


def test_an_unchanged_run_measures_nothing_and_rewrites_the_csv_byte_for_byte(
    tmp_path, measured, capsys
):
    first = _run(tmp_path, measured)
    assert measured[0] == ALL
    assert "workload accuracy: 0 rows reused (fingerprint unchanged), 6 computed" in (
        capsys.readouterr().out
    )
    table = read_workloads(_csv_path(tmp_path))
    assert table[FINGERPRINT].notna().all() and table[FINGERPRINT].nunique() == 6
    assert (table["accuracy_status"] == "ok").all()
    assert _run(tmp_path, measured) == first
    assert measured[1] == set()
    assert "6 rows reused (fingerprint unchanged), 0 computed" in capsys.readouterr().out


def test_timing_is_measured_again_while_the_accuracy_columns_are_kept(tmp_path, measured, timing):
    timing["vary"] = True
    _run(tmp_path, measured)
    first = read_workloads(_csv_path(tmp_path))
    _run(tmp_path, measured)
    second = read_workloads(_csv_path(tmp_path))
    assert measured[1] == set()
    assert (second["median_s"] == 2 * first["median_s"]).all()
    accuracy = ["accuracy_status", "max_rel_error", "excess", "gradbench_error", FINGERPRINT]
    pd.testing.assert_frame_equal(second[accuracy], first[accuracy])


def test_recompute_measures_every_row_and_gives_the_same_table(tmp_path, measured, capsys):
    first = _run(tmp_path, measured)
    capsys.readouterr()
    assert _run(tmp_path, measured, "--recompute") == first
    assert measured[1] == ALL
    assert "0 rows reused (fingerprint unchanged), 6 computed" in capsys.readouterr().out


def test_a_changed_evaluation_file_recomputes_only_that_evaluations_rows(
    tmp_path, measured, monkeypatch
):
    results = tmp_path / "results"
    first = _run(results, measured)
    clone = _clone(tmp_path / "clone", monkeypatch)
    fp.source_files.cache_clear()
    assert _run(results, measured) == first  # another folder, the same files: all reused
    assert measured[1] == set()
    with (clone / "bench" / "workloads" / "gradbench" / "ba.py").open("a") as edited:
        edited.write("\n# an edit\n")
    fp.source_files.cache_clear()
    _run(results, measured)
    assert measured[2] == {("ba", b) for b in BACKENDS_RUN}


def test_a_change_to_the_shared_evaluation_code_or_reference_recomputes_every_row(
    tmp_path, measured, monkeypatch
):
    results = tmp_path / "results"
    _run(results, measured)
    clone = _clone(tmp_path / "clone", monkeypatch)
    for i, edited in enumerate(
        ["bench/workloads/gradbench/workload.py", "validation/reference/workload_rules.py"]
    ):
        with (clone / edited).open("a") as file:
            file.write("\n# an edit\n")
        fp.source_files.cache_clear()
        _run(results, measured)
        assert measured[1 + i] == ALL, edited


def test_a_new_backend_version_recomputes_only_that_backends_rows(tmp_path, measured, monkeypatch):
    _run(tmp_path, measured)
    real = BACKENDS["autograd"].version
    monkeypatch.setattr(BACKENDS["autograd"], "version", lambda: real() + "+patched")
    _run(tmp_path, measured)
    assert measured[1] == {(e, "autograd") for e in EVALS}


def test_a_timing_only_run_keeps_the_fingerprints_for_the_next_run(tmp_path, measured):
    _run(tmp_path, measured)
    first = read_workloads(_csv_path(tmp_path))
    _run(tmp_path, measured, "--skip-accuracy")
    assert measured[1] == set()
    kept = read_workloads(_csv_path(tmp_path))
    pd.testing.assert_series_equal(kept[FINGERPRINT], first[FINGERPRINT])
    _run(tmp_path, measured)
    assert measured[2] == set()


def test_an_errored_row_has_no_fingerprint_so_it_is_measured_again(monkeypatch):
    def crash(name, size, backend, dtype):
        return {"eval": name, "size": "n=50", "backend": backend, "dtype": "float64",
                "status": "error", "reason": "MemoryError: out of memory"}  # fmt: skip

    monkeypatch.setattr(workload_cache, "measure_case", crash)
    df = workload_cache.measure_cases(expected_cases(["lse", "hello"], ["dezero"], "quick"))
    assert df["status"].tolist() == ["error", "error"] and df[FINGERPRINT].isna().all()
    saved = dict.fromkeys([("lse", "n=50", "dezero")], None)
    assert len(workload_cache.stale(expected_cases(["lse"], ["dezero"], "quick"), saved)) == 1


def test_each_evaluation_is_fingerprinted_with_its_own_module():
    assert evaluation_module("gmm") == "bench.workloads.gradbench.gmm"
    assert evaluation_module("saddle") == evaluation_module("particle")
    assert evaluation_module("saddle") == "bench.workloads.gradbench.nested"
    prints = {c.key: c.fingerprint for c in expected_cases(EVALS, BACKENDS_RUN, "quick")}
    assert len(set(prints.values())) == len(prints) == 6


def test_unknown_names_are_refused_by_name():
    with pytest.raises(ValueError, match="'nope'"):
        expected_cases(["nope"], ["dezero"], "quick")


def test_run_passes_recompute_to_the_workloads(tmp_path, monkeypatch):
    from bench.cli import run
    from bench.timing import run_suite
    from bench.timing.testing_runs import sin_run, write_json

    def benchmarks(args, json_path, log_path):
        write_json(json_path, sin_run())
        return 0, []

    asked = []
    monkeypatch.setattr(run_suite, "run_benchmarks", benchmarks)
    monkeypatch.setattr(run, "run_accuracy_sweep", lambda *a, **k: None)
    monkeypatch.setattr(run, "run_workloads", lambda *a: asked.append(a[-1]) or 0)
    monkeypatch.setattr(run, "build_tables", lambda *a, **k: None)
    base = ["run", "--quick", "--quiet", "--results", str(tmp_path), "--no-readme"]
    assert cli.main(base) == 0 and cli.main([*base, "--recompute"]) == 0
    assert asked == [False, True]


def _engine_digests() -> dict[str, str]:
    """The shared part, and each built-in engine's namespace part, hashed afresh."""
    fp.source_files.cache_clear()
    fp.code_digest.cache_clear()
    parts = {name: workload_cache.namespace_part(name) for name in BUILT_IN}
    return {"shared": workload_cache.shared_part(), **parts}


def test_editing_one_engines_namespace_or_adding_an_engine_keeps_every_other_engines_part(
    tmp_path, monkeypatch
):
    clone = _clone(tmp_path / "clone", monkeypatch)
    before = _engine_digests()
    with (clone / "bench" / "backends" / "workload_paddle.py").open("a") as edited:
        edited.write("\n# an edit to paddle's namespace\n")
    edited_paddle = _engine_digests()
    changed = {part for part in before if before[part] != edited_paddle[part]}
    assert changed == {"paddle"}
    # a new engine: its namespace module, and its line in the built-in table
    (clone / "bench" / "backends" / "workload_caffe.py").write_text(
        "from bench.backends.workload_ops import WorkloadOps\n\n\nclass CaffeOps(WorkloadOps):\n"
        "    pass\n"
    )
    table = clone / "bench" / "backends" / "workload_engines.py"
    text = table.read_text()
    entry = '    "caffe": "bench.backends.workload_caffe:CaffeOps",\n'
    table.write_text(text.replace("BUILT_IN = {\n", "BUILT_IN = {\n" + entry))
    assert _engine_digests() == edited_paddle
    # what every row runs is shared: an edit there re-keys every engine's rows
    with (clone / "bench" / "backends" / "workload_ops.py").open("a") as edited:
        edited.write("\n# an edit to what every namespace shares\n")
    assert _engine_digests()["shared"] != edited_paddle["shared"]


def test_an_engine_rows_fingerprints_change_with_its_own_namespace_only(tmp_path, monkeypatch):
    clone = _clone(tmp_path / "clone", monkeypatch)
    before = {c.key: c.fingerprint for c in expected_cases(["lse"], BACKENDS_RUN, "quick")}
    with (clone / "bench" / "backends" / "workload_autograd.py").open("a") as edited:
        edited.write("\n# an edit to autograd's namespace\n")
    fp.source_files.cache_clear()
    fp.code_digest.cache_clear()
    after = {c.key: c.fingerprint for c in expected_cases(["lse"], BACKENDS_RUN, "quick")}
    assert {key[2] for key in before if before[key] != after[key]} == {"autograd"}
