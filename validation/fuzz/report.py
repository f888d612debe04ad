"""What a fuzz run found, as data: one row per shrunk finding (backend, failure, ops, worst
ULPs against the tolerance), and a saved program checked again. `bench.report.fuzz_files`
writes them, with the reproducers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from validation.fuzz.checker import FAIL, check

FINDING_COLUMNS = [
    "backend",
    "failure",
    "n_ops",
    "ops",
    "shrunk",
    "quantity",
    "norm_ulp",
    "tolerance_ulp",
]


def findings_frame(findings) -> pd.DataFrame:
    """One row per finding: its worst failing quantity (a crash has quantity 'run')."""
    rows = []
    for f in findings:
        worst = max(f.rows, key=lambda r: np.nan_to_num(r.get("norm_ulp", np.inf), nan=np.inf))
        rows.append(
            {
                "backend": f.backend,
                "failure": f.failure,
                "n_ops": len(f.ops),
                "ops": ",".join(f.ops),
                "shrunk": f.shrunk,
            }
            | {k: worst.get(k) for k in ("quantity", "norm_ulp", "tolerance_ulp")}
            | {"note": worst.get("note") or ""}
        )
    return pd.DataFrame(rows, columns=[*FINDING_COLUMNS, "note"])


def recheck(program: dict, backends) -> pd.DataFrame:
    """Check `program` in `backends` again: its rows, failures first."""
    rows = pd.DataFrame(check(program, list(backends)))
    rows["failing"] = rows["status"] == FAIL
    return rows.sort_values("failing", ascending=False, kind="stable").drop(columns="failing")
