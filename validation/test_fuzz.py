"""The fuzzer: dezero agrees with the exact reference on random programs, a planted wrong
derivative is found, blamed on dezero and shrunk, the reference itself is right, and the
Dask path gives the in-process result."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hypothesis_seed

import dezero.functions as F
from bench.cli import main
from bench.report.fuzz_files import load
from dezero import array_ops
from validation.fuzz.checker import CI_PROGRAMS, CI_SEED, FAIL, check, ci_fuzz_messages, run_fuzz
from validation.fuzz.programs import OP_NAMES, dumps, input_arrays, programs
from validation.fuzz.reference import reference, tape_value_and_grads


def _sample_programs(n, seed=0):
    drawn = []

    @hypothesis_seed(seed)
    @settings(max_examples=n, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(programs())
    def collect(program):
        drawn.append(program)

    collect()
    return drawn


def test_dezero_agrees_with_the_exact_reference_on_ci_fuzz():
    rows, findings = run_fuzz(CI_SEED, CI_PROGRAMS, ["dezero"])
    assert findings == [], [(f.backend, f.failure, f.ops) for f in findings]
    assert rows[["chunk", "program"]].drop_duplicates().shape[0] == CI_PROGRAMS
    assert (rows["status"] == "ok").all()
    assert {"hvp0", "grad0", "value"} <= set(rows["quantity"])
    covered = {op for ops in rows["ops"] for op in ops.split(",")}
    assert len(covered) >= 16, f"only {sorted(covered)} of {OP_NAMES} covered"
    checked = rows.dropna(subset=["norm_ulp"])
    assert (checked["norm_ulp"] <= checked["tolerance_ulp"]).all()


def test_a_wrong_sin_derivative_is_found_blamed_on_dezero_and_shrunk(monkeypatch):
    exact_vjp = F.Sin.vjp
    # one part in a million: far below any fuzzer's atol/rtol, 4.5e9 ULP of float64
    monkeypatch.setattr(
        F.Sin, "vjp", lambda self, m, gy, x, y: exact_vjp(self, m, gy, x, y) * (1 + 1e-6)
    )
    rows, findings = run_fuzz(CI_SEED, CI_PROGRAMS, ["dezero", "numpy"])
    assert {f.backend for f in findings} == {"dezero"}
    assert {f.failure for f in findings} <= {"ulp", "hvp"}
    finding = next(f for f in findings if f.failure == "ulp")
    assert "sin" in finding.ops and len(finding.ops) <= 2, finding.ops
    assert all(r["norm_ulp"] > r["tolerance_ulp"] for r in finding.rows if r["status"] == FAIL)
    # the shrunk program is a self-contained reproducer
    again = check(json.loads(dumps(finding.program)), ["dezero"])
    assert any(r["status"] == FAIL for r in again)


def test_a_wrong_broadcast_adjoint_is_found_and_shrunk_to_one_binary_op(monkeypatch):
    exact_sum_to = array_ops.sum_to

    def mean_to(gx, shape):  # averages the broadcast copies' gradients instead of summing
        return exact_sum_to(gx, shape) * (np.prod(shape) / np.size(gx))

    monkeypatch.setattr(array_ops, "sum_to", mean_to)
    _, findings = run_fuzz(CI_SEED, CI_PROGRAMS, ["dezero"])
    finding = next(f for f in findings if f.failure == "ulp")
    assert len(finding.ops) == 1 and finding.ops[0] in ("add", "sub", "mul", "div"), finding.ops
    shapes = [n["shape"] for n in finding.program["nodes"] if n["op"] == "input"]
    assert len({tuple(s) for s in shapes}) == 2, f"no broadcasting in {shapes}"


def test_ci_fuzz_messages_name_a_dezero_failure(monkeypatch):
    exact_vjp = F.Log.vjp
    monkeypatch.setattr(F.Log, "vjp", lambda self, m, gy, x, y: exact_vjp(self, m, gy, x, y) * 0.5)
    messages = ci_fuzz_messages()
    assert messages and all(m.startswith("fuzz: dezero ") for m in messages)
    assert any("ulp on log " in m for m in messages), messages


def test_a_crashing_backend_is_a_finding(monkeypatch):
    def broken(self, m, gy, x, y):
        raise RuntimeError("planted crash in Tanh.vjp")

    monkeypatch.setattr(F.Tanh, "vjp", broken)
    _, findings = run_fuzz(CI_SEED, CI_PROGRAMS, ["dezero"])
    crash = next(f for f in findings if f.failure == "raises")
    assert crash.ops == ["tanh"]
    assert "planted crash" in crash.rows[0]["note"]


def _ordinary(program) -> bool:
    """Inputs away from the domain edges (near 0, the 1,400 spread, an input's one-ULP
    twin), where a central difference with a fixed step is accurate; the edges' rules are
    checked by the complex step in validation/test_fuzz_numpy_api.py."""
    arrays = input_arrays(program)
    values = np.abs(np.concatenate([np.ravel(a) for a in arrays]))
    twins = any(
        a.shape == b.shape and np.min(np.abs(a - b), initial=1.0) < 1e-6
        for i, a in enumerate(arrays) for b in arrays[:i]
    )  # fmt: skip
    return values.min() > 1e-3 and values.max() < 100 and not twins


ORDINARY = [p for p in _sample_programs(60, seed=3) if _ordinary(p)][:30]


@pytest.mark.parametrize("program", ORDINARY, ids=lambda p: f"{len(p['nodes'])}nodes")
def test_reference_gradients_and_hvp_match_central_differences(program):
    arrays = input_arrays(program, np.longdouble)
    rng = np.random.default_rng(1)
    direction = [rng.standard_normal(a.shape) for a in arrays]
    ref = reference(program, direction)
    h = np.longdouble(1e-7)
    # central differences along the direction: d/dt f(x + t v) = grad . v, and likewise H v
    plus = [a + h * v for a, v in zip(arrays, direction)]
    minus = [a - h * v for a, v in zip(arrays, direction)]
    (f_plus, g_plus), (f_minus, g_minus) = (tape_value_and_grads(program, p) for p in (plus, minus))
    slope = sum(np.sum(g * v) for g, v in zip(ref["grads"], direction))
    scale = 1 + abs(slope) + abs(ref["value"])
    assert abs((f_plus - f_minus) / (2 * h) - slope) <= 1e-8 * scale
    for hv, gp, gm in zip(ref["hvp"], g_plus, g_minus):
        fd = (gp - gm) / (2 * h)
        assert np.max(np.abs(fd - hv), initial=0) <= 1e-6 * (1 + np.max(np.abs(hv), initial=0))


def test_programs_round_trip_through_json_and_replay_identically(tmp_path):
    program = max(_sample_programs(20, seed=5), key=lambda p: len(p["nodes"]))
    assert len(program["nodes"]) >= 5
    path = tmp_path / "program.json"
    path.write_text(dumps(program))
    assert load(path) == program
    replayed = pd.DataFrame(check(load(path), ["dezero", "numpy"]))
    assert replayed.equals(pd.DataFrame(check(program, ["dezero", "numpy"])))


def test_load_names_an_unknown_op(tmp_path):
    path = tmp_path / "bad.json"
    source = {"op": "input", "shape": [1], "values": [1.0]}
    path.write_text(json.dumps({"nodes": [source, {"op": "frobnicate", "args": [0]}]}))
    with pytest.raises(ValueError, match="node 1: unknown op 'frobnicate'"):
        load(path)


def test_same_seed_same_run_and_another_seed_differs():
    first, _ = run_fuzz(7, 4, ["dezero"])
    second, _ = run_fuzz(7, 4, ["dezero"])
    other, _ = run_fuzz(8, 4, ["dezero"])
    assert first.equals(second)
    assert not first["ops"].equals(other["ops"])


def test_fuzz_command_writes_findings_and_exits_1_on_a_dezero_failure(
    tmp_path, monkeypatch, capsys
):
    assert main(["fuzz", "--programs", "3", "--backends", "dezero", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "findings.md").read_text().strip() == "No findings."
    exact_vjp = F.Exp.vjp
    monkeypatch.setattr(F.Exp, "vjp", lambda self, m, gy, x, y: exact_vjp(self, m, gy, x, y) * 1.5)
    out = tmp_path / "bug"
    assert main(["fuzz", "--programs", "20", "--backends", "dezero", "--out", str(out)]) == 1
    assert (out / "dezero-ulp" / "program.json").exists()
    repro = out / "dezero-ulp" / "repro.py"
    assert "replay" in repro.read_text()
    done = subprocess.run(
        [sys.executable, str(repro)], capture_output=True, text=True, timeout=120,
        env=os.environ | {"PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )  # fmt: skip
    assert done.returncode == 0 and "dezero" in done.stdout, done.stderr[-2000:]
    code = main(
        ["fuzz", "--backends", "dezero", "--replay", str(out / "dezero-ulp" / "program.json")]
    )
    assert code == 1
    assert "exp" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["fuzz", "--programs", "0"], "argument --programs: must be a positive integer, got '0'"),
        (["fuzz", "--backends", "theano"], "argument --backends: invalid choice: 'theano'"),
        (["fuzz", "--scheduler", "nowhere"], "argument --scheduler: must be 'local' or an address"),
        (["fuzz", "--replay", "/no/such/program.json"], "argument --replay: "),
    ],
)
def test_fuzz_bad_arguments_exit_2_with_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert message in err[-1] and "Traceback" not in "".join(err)


def test_fuzz_reference_does_not_import_what_it_checks():
    import ast
    from pathlib import Path

    tree = ast.parse((Path(__file__).parent / "fuzz" / "reference.py").read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
        alias.name for n in ast.walk(tree) if isinstance(n, ast.Import) for alias in n.names
    }
    checked = ("bench.backends", "dezero", "torch", "jax", "autograd", "validation.fuzz.backends")
    assert not [m for m in imported if m.startswith(checked)], imported
    # the rules come from the op table, whose records also name dezero's op: none of it runs
    from validation.fuzz.reference import RULES

    modules = {getattr(f, "__module__", None) or "numpy" for rule in RULES.values() for f in rule}
    assert not [m for m in modules if m.startswith(checked)], modules


def test_the_fuzzer_reference_runs_the_chain_primitives_own_forward_and_vjp():
    # one description per primitive: the chains' tape and the fuzzer's tape run the same code
    from bench.workloads.ops import OPS as PRIMITIVES
    from validation.fuzz.reference import RULES

    shared = sorted(set(RULES) & set(PRIMITIVES))
    assert len(shared) >= 11, shared
    for name in shared:
        assert RULES[name] == (PRIMITIVES[name].np_forward, PRIMITIVES[name].np_vjp), name


def test_a_program_the_reference_cannot_run_is_a_reference_finding(monkeypatch):
    from validation.fuzz import reference as fuzz_reference

    _, vjp = fuzz_reference.RULES["cos"]

    def refuses(x):
        raise FloatingPointError("planted: the reference cannot run cos")

    monkeypatch.setitem(fuzz_reference.RULES, "cos", (refuses, vjp))
    _, findings = run_fuzz(CI_SEED, CI_PROGRAMS, ["dezero"])
    assert [(f.backend, f.failure, f.ops) for f in findings] == [("reference", "raises", ["cos"])]


def test_a_time_budget_runs_the_first_programs_of_the_seed():
    """`--seconds`: chunks stop starting once the budget is spent; what ran is the prefix of
    the same seed's run, so `--programs` of that count repeats it exactly."""
    budget, _ = run_fuzz(3, 200, ["dezero"], chunk_size=10, seconds=1e-3)
    ran = len(budget[["chunk", "program"]].drop_duplicates())
    assert 0 < ran < 200
    fixed, _ = run_fuzz(3, ran, ["dezero"], chunk_size=10)
    pd.testing.assert_frame_equal(budget, fixed)


@pytest.mark.parametrize("backend", ["dezero", "torch", "jax", "autograd"])
def test_every_backend_namespace_spells_every_op_of_the_op_table(backend):
    """The adapters name the op table's fuzzed ops (`RULES`), no more and no fewer."""
    from validation.fuzz import backends
    from validation.fuzz.reference import RULES

    pytest.importorskip(backend)
    ns = getattr(backends, f"{backend}_ops")()
    assert set(vars(ns)) == set(RULES), set(vars(ns)) ^ set(RULES)
