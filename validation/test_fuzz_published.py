"""The fuzz findings record and its standalone scripts: merging keeps other engines' rows, a
planted finding's script exits 1 and a right program's exits 0, every committed script
reproduces on the version it was found on (or says it is fixed in the installed one)."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from bench.files.atomic_write import write_csv
from validation.fuzz.checker import Finding
from validation.fuzz.published import NONE, at_tie, merge, read_record, records
from validation.fuzz.reference import RULES
from validation.fuzz.spellings import ENGINES, IMPORTS, sources
from validation.fuzz.standalone import script_text

RESULTS = Path(__file__).resolve().parents[1] / "results"
RECORD = RESULTS / "fuzz_findings.csv"
SCRIPTS = sorted((RESULTS / "findings" / "fuzz").glob("*.py"))
SUMMARY = {"programs": 7, "ops_covered": ["sin", "tanh"]}
# the stdlib modules a script may import beside its engine and numpy
STDLIB = {"sys", "shutil", "importlib.metadata"}


def _program(op, shape, values, **attrs):
    node = {"op": op, "args": [0]} | ({"attrs": attrs} if attrs else {})
    return {"version": 1, "nodes": [{"op": "input", "shape": shape, "values": values}, node]}


def _finding(engine, program, quantity="grad0", failure="ulp"):
    """A finding as the checker reports it, planted: no engine has to fail for it."""
    row = {"backend": engine, "quantity": quantity, "status": "fail", "failure": failure}
    row |= {"norm_ulp": 1e9, "floor_ulp": 0.5, "allowance": 2.0**-44}
    return Finding(engine, failure, program, [row], 0)


SIN = _program("sin", [2], [0.25, -1.5])
TANH = _program("tanh", [3], [0.5, -2.0, 3.0])


def _record(engine, findings, seed=1, backends=None):
    versions = {b: "1.0" for b in backends or [engine]}
    return records(findings, backends or [engine], seed, SUMMARY, versions, "python -m bench fuzz")


def test_publishing_one_engine_keeps_every_other_engines_rows():
    old = merge(None, _record("mygrad", [_finding("mygrad", SIN)]))
    old = merge(old, _record("paddle", []))
    new = merge(old, _record("autograd", [_finding("autograd", TANH)], seed=5))
    kept = new[new["engine"] != "autograd"].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, old.reset_index(drop=True))
    assert list(new.loc[new["engine"] == "autograd", "root_cause"]) == ["tanh-grad-wrong"]


def test_a_finding_replaces_its_engines_nothing_found_row_and_its_own_older_row():
    table = merge(None, _record("mygrad", []))
    assert list(table["root_cause"]) == [NONE]
    table = merge(table, _record("mygrad", [_finding("mygrad", SIN)], seed=2))
    table = merge(table, _record("mygrad", [_finding("mygrad", SIN)], seed=3))
    assert list(table["root_cause"]) == ["sin-grad-wrong"] and list(table["seed"]) == [3]
    # a later run that finds nothing keeps the finding: another seed does not fix it
    table = merge(table, _record("mygrad", [], seed=4))
    assert list(table["root_cause"]) == ["sin-grad-wrong"]


def test_record_round_trips_through_its_csv(tmp_path):
    table = _record(
        "tinygrad",
        [_finding("tinygrad", TANH, "hvp0", "nonfinite")],
        backends=["tinygrad", "paddle"],
    )
    write_csv(table, tmp_path / "record.csv")
    pd.testing.assert_frame_equal(read_record(tmp_path / "record.csv"), table)
    row = table[table["engine"] == "tinygrad"].iloc[0]
    assert row["root_cause"] == "tanh-hvp-nonfinite" and json.loads(row["direction"])


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda t: t.drop(columns="exact"), "no column(s) exact"),
        (lambda t: pd.concat([t, t]), "two rows for tinygrad tanh-grad-wrong"),
        (lambda t: t.assign(seed="x"), "seed 'x' is no integer"),
    ],
    ids=["missing-column", "duplicate-key", "bad-seed"],
)
def test_a_bad_record_is_named(tmp_path, edit, problem):
    table = edit(_record("tinygrad", [_finding("tinygrad", TANH)]))
    table.to_csv(tmp_path / "record.csv", index=False)
    with pytest.raises(ValueError, match=re.escape(problem)):
        read_record(tmp_path / "record.csv")


def test_a_tie_is_judged_by_its_gradients_total():
    tie = {"version": 1, "nodes": [{"op": "input", "shape": [], "values": [0.5]},
                                   {"op": "input", "shape": [], "values": [0.5]},
                                   {"op": "maximum", "args": [0, 1]}]}  # fmt: skip
    assert at_tie(tie) and not at_tie(SIN)
    row = _record("mygrad", [_finding("mygrad", tie, "grad1")]).iloc[0]
    exact = json.loads(row["exact"])
    assert list(exact) == ["total"] and float.fromhex(exact["total"]["hex"][0]) == 1.0


@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_spells_every_fuzzed_op(engine):
    assert set(sources(engine)) == set(RULES), set(sources(engine)) ^ set(RULES)


def _run(text, tmp_path):
    path = tmp_path / "script.py"
    path.write_text(text)
    return subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120)


def _planted(row, scale):
    """`row` with every exact value moved by the relative amount `scale`."""
    exact = json.loads(row["exact"])
    for entry in exact.values():
        entry["hex"] = [(float.fromhex(v) * (1 + scale) + scale).hex() for v in entry["hex"]]
    return row | {"exact": json.dumps(exact)}


@pytest.mark.parametrize(
    ("program", "quantity"), [(SIN, "grad0"), (TANH, "hvp0")], ids=["grad", "hvp"]
)
def test_script_exits_0_on_a_right_program_and_1_on_a_planted_error(program, quantity, tmp_path):
    pytest.importorskip("autograd")
    row = _record("autograd", [_finding("autograd", program, quantity)]).iloc[0].to_dict()
    right = _run(script_text(row), tmp_path)
    assert right.returncode == 0 and "fixed in this version" in right.stdout, (
        right.stdout + right.stderr
    )
    # 1e-6 relative: far beyond the fuzzer's tolerance, far below what a print rounds away
    wrong = _run(script_text(_planted(row, 1e-6)), tmp_path)
    assert wrong.returncode == 1 and "finding holds" in wrong.stdout, wrong.stdout + wrong.stderr
    assert f"{quantity} is " in wrong.stdout


def test_script_exits_1_on_a_gradient_of_the_wrong_shape(tmp_path):
    pytest.importorskip("autograd")
    row = _record("autograd", [_finding("autograd", SIN)]).iloc[0].to_dict()
    exact = json.loads(row["exact"])
    exact["grad0"] |= {"shape": [2, 1]}
    done = _run(script_text(row | {"exact": json.dumps(exact)}), tmp_path)
    assert done.returncode == 1 and "grad0 has shape (2,), exact (2, 1)" in done.stdout, done.stdout


def _record_rows():
    table = read_record(RECORD)
    return {f"{r['engine']}-{r['root_cause']}.py": r for r in table.to_dict("records")}


def test_every_published_finding_has_its_committed_script():
    from bench.report.fuzz_section import fuzz_scripts

    written = fuzz_scripts(read_record(RECORD))
    assert written and {Path(p).name for p in written} == {p.name for p in SCRIPTS}
    for path, text in written.items():
        assert (RESULTS / path).read_text() == text, path


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_script_imports_only_its_engine_and_numpy(path):
    engine = path.stem.split("-")[0]
    allowed = {"numpy", *STDLIB} | {
        node.names[0].name if isinstance(node, ast.Import) else node.module
        for node in ast.parse(IMPORTS[engine]).body
    }
    allowed |= {f"{engine}.helpers"}  # tinygrad's Context
    imported = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module)
    assert imported <= allowed, imported - allowed


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_script_reproduces_on_the_version_it_was_found_on(path):
    """Exit 1 on the recorded version; on another installed version exit 0 is reported as
    fixed there (a skip naming the version), exit 1 as still present."""
    row = _record_rows()[path.name]
    module = {"tensorflow": "tensorflow", "paddle": "paddle"}.get(row["engine"], row["engine"])
    pytest.importorskip(module)
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=600)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    first = done.stdout.splitlines()[0].split()
    assert first[0] == row["engine"], done.stdout
    if done.returncode == 0:
        assert "fixed in this version" in done.stdout, done.stdout
        assert first[1] != row["version"], f"no longer reproduces on {row['version']} itself"
        pytest.skip(f"{row['engine']} {first[1]}: fixed in this version ({row['root_cause']})")
    assert "finding holds" in done.stdout, done.stdout
