"""Fingerprint-cached accuracy rows: a sweep keeps every saved row whose fingerprint holds,
recomputes exactly the rows whose code, version, SIMD level or case changed, and a fresh
clone of the same code reuses them all."""

from __future__ import annotations

import dataclasses
import shutil

import pytest

from bench import cli
from bench.backends import BACKENDS
from bench.machine import simd
from bench.workloads.profiles import PROFILES
from validation import accuracy, accuracy_cache
from validation import fingerprints as fp
from validation.accuracy import read_accuracy, run_accuracy
from validation.vocabulary import EXACT, NOT_ENGINES, SKIPPED

GRID = {"families": ["sin"], "depths": [1, 10], "dtypes": ["float64"]}
BACKENDS_RUN = ["dezero", "numpy", "autograd"]
CASES = ["sin-d1-w1", "sin-d10-w1", "sin-d1-w16", "sin-d10-w16"]  # GRID in the ci profile
TIMING = ["seconds"]  # the one column a recomputation does not reproduce


@pytest.fixture(autouse=True)
def fresh_digests():
    """Each test hashes its own tree and platform (the digests are cached per process)."""
    caches = (fp.source_files, fp.code_digest, fp.platform_digest)
    for cached in caches:
        cached.cache_clear()
    yield
    for cached in caches:
        cached.cache_clear()


@pytest.fixture(scope="module")
def first():
    """A small sweep measured from nothing: the saved table the tests start from."""
    df = run_accuracy("ci", BACKENDS_RUN, **GRID)
    assert df.attrs == {"reused": 0, "computed": len(df)}
    return df


def _spy_measure(monkeypatch) -> list[tuple[str, list[str]]]:
    calls = []
    real = accuracy.measure

    def spy(case, backends, profile):
        calls.append((f"{case.family}-d{case.depth}-w{case.width}", list(backends)))
        return real(case, backends, profile)

    monkeypatch.setattr(accuracy, "measure", spy)
    return calls


def _copy_project(dest):
    """The project's packages as a fresh clone has them: the same files, another folder."""
    for package in fp.PROJECT_PACKAGES:
        shutil.copytree(fp.ROOT / package, dest / package,
                        ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    return dest


def test_an_unchanged_sweep_measures_nothing_and_keeps_every_row(first, monkeypatch):
    calls = _spy_measure(monkeypatch)
    again = run_accuracy("ci", BACKENDS_RUN, saved=first, **GRID)
    assert calls == []
    assert again.attrs == {"reused": len(first), "computed": 0}
    assert again.equals(first)


def test_recomputed_rows_equal_the_saved_ones_except_their_timing(first):
    again = run_accuracy("ci", BACKENDS_RUN, **GRID)
    assert again.attrs["computed"] == len(first)
    assert again.drop(columns=TIMING).equals(first.drop(columns=TIMING))


def test_every_row_carries_the_fingerprint_of_its_unit(first):
    assert first["fingerprint"].str.fullmatch(r"[0-9a-f]{16}").all()
    per_unit = first.groupby(["depth", "width", "backend", "against"])["fingerprint"].nunique()
    assert (per_unit == 1).all()
    # a case's backends and pairs differ from each other, and from the other depth's
    one_case = first[first["depth"].eq(1) & first["width"].eq(1)]
    one_case = one_case.drop_duplicates(["backend", "against"])
    # the two finite-difference estimates are made together, from one fingerprint
    assert one_case["fingerprint"].nunique() == len(one_case) - 1
    assert set(first.loc[first["depth"] == 1, "fingerprint"]).isdisjoint(
        first.loc[first["depth"] == 10, "fingerprint"]
    )


def test_a_changed_engine_file_recomputes_only_that_engines_rows(first, tmp_path, monkeypatch):
    clone = _copy_project(tmp_path / "clone")
    with open(clone / "dezero" / "core.py", "a") as source:
        source.write("\n# an edit to the engine\n")
    monkeypatch.setattr(fp, "ROOT", clone)
    calls = _spy_measure(monkeypatch)
    again = run_accuracy("ci", BACKENDS_RUN, saved=first, **GRID)
    on_dezero = (
        again["backend"].isin(["dezero", *NOT_ENGINES]) | (again["against"] == "dezero")
    ).to_numpy()
    changed = (again["fingerprint"] != first["fingerprint"]).to_numpy()
    assert (changed == on_dezero).all() and on_dezero.any() and not on_dezero.all()
    assert again.attrs == {"reused": int((~on_dezero).sum()), "computed": int(on_dezero.sum())}
    # the partners run for the pairs' gradients, but their own rows are the saved ones
    assert calls == [(case, BACKENDS_RUN) for case in CASES]
    kept = again[~on_dezero]
    assert kept["seconds"].equals(first.loc[~on_dezero, "seconds"])
    assert again.drop(columns=[*TIMING, "fingerprint"]).equals(
        first.drop(columns=[*TIMING, "fingerprint"])
    )


def test_an_engine_change_leaves_the_other_engines_code_digest_alone(tmp_path, monkeypatch):
    clone = _copy_project(tmp_path / "clone")
    modules = {name: type(backend).__module__ for name, backend in BACKENDS.items()}

    def digests():
        fp.code_digest.cache_clear()
        fp.source_files.cache_clear()
        return {name: fp.code_digest(module) for name, module in modules.items()}

    monkeypatch.setattr(fp, "ROOT", clone)
    before = digests()
    (clone / "dezero" / "functions_reduce.py").write_text("# rewritten\n")
    after = digests()
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"dezero", "dezero_replay"}
    (clone / "bench" / "backends" / "jax_common.py").write_text("# rewritten\n")
    changed = {name for name in after if after[name] != digests()[name]}
    assert changed == {"jax", "jax_jit", "jax_scan"}


