"""What a fuzz run leaves behind, on disk: the findings table, every row, one reproducer per
finding; and a saved program read back (`fuzz --replay`, the reproducers).

`results/fuzz/` (or `--out`) gets `findings.csv` and `findings.md` (`validation.fuzz.report`'s
findings table), `rows.csv` (every check of every program) and, per finding,
`<backend>-<failure>/program.json` plus `repro.py`: a few lines that run the program in that
backend next to the reference.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bench.files.atomic_write import write_csv, write_text
from bench.files.inputs import InputError, parse_json, read_text
from validation.fuzz.program_file import program_problem
from validation.fuzz.programs import dumps
from validation.fuzz.report import findings_frame, recheck

REPRO = '''"""Reproducer: {backend} fails ({failure}) on the {n_ops}-op program in program.json.

Run from the project root: python {path}
"""

from pathlib import Path

from bench.report.fuzz_files import replay

print(replay(Path(__file__).with_name("program.json"), ["{backend}"]).to_string())
'''

# the files every run writes under its folder (a finding adds its own sub-folder)
FUZZ_FILES = ("findings.csv", "findings.md", "rows.csv")


def load(path) -> dict:
    """The program in the JSON file at `path`, checked (InputError naming the file if not)."""
    path = Path(path)
    program = parse_json(path, read_text(path))
    problem = program_problem(program)
    if problem:
        raise InputError(path, f"not a runnable fuzz program: {problem}")
    return program


def replay(path, backends) -> pd.DataFrame:
    """Check the saved program at `path` in `backends` again: its rows, failures first."""
    return recheck(load(path), backends)


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
