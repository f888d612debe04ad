"""What a fuzz run leaves behind, on disk: the findings table, every row, one reproducer per
finding; and a saved program read back (`fuzz --replay`, the reproducers).

`results/fuzz/` (or `--out`) gets `findings.csv` and `findings.md` (`validation.fuzz.report`'s
findings table), `rows.csv` (every check of every program) and, per finding,
`<backend>-<failure>/program.json` plus `repro.py`: a few lines that run the program in that
backend next to the reference. `fuzz --publish` merges a run's findings into the committed
record, results/fuzz_findings.csv (`validation.fuzz.published`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bench.files.atomic_write import write_csv, write_text
from bench.files.inputs import InputError, parse_json, read_text
from validation.fuzz.program_file import program_problem
from validation.fuzz.programs import dumps
from validation.fuzz.published import merge, read_record, records
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
RECORD = "fuzz_findings.csv"  # the published record, in results/


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


def read_published(path):
    """The findings record at `path`, or None when there is none yet (InputError naming the
    file when it cannot be read as one)."""
    path = Path(path)
    if not path.exists():
        return None
    if not path.is_file():
        raise InputError(path, "is not a file; expected the fuzz findings record (CSV)")
    try:
        return read_record(path)
    except (ValueError, OSError) as error:
        raise InputError(path, str(error).splitlines()[0]) from None


def publish(path, findings, backends, seed, summary, versions, command) -> pd.DataFrame:
    """Merge one run's findings into the record at `path` (written whole, atomically): its
    engines' rows replaced by key, every other engine's kept; returns the new record."""
    table = merge(
        read_published(path), records(findings, backends, seed, summary, versions, command)
    )
    write_csv(table, Path(path))
    return table
