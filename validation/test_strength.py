"""The gate's strength, its robustness to another libm, and its command-line plumbing."""

import inspect

import numpy as np
import pytest

import dezero
from bench import cli
from dezero.core import Function
from validation import op_gate, strength


@pytest.fixture(scope="module")
def table():
    # The full strength run (every function x every eps x its cases) takes ~3 s: no sampling.
    return strength.measure_strength()


def test_every_function_is_caught_at_its_target(table):
    assert not strength.shortfalls(table), "\n".join(strength.shortfalls(table))
    assert (table["cases"] > 0).all()
    assert set(table["dtype"]) == {"float64", "float32"}


def test_a_function_no_case_uses_is_a_shortfall(table):
    unused = table.assign(cases=0, smallest_eps_caught=float("nan")).head(1)
    assert strength.shortfalls(unused) == [
        f"{unused.function.iloc[0]} {unused.dtype.iloc[0]}: smallest planted error caught nan "
        f"(target {unused.target_eps.iloc[0]:g}, 0 cases)"
    ]


def test_every_dezero_function_class_is_measured():
    def subclasses(cls):
        found, todo = set(), [cls]
        while todo:
            for sub in todo.pop().__subclasses__():
                if sub.__module__.startswith("dezero.") and sub not in found:
                    found.add(sub)
                    todo.append(sub)
        return found

    with_vjp = {c.__name__ for c in subclasses(Function) if "vjp" in vars(c) and c.vjp}
    assert with_vjp <= set(strength.function_classes())


def test_plant_is_in_process_and_restored():
    cls = dezero.functions.Sin
    original = vars(cls)["vjp"]
    with strength.planted(cls, 1e-3):
        assert vars(cls)["vjp"] is not original
    assert vars(cls)["vjp"] is original
    assert "planted" not in inspect.getsource(dezero.functions)


def test_strength_table_written_atomically(tmp_path, table):
    path = strength.write_strength(table, tmp_path / "gate_strength.csv")
    assert path.read_text().startswith("function,dtype,cases,smallest_eps_caught")
    assert [p.name for p in tmp_path.iterdir()] == ["gate_strength.csv"]


# max and min return one of their inputs, exactly, on any CPU (their vjp finds the winners by
# comparing y with x): no libm is involved, so they are not perturbed.
SELECTIONS = {"Max"}


def _perturb_every_forward(monkeypatch, seed=0):
    """Simulate another CPU's libm: every function's forward result moves +-1 ULP at random."""
    rng = np.random.default_rng(seed)

    def nudge(y):
        y = np.asarray(y)
        if not np.issubdtype(y.dtype, np.floating):
            return y
        direction = np.where(rng.random(y.shape) < 0.5, -np.inf, np.inf).astype(y.dtype)
        return np.nextafter(y, direction)

    def wrap(forward):
        def perturbed(self, *xs):
            ys = forward(self, *xs)
            return tuple(map(nudge, ys)) if type(ys) is tuple else nudge(ys)

        return perturbed

    for name, cls in strength.function_classes().items():
        if name not in SELECTIONS:
            monkeypatch.setattr(cls, "forward", wrap(cls.forward))


@pytest.mark.parametrize("seed", [0, 1])
def test_gate_stays_green_under_a_one_ulp_libm_and_still_catches_1e_12(monkeypatch, seed):
    _perturb_every_forward(monkeypatch, seed)
    messages = op_gate.op_gate_messages()
    assert not messages, "\n".join(messages)
    classes = strength.function_classes()
    used = strength.cases_using(classes)
    for name, cls in classes.items():
        cases = [c for c in used[name] if c.dtype == "float64"]
        with strength.planted(cls, 1e-12):
            assert any(op_gate.check_case(c) for c in cases), f"{name}: 1e-12 escaped"


def test_chain_gate_stays_green_under_a_one_ulp_libm(monkeypatch):
    from validation import gate

    _perturb_every_forward(monkeypatch)
    # sin_exp and random are the ill-conditioned families (random depth 1,000 underflows, and
    # a different rounding lands it ~1e-212 away from the exact ~0: its absolute floor)
    families = ["sin_exp", "tanh", "random"]
    df = gate.ci_accuracy(backends=["dezero"], families=families, depths=[10, 100, 1000])
    messages = gate.check_against_baseline(df, gate.read_baseline())
    assert not messages, "\n".join(messages)


def test_baseline_then_check_round_trip_and_a_planted_regression_exits_1(
    tmp_path, monkeypatch, capsys
):
    path = tmp_path / "baseline.csv"
    grid = ["--families", "sin", "--depths", "10", "--baseline", str(path)]
    assert cli.main(["baseline", *grid]) == 0
    assert path.is_file()
    assert cli.main(["check", *grid]) == 0
    assert "accuracy gate: pass" in capsys.readouterr().out
    with strength.planted(dezero.functions.Sin, 1e-9):
        assert cli.main(["check", *grid]) == 1
    out = capsys.readouterr().out
    assert "sin depth 10 width 1 float64 grad" in out
    assert "op sin 2x3 float64 input 0" in out


def test_check_without_a_baseline_exits_2(tmp_path, capsys):
    assert cli.main(["check", "--baseline", str(tmp_path / "none.csv")]) == 2
    assert "none.csv" in capsys.readouterr().err
