"""The committed record of fuzz findings (`fuzz --publish`): one row per engine and root cause,
merged run after run so that a run over some engines never drops another engine's rows.

A root cause is the op that fails and how (`root_cause`): the op of the shrunk program's last
node (the shrinker leaves the failing op there, after what feeds it), the order of the
derivative (value, grad, hvp, or `run` when the engine raises) and the failure (`wrong`
beyond the tolerance, `nonfinite`, `shape`, `raises`): `tanh-hvp-nonfinite`. Each row keeps
what a standalone script needs (`validation.fuzz.standalone`): the shrunk program, the
direction of the Hessian-vector product and the exact quantities with their tolerance, as
the reference computes them here, plus the engine's version, the run's seed, programs tried
and ops covered. An engine a run found nothing in gets one `none` row saying how much was
tried, until a finding replaces it.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from validation.fuzz.checker import direction_for
from validation.fuzz.programs import dumps, input_arrays, op_names
from validation.fuzz.reference import reference

NONE = "none"  # root_cause of an engine's row when the run found nothing in it
KEY = ["engine", "root_cause"]
COLUMNS = {
    "engine": "string",
    "root_cause": "string",
    "op": "string",
    "quantity": "string",
    "failure": "string",
    "version": "string",
    "seed": "int64",
    "programs": "int64",
    "ops_covered": "string",  # comma-separated, sorted
    "command": "string",
    "shrunk": "boolean",
    "note": "string",
    "program": "string",  # compact JSON (`validation.fuzz.programs`)
    "direction": "string",  # JSON: one list of float.hex per input, "" for first order
    "exact": "string",  # JSON: quantity -> {"shape", "hex", "tolerance"}
}
MECHANISM = {"ulp": "wrong", "hvp": "wrong", "nonfinite": "nonfinite", "shape": "shape"}


def order_of(quantity: str) -> str:
    """'grad', 'hvp', 'value' or 'run' (the engine raised) for a checker quantity."""
    return quantity.rstrip("0123456789")


def root_cause(program: dict, quantity: str, failure: str) -> tuple[str, str]:
    """(op, root cause) of a finding: see the module docstring."""
    op = op_names(program)[-1]
    if failure == "raises":
        return op, f"{op}-raises"
    return op, f"{op}-{order_of(quantity)}-{MECHANISM.get(failure, failure)}"


def _hex(a) -> list[str]:
    return [float(v).hex() for v in np.asarray(a, np.float64).ravel()]


def finding_row(finding) -> dict:
    """A record row for one `checker.Finding` (run fields left to `records`)."""
    worst = max(finding.rows, key=lambda r: np.nan_to_num(r.get("norm_ulp", np.inf), nan=np.inf))
    quantity = worst["quantity"]
    op, cause = root_cause(finding.program, quantity, finding.failure)
    # the quantities the script compares: every input's of the failing order (a tie's
    # gradients are judged together), all of them when the engine raised
    order = order_of(quantity)
    second = order == "hvp" or (quantity == "run" and _second_order(finding))
    if quantity == "run" and second and _raises_first_order(finding):
        second = False  # the first derivative alone raises: the script takes only that
    direction = direction_for(input_arrays(finding.program)) if second else None
    ref = reference(finding.program, direction)
    wanted = _all_quantities(ref, second)
    if order in ("grad", "hvp"):
        wanted = [q for q in wanted if order_of(q) == order]
    elif order == "value":
        wanted = ["value"]
    tolerances = {r["quantity"]: r.get("allowance") for r in finding.rows}
    if order == "grad" and at_tie(finding.program):
        # which input gets a tie's gradient is a convention; their total is not
        total = sum(np.sum(g) for g in ref["grads"])
        tolerance = _tolerance(total, tolerances.get(quantity), finding.rows, quantity)
        ref, wanted = {"value": total}, ["total"]
        tolerances = {"total": tolerance}
    exact = {}
    for q in wanted:
        value = _quantity(ref, q)
        exact[q] = {
            "shape": list(np.shape(value)),
            "hex": _hex(value),
            "tolerance": _tolerance(value, tolerances.get(q), finding.rows, q),
        }
    return {
        "engine": finding.backend,
        "root_cause": cause,
        "op": op,
        "quantity": quantity,
        "failure": finding.failure,
        "shrunk": bool(finding.shrunk),
        "note": str(worst.get("note") or "").strip(),
        "program": dumps(finding.program, indent=None),
        "direction": json.dumps([_hex(v) for v in direction]) if second else "",
        "exact": json.dumps(exact, sort_keys=True),
    }


def _second_order(finding) -> bool:
    from validation.fuzz.runners import second_order

    return second_order(finding.backend)


def _raises_first_order(finding) -> bool:
    from validation.fuzz.runners import runner

    try:
        runner(finding.backend)(finding.program, input_arrays(finding.program), None)
    except Exception:  # the engine's own error, whatever its type
        return True
    return False


def _all_quantities(ref, second: bool) -> list[str]:
    names = [f"grad{i}" for i in range(len(ref["grads"]))]
    return names + ([f"hvp{i}" for i in range(len(ref["hvp"]))] if second else [])


def at_tie(program: dict) -> bool:
    """Whether the program is maximum or minimum of two inputs holding equal values."""
    nodes = program["nodes"]
    last = nodes[-1]
    if last["op"] not in ("maximum", "minimum"):
        return False
    a, b = (nodes[i] for i in last["args"])
    return a["op"] == b["op"] == "input" and a["values"] == b["values"]


def _quantity(ref, quantity: str):
    order, index = order_of(quantity), quantity[len(order_of(quantity)) :]
    if order in ("value", "total"):
        return np.asarray(ref["value"])
    return np.asarray(ref["grads" if order == "grad" else "hvp"][int(index)])


def _tolerance(value, allowance, rows, quantity) -> float:
    """The checker's pass test as one absolute bound: its allowance, or its ULP tolerance
    times the ULP of the largest exact element, whichever is larger."""
    from validation.fuzz.checker import ABSOLUTE_ALLOWANCE, tolerance_ulp

    row = next((r for r in rows if r["quantity"] == quantity), {})
    biggest = float(np.max(np.abs(np.asarray(value, np.float64)), initial=0.0))
    ulps = tolerance_ulp(row["floor_ulp"]) if pd.notna(row.get("floor_ulp", np.nan)) else 0.0
    bound = ulps * float(np.spacing(biggest)) if biggest else 0.0
    if allowance is None or pd.isna(allowance):  # a crash: no row measured it
        order = "grad" if order_of(quantity) in ("total", "run") else order_of(quantity)
        allowance = ABSOLUTE_ALLOWANCE[order] * max(biggest, 1.0)
    return float(max(allowance, bound))


def records(findings, backends, seed: int, summary: dict, versions: dict, command: str):
    """The record rows of one run: a row per finding, a `none` row per engine without one."""
    run = {
        "seed": int(seed),
        "programs": int(summary["programs"]),
        "ops_covered": ",".join(summary["ops_covered"]),
        "command": command,
    }
    rows = [finding_row(f) | run | {"version": versions[f.backend]} for f in findings]
    found = {f.backend for f in findings}
    for engine in backends:
        if engine not in found:
            rows.append({"engine": engine, "root_cause": NONE, "version": versions[engine]} | run)
    return frame(rows)


def frame(rows) -> pd.DataFrame:
    """Rows as a typed record table, sorted by its key."""
    table = pd.DataFrame(list(rows)).reindex(columns=list(COLUMNS))
    for column, dtype in COLUMNS.items():
        if dtype == "string":
            table[column] = table[column].astype("string").fillna("")
    table["shrunk"] = table["shrunk"].astype("boolean")
    return table.astype(COLUMNS).sort_values(KEY, ignore_index=True)


def merge(old: pd.DataFrame | None, new: pd.DataFrame) -> pd.DataFrame:
    """`old` with `new`'s rows in: a row of the same key is replaced; an engine's `none` row
    goes once the engine has a finding; every other engine's rows stay as they were."""
    table = new if old is None else pd.concat([old, new]).drop_duplicates(KEY, keep="last")
    has_finding = set(table.loc[table["root_cause"] != NONE, "engine"])
    table = table[~((table["root_cause"] == NONE) & table["engine"].isin(has_finding))]
    return frame(table.to_dict("records"))


def read_record(path) -> pd.DataFrame:
    """The record at `path`, checked: ValueError naming what is wrong."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in table]
    if missing:
        raise ValueError(f"not a fuzz findings record: no column(s) {', '.join(missing)}")
    if table.duplicated(KEY).any():
        first = table[table.duplicated(KEY)].iloc[0]
        raise ValueError(f"two rows for {first['engine']} {first['root_cause']}")
    for column in ("seed", "programs"):
        bad = table[~table[column].str.fullmatch(r"-?\d+")]
        if len(bad):
            raise ValueError(
                f"row {bad.index[0] + 2}: {column} {bad[column].iloc[0]!r} is no integer"
            )
    table["shrunk"] = table["shrunk"].map({"True": True, "False": False, "": pd.NA})
    return frame(table.to_dict("records"))
