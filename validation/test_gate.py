"""The CI accuracy gate: dezero within each case's rounding floor (recorded in the committed
baseline), against torch and jax, finite.

`pytest validation` runs it (about 15 s on one core). The baseline changes only through
`python -m bench baseline`. The planted-error tests prove the gate bites: a derivative
off by 1e-9 relative in any single dezero function fails it, naming the family and numbers.
"""

import inspect
import os

import pytest

import dezero.arithmetic
import dezero.functions
from bench.workloads.chains import make_chain
from bench.workloads.ops import OPS
from bench.workloads.profiles import CI, PROFILES, accuracy_cases
from validation import gate
from validation.accuracy import run_accuracy
from validation.reference.tape import CHAIN_RULES, Tape

PLANTED_RELATIVE_ERROR = 1e-9


@pytest.fixture(scope="module")
def ci_frame():
    return gate.ci_accuracy()


@pytest.fixture(scope="module")
def baseline():
    if not gate.BASELINE_PATH.exists():
        pytest.fail(f"{gate.BASELINE_PATH} is missing: run `python -m bench baseline`")
    return gate.read_baseline()


def test_dezero_within_baseline_ulps(ci_frame, baseline):
    messages = gate.check_against_baseline(ci_frame, baseline)
    assert not messages, "\n".join(messages)


def test_baseline_covers_the_ci_grid(ci_frame, baseline):
    messages = gate.missing_from_baseline(ci_frame, baseline)
    assert not messages, "\n".join(messages)


def test_dezero_agrees_with_torch_and_jax(ci_frame):
    ran = set(ci_frame["backend"])
    assert ran & set(gate.PEERS), "neither torch nor jax ran"
    if os.environ.get("DEZERO_CI") == "1":  # CI installs both: each must have run
        assert set(gate.PEERS) <= ran, f"missing peers: {set(gate.PEERS) - ran}"
    messages = gate.check_peers(ci_frame)
    assert not messages, "\n".join(messages)


def test_no_backend_gives_nonfinite_or_crashes(ci_frame):
    messages = gate.check_finite(ci_frame)
    assert not messages, "\n".join(messages)


def _ops_used(case) -> set[str]:
    tape = Tape(CHAIN_RULES)
    chain = make_chain(case.family, case.depth, case.width)
    chain.apply(tape.ops, *map(tape.leaf, (chain.x, *chain.params)))
    return {name for name, *_ in tape.records} | {"sum"}


def _first_case_using(op_name):
    """The cheapest float64 CI case whose chain runs `op_name` (sum ends every objective)."""
    grid = sorted(
        accuracy_cases(PROFILES[CI], dtypes=("float64",)), key=lambda c: (c.depth, c.width)
    )
    return next(c for c in grid if c.depth >= 10 and op_name in _ops_used(c))


def _dezero_class(op_name):
    """The dezero Function subclass behind a registry op (Sin for sin, MatMul for matmul)."""
    for module in (dezero.functions, dezero.arithmetic):
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and name.lower() == op_name:
                return obj
    raise LookupError(f"no dezero Function class for op {op_name!r}")


def _plant(monkeypatch, op_name):
    """Make the op's derivative PLANTED_RELATIVE_ERROR too large, on the path the sweep calls
    (`vjp`, used by both the fast ndarray sweep and create_graph)."""
    cls = _dezero_class(op_name)
    vjp = cls.vjp

    def planted(self, m, gy, *args):
        gxs = vjp(self, m, gy, *args)
        if type(gxs) is tuple:
            return tuple(gx * (1 + PLANTED_RELATIVE_ERROR) for gx in gxs)
        return gxs * (1 + PLANTED_RELATIVE_ERROR)

    monkeypatch.setattr(cls, "vjp", planted)


def test_every_registry_op_is_in_the_ci_grid():
    used = set().union(*(_ops_used(c) for c in accuracy_cases(PROFILES[CI], dtypes=("float64",))))
    assert used == set(OPS), f"ops no CI case exercises: {sorted(set(OPS) - used)}"


@pytest.mark.parametrize("op_name", sorted(OPS))
def test_gate_catches_planted_derivative_error(monkeypatch, baseline, op_name):
    case = _first_case_using(op_name)
    _plant(monkeypatch, op_name)
    df = run_accuracy(
        "ci", backends=["dezero"], families=[case.family], depths=[case.depth], dtypes=["float64"]
    )
    messages = gate.check_against_baseline(df[df["width"] == case.width], baseline)
    where = f"{case.family} depth {case.depth:,} width {case.width} float64"
    assert any(where in m and " ULP " in m for m in messages), (op_name, where, messages)


def test_underflowing_row_with_a_large_absolute_error_fails(ci_frame, baseline):
    """The blind spot of a ULP metric: 0.5 where the exact gradient underflows."""
    rows = gate.gated_rows(ci_frame)
    rows = rows[rows["flag"] == "underflow"]
    assert not rows.empty, "the ci grid has no underflowing case to check"
    assert not gate.check_against_baseline(rows, baseline)
    planted = rows.assign(abs_err=0.5)
    messages = gate.check_against_baseline(planted, baseline)
    assert len(messages) == len(rows) and all("underflows" in m for m in messages), messages


def test_the_sweep_and_the_baseline_read_one_floor_per_case():
    """The depth tables' floor (elementwise) and the gate's (normwise) are two readings of the
    same cached floor of the case, never two computations."""
    from validation.accuracy import SEED
    from validation.reference.chains import case_floor

    df = run_accuracy("ci", backends=["dezero"], families=["sin"], depths=[10])
    rows = gate.gated_rows(df)
    assert not rows.empty
    for row, (norm_ulp, absolute) in zip(
        rows.itertuples(index=False), gate.case_floors(rows), strict=True
    ):
        floor = case_floor(row.family, row.depth, row.width, SEED, row.dtype)[row.quantity]
        assert row.floor_ulp == floor.ulp and (norm_ulp, absolute) == (floor.norm_ulp, floor.abs)
        assert norm_ulp <= row.floor_ulp  # elementwise ULPs are never fewer than normwise