def test_a_clone_elsewhere_with_other_mtimes_has_the_same_fingerprints(first, tmp_path,
                                                                       monkeypatch):  # fmt: skip
    clone = _copy_project(tmp_path / "somewhere" / "else")
    for path in clone.rglob("*.py"):
        path.touch()
    monkeypatch.setattr(fp, "ROOT", clone)
    calls = _spy_measure(monkeypatch)
    again = run_accuracy("ci", BACKENDS_RUN, saved=first, **GRID)
    assert calls == [] and again.equals(first)


def test_a_new_backend_version_recomputes_its_rows_and_pairs(first, monkeypatch):
    real = BACKENDS["autograd"].version
    monkeypatch.setattr(BACKENDS["autograd"], "version", lambda: real() + "+patched")
    again = run_accuracy("ci", BACKENDS_RUN, saved=first, **GRID)
    touched = (again["backend"] == "autograd") | (again["against"] == "autograd")
    assert again.attrs["computed"] == touched.sum() > 0
    assert (again.loc[~touched, "fingerprint"] == first.loc[~touched, "fingerprint"]).all()
    assert (again.loc[touched, "fingerprint"] != first.loc[touched, "fingerprint"]).all()


def test_another_simd_level_recomputes_every_row_it_can_round(first, monkeypatch):
    monkeypatch.setattr(simd, "numpy_level", lambda: "baseline X86_V2; dispatched none")
    calls = _spy_measure(monkeypatch)
    again = run_accuracy("ci", BACKENDS_RUN, saved=first, **GRID)
    assert again.attrs == {"reused": 0, "computed": len(first)}
    assert len(calls) == len(CASES)
    assert not (again["fingerprint"] == first["fingerprint"]).any()


def test_a_saved_row_with_another_fingerprint_is_measured_again(first, monkeypatch):
    tampered = first.copy()
    one = (tampered["backend"] == "numpy") & (tampered["against"] == EXACT)
    one &= tampered["depth"].eq(10) & tampered["width"].eq(1)
    tampered.loc[one, ["max_abs_ulp", "fingerprint"]] = [1e9, "0" * 16]
    calls = _spy_measure(monkeypatch)
    again = run_accuracy("ci", BACKENDS_RUN, saved=tampered, **GRID)
    assert calls == [("sin-d10-w1", BACKENDS_RUN)]  # numpy's pairs need every partner
    assert again.drop(columns=TIMING).equals(first.drop(columns=TIMING))
    pairs = (again["backend"] == "numpy") | (again["against"] == "numpy")
    assert again.attrs["computed"] == (pairs & again["depth"].eq(10) & again["width"].eq(1)).sum()


def test_a_skipped_backend_has_no_pairs_and_stays_reused(monkeypatch):
    ci = PROFILES["ci"]
    profile = dataclasses.replace(
        ci, accuracy=dataclasses.replace(ci.accuracy, max_depth={"numpy": 1})
    )
    df = run_accuracy(profile, ["dezero", "numpy"], **GRID)
    numpy_d10 = df[(df["backend"] == "numpy") & (df["depth"] == 10)]
    assert list(numpy_d10["flag"]) == [SKIPPED, SKIPPED]  # widths 1 and 16
    assert not ((df["depth"] == 10) & (df["against"] == "numpy")).any()
    calls = _spy_measure(monkeypatch)
    again = run_accuracy(profile, ["dezero", "numpy"], saved=df, **GRID)
    assert calls == [] and again.equals(df)


def test_a_missing_pair_is_measured_when_both_backends_computed(first, monkeypatch):
    pair = first["backend"].eq("dezero") & first["against"].eq("numpy")
    pair &= first["depth"].eq(1) & first["width"].eq(1)
    calls = _spy_measure(monkeypatch)
    again = run_accuracy("ci", BACKENDS_RUN, saved=first[~pair], **GRID)
    assert calls == [("sin-d1-w1", ["dezero", "numpy"])]
    assert again.attrs["computed"] == pair.sum()
    assert again.drop(columns=TIMING).equals(first.drop(columns=TIMING))


