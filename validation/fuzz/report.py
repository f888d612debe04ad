"""What a fuzz run leaves behind: the findings table, one reproducer per finding, replay.

`results/fuzz/` (or `--out`) gets `findings.csv` and `findings.md` (one row per shrunk
finding: backend, failure, ops, worst ULPs against the tolerance), `rows.csv` (every
check of every program) and, per finding, `<backend>-<failure>/program.json` plus
`repro.py`: a few lines that run the program in that backend next to the reference.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bench.files.atomic_write import write_csv, write_text
from validation.fuzz.checker import FAIL, check
from validation.fuzz.program_file import load
from validation.fuzz.programs import dumps

REPRO = '''"""Reproducer: {backend} fails ({failure}) on the {n_ops}-op program in program.json.

Run from the project root: python {path}
"""

from pathlib import Path

from validation.fuzz.report import replay

print(replay(Path(__file__).with_name("program.json"), ["{backend}"]).to_string())
'''

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


# the files every run writes under its folder (a finding adds its own sub-folder)
FUZZ_FILES = ("findings.csv", "findings.md", "rows.csv")


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


def write_results(out: Path, rows: pd.DataFrame, findings) -> pd.DataFrame:
    """Write the findings table, every row and the reproducers under `out`."""
    out.mkdir(parents=True, exist_ok=True)
    table = findings_frame(findings)
    findings_csv, findings_md, rows_csv = (out / name for name in FUZZ_FILES)
    write_csv(table, findings_csv)
    markdown = table.to_markdown(index=False) if len(table) else "No findings."
    write_text(findings_md, markdown + "\n")
    write_csv(rows, rows_csv)
    for f in findings:
        folder = out / f"{f.backend}-{f.failure}"
        folder.mkdir(exist_ok=True)
        write_text(folder / "program.json", dumps(f.program) + "\n")
        text = REPRO.format(
            backend=f.backend, failure=f.failure, n_ops=len(f.ops), path=folder / "repro.py"
        )
        write_text(folder / "repro.py", text)
    return table


def replay(path, backends) -> pd.DataFrame:
    """Check the saved program at `path` in `backends` again: its rows, failures first."""
    rows = pd.DataFrame(check(load(path), list(backends)))
    rows["failing"] = rows["status"] == FAIL
    return rows.sort_values("failing", ascending=False, kind="stable").drop(columns="failing")
