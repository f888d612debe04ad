"""Checking the files the CLI reads before anything is written from them.

A benchmark JSON must be a pytest-benchmark run (a `benchmarks` list whose entries carry
`stats`), a CSV must hold the columns its reader needs and at least one row. A file that
fails raises `InputError`, whose message is one line naming the file and what is wrong;
the CLI prints it and exits 2. Callers read and check every input first and write only
afterwards, so a bad input leaves results/ as it was.
"""

from __future__ import annotations

import json
import math
import numbers
from pathlib import Path

# what every pytest-benchmark entry's `stats` holds and the timing table reads
BENCHMARK_STATS = ("min", "max", "mean", "stddev", "rounds", "median", "iqr", "q1", "q3")


class UsageError(ValueError):
    """A bad argument, setting or destination found after argparse: the CLI prints its one
    line and exits 2, before any work starts."""


class InputError(UsageError):
    """A file the CLI was asked to read is missing or not what it must be."""

    def __init__(self, path, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path, self.problem = Path(path), problem


def _read_text(path: Path) -> str:
    if not path.exists():
        raise InputError(path, "no such file")
    if path.is_dir():
        raise InputError(path, "is a folder; expected a file")
    if not path.is_file():
        raise InputError(path, "is not a regular file")
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(path, f"cannot be read ({error.__class__.__name__}: {error})") from None


def read_text(path) -> str:
    """The text of the file at `path`; InputError if it is missing, a folder or unreadable."""
    return _read_text(Path(path))


def parse_json(path, text: str):
    """`text` (read from `path`) as JSON; InputError naming the file and where it breaks."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(
            path, f"is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from None


def read_benchmark_json(path) -> dict:
    """The parsed pytest-benchmark document at `path`, checked for the shape we read."""
    path = Path(path)
    text = _read_text(path)
    if not text.strip():
        raise InputError(path, "is empty; expected a pytest-benchmark JSON run")
    document = parse_json(path, text)
    if not isinstance(document, dict) or "benchmarks" not in document:
        found = list(document)[:5] if isinstance(document, dict) else type(document).__name__
        raise InputError(
            path, f"is not a pytest-benchmark run: no 'benchmarks' list (found {found})"
        )
    benchmarks = document["benchmarks"]
    if not isinstance(benchmarks, list):
        raise InputError(path, f"'benchmarks' is a {type(benchmarks).__name__}, expected a list")
    if not benchmarks:
        raise InputError(path, "holds no benchmarks ('benchmarks' is an empty list)")
    for index, bench in enumerate(benchmarks):
        where = f"benchmarks[{index}]"
        if not isinstance(bench, dict):
            raise InputError(path, f"{where} is a {type(bench).__name__}, expected an object")
        stats = bench.get("stats")
        if not isinstance(stats, dict):
            raise InputError(path, f"{where} ({bench.get('name')!r}) has no 'stats' object")
        wrong = [
            key
            for key in BENCHMARK_STATS
            if not isinstance(stats.get(key), numbers.Real) or isinstance(stats.get(key), bool)
        ]
        if wrong:
            raise InputError(
                path, f"{where} ({bench.get('name')!r}) stats lack numeric {', '.join(wrong)}"
            )
        data = stats.get("data")
        if data is not None and (
            not isinstance(data, list) or not all(isinstance(v, numbers.Real) for v in data)
        ):
            raise InputError(path, f"{where} ({bench.get('name')!r}) stats.data is not numbers")
        # a time or a count is finite and not negative; NaN would pass every comparison
        bad = [(key, stats[key]) for key in BENCHMARK_STATS if not _non_negative(stats[key])]
        bad += [("data", v) for v in data or () if not _non_negative(v)][:1]
        if bad:
            shown = ", ".join(f"{key} = {value!r}" for key, value in bad)
            raise InputError(
                path, f"{where} ({bench.get('name')!r}) has times that are not seconds: {shown}"
            )
    return document


def _non_negative(value) -> bool:
    return math.isfinite(value) and value >= 0


def read_csv_checked(path, required, reader):
    """`reader(path)` (a DataFrame) after checking `path` parses, has `required` columns and
    at least one row."""
    import pandas as pd  # only CSV inputs need it; the JSON checks stay light

    path = Path(path)
    _read_text(path)  # missing, a folder, unreadable or not text: one message each
    try:
        df = reader(path)
    except pd.errors.EmptyDataError:
        raise InputError(path, "is empty; expected a CSV with a header row") from None
    except (pd.errors.ParserError, ValueError, TypeError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InputError(path, f"is not a readable CSV of the expected types ({first})") from None
    missing = [column for column in required if column not in df.columns]
    if missing:
        raise InputError(path, f"lacks column(s) {', '.join(missing)}")
    if df.empty:
        raise InputError(path, "has a header but no rows")
    return df