def test_the_cli_reuses_rows_rewrites_the_csv_byte_for_byte_and_recompute_forces_all(
    tmp_path, capsys, monkeypatch
):
    argv = ["accuracy", "--profile", "ci", "--families", "sin", "--depths", "1", "--dtypes",
            "float64", "--backends", "dezero", "numpy", "--results", str(tmp_path),
            "--publish"]  # fmt: skip
    assert cli.main(argv) == 0
    csv = tmp_path / "accuracy.csv"
    written, measured = csv.read_bytes(), read_accuracy(csv)
    rows = len(measured)
    assert f"0 rows reused (fingerprint unchanged), {rows} computed" in capsys.readouterr().out
    calls = _spy_measure(monkeypatch)
    assert cli.main(argv) == 0
    assert f"{rows} rows reused (fingerprint unchanged), 0 computed" in capsys.readouterr().out
    assert calls == [] and csv.read_bytes() == written
    assert cli.main([*argv, "--recompute"]) == 0
    assert f"0 rows reused (fingerprint unchanged), {rows} computed" in capsys.readouterr().out
    assert len(calls) == 2  # widths 1 and 16
    assert read_accuracy(csv).drop(columns=TIMING).equals(measured.drop(columns=TIMING))


def _files(module) -> set[str]:
    return {path.relative_to(fp.ROOT).as_posix() for path in fp.source_files(module)}


def test_the_fingerprinted_code_is_found_from_the_imports():
    files = _files("bench.backends.numpy_tape")
    assert "bench/backends/numpy_tape.py" in files and "bench/workloads/ops.py" in files
    assert not any(f.startswith("dezero/") for f in files)
    assert "bench/backends/__init__.py" not in files  # the registry is not the engine
    dezero = _files("bench.backends.dezero_eager")
    assert {"dezero/core.py", "dezero/sweep.py", "dezero/functions_reduce.py"} <= dezero
    with pytest.raises(ValueError, match="no project source for"):
        fp.source_files("numpy")


def test_unit_fingerprints_name_every_case_key():
    case = accuracy_cache.AccuracyCase("sin", 10, 1, "float64")
    grid = PROFILES["ci"].accuracy
    parts = {"dezero": "a", "numpy": "b"}
    base = accuracy_cache.expected_units(case, ["dezero", "numpy"], grid, 0, parts)
    assert list(base) == [("dezero", EXACT), ("numpy", EXACT), ("dezero", "numpy"),
                          ("numerical_diff", EXACT), ("numerical_diff_best", EXACT)]  # fmt: skip
    for other in (dataclasses.replace(case, depth=100), dataclasses.replace(case, dtype="float32"),
                  dataclasses.replace(case, width=2)):  # fmt: skip
        changed = accuracy_cache.expected_units(other, ["dezero", "numpy"], grid, 0, parts)
        assert set(changed.values()).isdisjoint(base.values())
    seeded = accuracy_cache.expected_units(case, ["dezero", "numpy"], grid, 1, parts)
    assert set(seeded.values()).isdisjoint(base.values())


def test_run_with_an_unreadable_saved_table_stops_before_benchmarking(tmp_path, monkeypatch,
                                                                      capsys):  # fmt: skip
    from bench.timing import run_suite

    monkeypatch.setattr(run_suite, "run_benchmarks",
                        lambda *a, **k: pytest.fail("benchmarked before checking"))  # fmt: skip
    folder = tmp_path / "runs" / "quick-dezero-sin"
    folder.mkdir(parents=True)
    (folder / "accuracy.csv").write_text("backend,depth\ndezero,deep\n")
    argv = ["run", "--quick", "--backends", "dezero", "--families", "sin", "--quiet",
            "--no-readme", "--results", str(tmp_path)]  # fmt: skip
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "accuracy.csv" in err and len(err.splitlines()) == 1
    assert (folder / "accuracy.csv").read_text() == "backend,depth\ndezero,deep\n"
    assert sorted(p.name for p in folder.iterdir()) == ["accuracy.csv"]


def test_rows_a_worker_measured_at_another_simd_level_are_not_fingerprinted(monkeypatch):
    real = accuracy.measure

    def elsewhere(case, backends, profile):  # as a Dask worker on another CPU would
        rows = real(case, backends, profile)
        for row in rows:
            if row["backend"] == "numpy":
                row["simd"] = "numpy: baseline SSE; dispatched none"
        return rows

    monkeypatch.setattr(accuracy, "measure", elsewhere)
    grid = {**GRID, "depths": [1]}
    df = run_accuracy("ci", ["dezero", "numpy"], **grid)
    on_numpy = (df["backend"] == "numpy").to_numpy()
    assert on_numpy.any() and df.loc[on_numpy, "fingerprint"].isna().all()
    assert df.loc[~on_numpy, "fingerprint"].notna().all()
    calls = _spy_measure(monkeypatch)
    again = run_accuracy("ci", ["dezero", "numpy"], saved=df, **grid)
    assert [backends for _, backends in calls] == [["dezero", "numpy"]] * 2  # widths 1, 16
    assert again.attrs["computed"] == (again["backend"].eq("numpy") | again["against"].eq(
        "numpy")).sum()  # fmt: skip
