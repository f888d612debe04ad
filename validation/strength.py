"""The gate measuring its own strength: plant a relative error in one dezero function's
derivative at a time and find the smallest one the gate catches.

A plant multiplies every gradient the class's `vjp` returns by (1 + eps), in this process only
(the class attribute is swapped and restored; nothing on disk changes); the forward pass is
untouched. The strength is measured on the single-function gate (`validation.op_gate`), which
runs in well under a second per sweep; the chain gate can only catch more.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import os
from pathlib import Path

import pandas as pd

from dezero.core import Function
from validation import op_gate

# Every module defining dezero Functions; a new module must be added here (a test checks that
# every Function subclass the package exposes is found).
FUNCTION_MODULES = (
    "dezero.arithmetic",
    "dezero.functions",
    "dezero.losses",
    "dezero.functions_conv",
    "dezero.functions_nn",
    "dezero.functions_elementwise",
    "dezero.functions_array",
    "dezero.functions_linalg",
)
EPSILONS = {
    "float64": (1e-9, 1e-10, 1e-11, 1e-12, 1e-13, 1e-14, 1e-15),
    "float32": (1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8),
}
TARGET = {"float64": 1e-12, "float32": 1e-5}
STRENGTH_PATH = Path(__file__).resolve().parent.parent / "results" / "gate_strength.csv"


def function_classes() -> dict[str, type]:
    """Every dezero Function subclass that defines its own `vjp`, by class name."""
    classes = {}
    for module_name in FUNCTION_MODULES:
        for name, obj in vars(importlib.import_module(module_name)).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, Function)
                and obj is not Function
                and "vjp" in vars(obj)
            ):
                classes[name] = obj
    return classes


@contextlib.contextmanager
def planted(cls: type, eps: float):
    """`cls.vjp` returns its gradients times (1 + eps) inside the block."""
    original = vars(cls)["vjp"]

    def scale(gx):
        return None if gx is None else gx * (1 + eps)

    def vjp(self, m, *args):
        gxs = original(self, m, *args)
        return tuple(map(scale, gxs)) if type(gxs) is tuple else scale(gxs)

    cls.vjp = vjp
    try:
        yield
    finally:
        cls.vjp = original


def cases_using(classes: dict[str, type], cases=op_gate.OP_CASES) -> dict[str, list]:
    """class name -> the gate cases whose backward pass calls its vjp (an eps = 0 plant that
    only records the call)."""
    used = {name: [] for name in classes}
    for case in cases:
        calls = set()
        with contextlib.ExitStack() as stack:
            for name, cls in classes.items():
                stack.enter_context(_recording(cls, name, calls))
            ref = op_gate.exact(case)
            op_gate.dezero_grads(case, ref.xs, ref.gy)
        for name in calls:
            used[name].append(case)
    return used


@contextlib.contextmanager
def _recording(cls, name, calls):
    original = vars(cls)["vjp"]

    def vjp(self, *args):
        calls.add(name)
        return original(self, *args)

    cls.vjp = vjp
    try:
        yield
    finally:
        cls.vjp = original


def smallest_caught(cls: type, cases: list, dtype: str) -> float:
    """The smallest eps of EPSILONS[dtype] such that it and every larger one are caught (NaN:
    even the largest escapes, or no case of this dtype uses the function)."""
    cases = [c for c in cases if c.dtype == dtype]
    caught = float("nan")
    for eps in EPSILONS[dtype]:
        if not cases:
            break
        with planted(cls, eps):
            if not any(op_gate.check_case(c) for c in cases):
                break
        caught = eps
    return caught


def measure_strength() -> pd.DataFrame:
    """One row per (function, dtype): the smallest planted error caught, the target, the case
    count (a function no case uses shows 0 cases and NaN: a shortfall)."""
    classes = function_classes()
    used = cases_using(classes)
    rows = []
    for name, cls in sorted(classes.items()):
        for dtype in EPSILONS:
            cases = [c for c in used[name] if c.dtype == dtype]
            rows.append(
                {
                    "function": name,
                    "dtype": dtype,
                    "cases": len(cases),
                    "smallest_eps_caught": smallest_caught(cls, cases, dtype),
                    "target_eps": TARGET[dtype],
                }
            )
    return pd.DataFrame(rows)


def shortfalls(table: pd.DataFrame) -> list[str]:
    """Functions the gate misses at their dtype's target, or never exercises."""
    weak = table[~(table["smallest_eps_caught"] <= table["target_eps"])]
    return [
        f"{row.function} {row.dtype}: smallest planted error caught "
        f"{row.smallest_eps_caught:g} (target {row.target_eps:g}, {row.cases} cases)"
        for row in weak.itertuples(index=False)
    ]


def write_strength(table: pd.DataFrame, path=STRENGTH_PATH) -> Path:
    """Write the strength table as CSV, atomically (temp file, then os.replace)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    table.to_csv(partial, index=False)
    os.replace(partial, path)
    return path
