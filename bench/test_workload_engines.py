"""Every engine's op namespace for GradBench's evaluations: the contract it keeps (float64
included), a run or a reason for every (engine, evaluation) pair, and plugin engines on
`bench workloads --backend-module`.

An engine that is not installed here skips with its reason (tensorflow, paddle and tinygrad
live in the engines' venv); mygrad is installed with the project, so its checks always run.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from bench import cli
from bench.backends import BACKENDS, plugins
from bench.backends.workload_engines import BUILT_IN, DEFAULT_RUN
from bench.backends.workload_ops import WorkloadOps
from bench.backends.workloads import WORKLOAD_BACKENDS, WORKLOADS, unsupported, workload_ops
from bench.cli import workloads_run
from bench.report import plots
from bench.timing.workload_suite import workload_cases
from bench.timing.workload_tables import read_workloads
from validation.workload_accuracy import GRADBENCH_TOLERANCE, OK, UNSUPPORTED, workload_accuracy

# what bench.workloads.gradbench.workload says an evaluation may ask of `ops`
CONTRACT = ("exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "matmul", "reshape", "sum",
            "min", "max", "logsumexp", "concatenate", "stack", "transpose", "const", "value",
            "less", "scan", "value_and_grad", "grad_at", "jacfwd", "inputs", "run")  # fmt: skip
NEW_ENGINES = ("mygrad", "paddle", "tensorflow", "tinygrad")
# jax_jit's namespace is jax's, run under one jit of a whole evaluation (its outputs come back
# through the compiled call): the gate's runs check it, these checks call it op by op
OP_BY_OP = [engine for engine in BUILT_IN if engine != "jax_jit"]


def _installed(engine):
    available, why = BACKENDS[engine].available()
    if not available:
        pytest.skip(why)
    return workload_ops(engine)


def _in_a_run(ops, checks, params):
    """`checks(ops, params, consts)` run as an evaluation is, through the namespace's `run`
    (tinygrad's sets its device there), with params converted by its `inputs`."""
    params, consts = ops.inputs(params, {})
    return ops.run(
        SimpleNamespace(run=checks), params, consts, SimpleNamespace(compile_seconds=None)
    )


def _contract(ops, params, consts):
    (leaf,) = params
    x = ops.value(leaf)
    y, (g,) = ops.value_and_grad(lambda v: ops.sum(ops.exp(v) * v), [leaf])
    np.testing.assert_allclose(ops.value(y), np.sum(np.exp(x) * x), rtol=1e-14)
    np.testing.assert_allclose(ops.value(g), np.exp(x) * (1 + x), rtol=1e-14)
    # float64 throughout: 1e-12 survives an addition to 1 (float32 would round it away)
    tiny = ops.value(ops.const(np.ones(1)) + 1e-12) - 1
    assert ops.value(g).dtype == np.float64 and abs(tiny[0] - 1e-12) < 1e-15, tiny
    m = np.array([[3.0, -1.0, 2.0], [0.5, 4.0, -2.0]])
    cm = ops.const(m)
    checks = {
        "sum": (ops.sum(cm, axis=0), m.sum(axis=0)),
        "min": (ops.min(cm, axis=0), m.min(axis=0)),
        "max": (ops.max(cm), m.max()),
        "logsumexp": (ops.logsumexp(cm, axis=1), np.log(np.exp(m).sum(axis=1))),
        "concatenate": (ops.concatenate([cm, cm], axis=1), np.concatenate([m, m], axis=1)),
        "stack": (ops.stack([cm, cm], axis=2), np.stack([m, m], axis=2)),
        "transpose": (ops.transpose(cm, (1, 0)), m.T),
        "matmul": (ops.matmul(cm, ops.const(x)), m @ x),
        "reshape": (ops.reshape(cm, (3, 2)), m.reshape(3, 2)),
    }
    for name, (got, want) in checks.items():
        np.testing.assert_allclose(ops.value(got), want, rtol=1e-14, err_msg=name)
    assert ops.less(ops.const(np.array(1.0)), 2.0) and not ops.less(3.0, ops.const(np.array(1.0)))


@pytest.mark.parametrize("engine", OP_BY_OP)
def test_namespace_keeps_the_contract_in_float64(engine):
    ops = _installed(engine)
    assert isinstance(ops, WorkloadOps)
    missing = [name for name in CONTRACT if not callable(getattr(ops, name, None))]
    assert not missing, f"{engine} lacks {missing}"
    _in_a_run(ops, _contract, [np.array([0.5, 1.5, 2.0])])


def _jacobian(ops, params, consts):
    (point,) = params
    x = ops.value(point)
    jac = ops.value(ops.jacfwd(lambda v: ops.sin(v) * v[0], point))
    want = np.diag(np.cos(x) * x[0])
    want[:, 0] += np.sin(x)
    np.testing.assert_allclose(jac, want, rtol=1e-14)


def _second_order(ops, params, consts):
    (point,) = params
    _, (h,) = ops.value_and_grad(
        lambda v: ops.grad_at(lambda u: ops.sum(u * u * u), v, True), [point]
    )
    np.testing.assert_allclose(ops.value(h), 6 * ops.value(point), rtol=1e-14)


@pytest.mark.parametrize("engine", OP_BY_OP)
def test_jacobian_and_where_supported_a_gradient_of_a_gradient(engine):
    ops = _installed(engine)
    x = np.array([0.3, -0.7])
    _in_a_run(ops, _jacobian, [x])
    if unsupported(engine, "kmeans") is None:  # kmeans: the gradient of a gradient
        _in_a_run(ops, _second_order, [x])


@pytest.mark.parametrize("engine", [*BUILT_IN, "numpy"])
def test_every_pair_of_engine_and_evaluation_runs_or_says_why(engine):
    for name in WORKLOADS:
        reason = unsupported(engine, name)
        assert reason is None or (isinstance(reason, str) and len(reason) > 20), (engine, name)
    if engine == "numpy":  # a chain-only engine: no namespace, a reason for every evaluation
        assert "no op namespace" in unsupported(engine, "lse")


def test_mygrad_runs_every_evaluation_it_can_express_within_gradbench_tolerance():
    _installed("mygrad")
    df = workload_accuracy(None, ["mygrad"], "quick")
    assert set(df["status"]) <= {OK, UNSUPPORTED}, df[["eval", "status", "reason"]]
    assert df.loc[df["status"] == UNSUPPORTED, "reason"].str.len().min() > 20
    ran = df[df["status"] == OK]
    assert set(ran["eval"]) >= {"gmm", "lstm", "ba", "ht", "det"}
    assert (ran["gradbench_error"] <= GRADBENCH_TOLERANCE).all(), ran
    assert set(df.loc[df["status"] == UNSUPPORTED, "eval"]) == {"kmeans", "saddle", "particle"}


@pytest.mark.parametrize("engine", ["tensorflow", "paddle", "tinygrad"])
def test_an_engine_not_installed_has_a_row_saying_so(engine):
    available, why = BACKENDS[engine].available()
    if available:
        pytest.skip(f"{engine} is installed here")
    df = workload_accuracy(["hello"], [engine], "quick")
    assert df["status"].tolist() == [UNSUPPORTED] and df["reason"].tolist() == [why]


def test_the_default_run_keeps_its_engines_and_the_new_ones_run_when_named():
    assert WORKLOAD_BACKENDS == DEFAULT_RUN
    assert DEFAULT_RUN == ("dezero", "dezero_replay", "torch", "jax", "jax_jit", "autograd")
    assert not set(NEW_ENGINES) & set(WORKLOAD_BACKENDS)
    assert set(NEW_ENGINES) <= set(BUILT_IN) and set(BUILT_IN) <= set(BACKENDS)


PLUGIN = """
from bench.backends.dezero_eager import DezeroEager
from bench.backends.workload_dezero import DezeroOps


class MineOps(DezeroOps):
    pass


class Mine(DezeroEager):
    name = "mine"

    def workload_ops(self):
        return MineOps


class Bare(DezeroEager):
    name = "bare"


def make():
    return Mine()


def bare():
    return Bare()
"""


@pytest.fixture
def plugin_run(tmp_path, monkeypatch):
    """A plugin module on sys.path, timing faked (accuracy is real), the registry restored."""
    (tmp_path / "plugin_workloads.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv(plugins.MODULES_ENV, "")
    saved = dict(BACKENDS), dict(plugins.REGISTERED), dict(plugins.BROKEN)

    def time_workloads(grid, evals, backends, quiet):
        import pandas as pd

        cases = workload_cases(grid, evals, backends)
        rows = [(c.evaluation, c.label, c.backend, "passed", None, 0) for c in cases]
        columns = ["evaluation", "size", "backend", "status", "reason", "size_index"]
        return pd.DataFrame(rows, columns=columns), None

    monkeypatch.setattr(workloads_run, "time_workloads", time_workloads)
    monkeypatch.setattr(plots, "write_plots", lambda *a, **k: [])

    def run(*argv):
        out = tmp_path / "results"
        base = ["workloads", "--sizes", "quick", "--evals", "hello", "lse", "--no-readme"]
        code = cli.main([*base, "--quiet", "--results", str(out), *argv])
        return code, out

    yield run
    for live, before in zip((BACKENDS, plugins.REGISTERED, plugins.BROKEN), saved):
        live.clear()
        live.update(before)


def test_a_plugin_engine_with_a_workload_namespace_runs_the_workloads(plugin_run):
    code, out = plugin_run("--backends", "mine", "--backend-module", "plugin_workloads:make")
    assert code == 0
    (csv,) = out.rglob("workloads.csv")
    table = read_workloads(csv)
    assert table["backend"].tolist() == ["mine", "mine"]
    assert (table["accuracy_status"] == OK).all()
    assert (table["gradbench_error"] <= GRADBENCH_TOLERANCE).all()


def test_a_plugin_engine_without_a_namespace_gets_rows_saying_why(plugin_run):
    code, out = plugin_run("--backends", "bare", "--backend-module", "plugin_workloads:bare")
    assert code == 0
    (csv,) = out.rglob("workloads.csv")
    table = read_workloads(csv)
    assert (table["accuracy_status"] == UNSUPPORTED).all() and len(table) == 2
    assert table["accuracy_reason"].str.contains("no op namespace").all()


@pytest.mark.parametrize("spec", ["plugin_workloads", "plugin_workloads:missing", "no_such:make"])
def test_a_bad_backend_module_on_workloads_is_one_line_and_exit_2(plugin_run, capsys, spec):
    code, out = plugin_run("--backend-module", spec)
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and spec in err and "Traceback" not in err, err
    assert not out.exists()


def test_a_timed_row_on_an_emulator_says_its_timing_is_not_comparable():
    import pandas as pd

    from bench.timing.workload_tables import render_markdown, workload_table

    note = "cpu (tinygrad's PYTHON emulator, no clang: timings not comparable)"
    cases = pd.DataFrame(
        [("lse", "n=50", 0, b, "passed", None) for b in ("torch", "tinygrad")],
        columns=["evaluation", "size", "size_index", "backend", "status", "reason"],
    )
    extra = {"workload": True, "evaluation": "lse", "size": "n=50"}
    stats = {"median": 0.01, "iqr": 0.0, "min": 0.01, "rounds": 3}
    document = {
        "datetime": "2026-01-01T00:00:00",
        "benchmarks": [
            {"stats": stats, "extra_info": extra | {"backend": "torch"}},
            {"stats": stats, "extra_info": extra | {"backend": "tinygrad", "timing_note": note}},
        ],
    }
    table = workload_table(cases, document).set_index("backend")
    assert table.loc["tinygrad", "reason"] == note and pd.isna(table.loc["torch", "reason"])
    assert (table["status"] == "passed").all()
    assert "not comparable" in render_markdown(table.reset_index())
