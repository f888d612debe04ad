"""The workloads table: one row per evaluation x size x backend, time and accuracy side by side.

`workload_table` builds it from a run: the cases it asked for with their outcome (a skipped
or failed case is a row whose `reason` says why, never a gap), the timings of the
pytest-benchmark JSON, and the accuracy DataFrame when the run measured one. `merge_saved`
folds a run into the saved table: the rows the run produced replace theirs, every other row
stays, and accuracy cells a `--skip-accuracy` run did not measure keep their saved values.
The ratios against torch and jax_jit are derived last, on the whole merged table.
`results/workloads.csv` is this table; `workloads.md` is `render_markdown` of it.
"""

from __future__ import annotations

import pandas as pd

from bench.backends import backend_order
from bench.files.table_format import markdown_table, merge_measured
from bench.timing.tables import commit_label, format_number, machine_label

WORKLOADS_CSV = "workloads.csv"
KEYS = ["evaluation", "size", "backend"]
RATIO_AGAINST = {"vs_torch": "torch", "vs_jax_jit": "jax_jit"}
TIMING_COLUMNS = {
    "size_index": "Int64",
    "elements": "Int64",
    "version": "string",
    "dtype": "string",
    "status": "string",  # passed, skipped or failed: the timing run's outcome
    "reason": "string",
    "median_s": "float64",
    "iqr_s": "float64",
    "min_s": "float64",
    "rounds": "Int64",
    "compile_s": "float64",
    "machine": "string",
    "commit": "string",
    "datetime": "string",
}
ACCURACY_COLUMNS = {
    "accuracy_status": "string",
    "accuracy_reason": "string",
    "max_rel_error": "float64",
    "excess": "float64",
    "gradbench_error": "float64",
    "accuracy_fingerprint": "string",  # what decided the row (validation.workload_cache)
}
COLUMNS = {
    **dict.fromkeys(KEYS, "string"),
    **TIMING_COLUMNS,
    **ACCURACY_COLUMNS,
    **dict.fromkeys(RATIO_AGAINST, "float64"),
}
GRADBENCH_TOLERANCE = 1e-4  # GradBench's pass mark for |a - b| / max(1, |a| + |b|)


def timing_rows(document: dict) -> pd.DataFrame:
    """The workload benchmarks of one pytest-benchmark document, one row each."""
    machine = machine_label(document.get("machine_info") or {})
    commit = commit_label(document.get("commit_info") or {})
    rows = []
    for bench in document.get("benchmarks", []):
        extra, stats = bench.get("extra_info") or {}, bench["stats"]
        if not extra.get("workload"):
            continue
        rows.append(
            {
                **{key: extra[key] for key in KEYS},
                "size_index": extra.get("size_index"),
                "elements": extra.get("elements"),
                "version": extra.get("backend_version"),
                "dtype": extra.get("dtype"),
                "median_s": stats["median"],
                "iqr_s": stats["iqr"],
                "min_s": stats["min"],
                "rounds": stats["rounds"],
                "compile_s": extra.get("compile_seconds"),
                "reason": extra.get("timing_note"),  # e.g. timed on an emulator: not comparable
                "machine": machine,
                "commit": commit,
                "datetime": document.get("datetime"),
            }
        )
    return pd.DataFrame(rows, columns=[*KEYS, *TIMING_COLUMNS])


def workload_table(cases: pd.DataFrame, document: dict | None, accuracy=None) -> pd.DataFrame:
    """A run's table. `cases`: evaluation, size, size_index, backend, status, reason (one row
    per case asked for); `document`: its benchmark JSON (None when nothing was timed);
    `accuracy`: `workload_accuracy`'s DataFrame (status/reason become accuracy_*), or None."""
    timed = timing_rows(document or {}).drop(columns=["size_index", "status"])
    timed = timed.rename(columns={"reason": "_timing_note"})
    table = cases.merge(timed, on=KEYS, how="left", validate="one_to_one")
    # a timed case's reason is its timing's note (an emulator's: not comparable)
    table["reason"] = table["reason"].fillna(table.pop("_timing_note"))
    if accuracy is not None:
        table = table.merge(accuracy_columns(accuracy), on=KEYS, how="left", validate="one_to_one")
    return with_ratios(_typed(table))


def accuracy_columns(accuracy: pd.DataFrame) -> pd.DataFrame:
    """`workload_accuracy`'s rows as this table's accuracy columns: `eval` is `evaluation`,
    status/reason become accuracy_*, and the per-quantity figures (objective, gradient or
    result: `<q>_rel_err`, `<q>_excess`) their largest, `max_rel_error` and `excess`."""
    df = accuracy.rename(
        columns={"eval": "evaluation", "status": "accuracy_status", "reason": "accuracy_reason"}
    )
    for column, suffix in (("max_rel_error", "_rel_err"), ("excess", "_excess")):
        if column not in df:
            per_quantity = [c for c in df.columns if c.endswith(suffix)]
            df[column] = df[per_quantity].astype("float64").max(axis=1) if per_quantity else None
    return df.reindex(columns=[*KEYS, *ACCURACY_COLUMNS])


def merge_saved(saved: pd.DataFrame | None, run: pd.DataFrame, accuracy_measured: bool):
    """`run` folded into `saved`: rows with the run's keys replaced, all others kept."""
    if saved is None or saved.empty:
        return with_ratios(_typed(run))
    saved, run = _typed(saved), _typed(run)
    if not accuracy_measured:  # keep the accuracy this run did not measure
        kept = saved[[*KEYS, *ACCURACY_COLUMNS]]
        run = run.drop(columns=list(ACCURACY_COLUMNS)).merge(kept, on=KEYS, how="left")
        run = _typed(run)
    return with_ratios(merge_measured(saved, run, KEYS))


def with_ratios(table: pd.DataFrame) -> pd.DataFrame:
    """`vs_torch`, `vs_jax_jit`: time over that backend's on the same evaluation, size and
    machine (empty where it did not run), rows in the tables' order."""
    table = table.drop(columns=list(RATIO_AGAINST), errors="ignore")
    for column, against in RATIO_AGAINST.items():
        base = table[table["backend"] == against][["evaluation", "size", "machine", "median_s"]]
        base = base.rename(columns={"median_s": "_base"}).drop_duplicates(["evaluation", "size"])
        table = table.merge(base, on=["evaluation", "size", "machine"], how="left")
        table[column] = table["median_s"] / table.pop("_base")
    rank = {b: i for i, b in enumerate(backend_order(table["backend"].unique()))}
    table = table.assign(_rank=table["backend"].map(rank))
    table = table.sort_values(["evaluation", "size_index", "size", "_rank"], kind="stable")
    return _typed(table.drop(columns="_rank").reset_index(drop=True))


def _typed(table: pd.DataFrame) -> pd.DataFrame:
    return table.reindex(columns=list(COLUMNS)).astype(COLUMNS)


def read_workloads(path) -> pd.DataFrame:
    """Read `workloads.csv` back with its column types (ValueError when a key column is
    missing: any other column may be absent, as in a table from an older run)."""
    table = pd.read_csv(path, keep_default_na=False, na_values=[""])
    missing = [key for key in KEYS if key not in table.columns]
    if missing:
        raise ValueError(f"no {', '.join(missing)} column; expected a workloads table")
    return _typed(table)


def _note(row) -> str:
    """Why a row has no time or no error figures, or why its time is not comparable ('' for
    a row that has both, measured on the machine's own kernels)."""
    notes = []
    if not pd.isna(row["reason"]):  # a timed row's: its timings are not comparable
        notes.append(str(row["reason"]))
    accuracy = row["accuracy_status"]
    if not pd.isna(accuracy) and accuracy != "ok" and row["accuracy_reason"] not in notes:
        notes.append(f"accuracy {accuracy}: {row['accuracy_reason']}")
    return "; ".join(notes)


def within_gradbench(value) -> str:
    """GradBench's error with its verdict, e.g. '3.1e-16 ok' or '2.0e-03 FAIL'."""
    if pd.isna(value):
        return ""
    return f"{value:.1e} {'ok' if value <= GRADBENCH_TOLERANCE else 'FAIL'}"


def evaluation_view(part: pd.DataFrame) -> pd.DataFrame:
    """One evaluation's rows as strings: time in ms, ratios, compile, errors, why not."""
    return pd.DataFrame(
        {
            "size": part["size"],
            "backend": part["backend"],
            "ms": [format_number(s * 1e3) for s in part["median_s"]],
            "vs torch": [format_number(r) for r in part["vs_torch"]],
            "vs jax_jit": [format_number(r) for r in part["vs_jax_jit"]],
            "compile s": [format_number(s) for s in part["compile_s"]],
            "max rel error": [_scientific(v) for v in part["max_rel_error"]],
            "over floor": [format_number(v) for v in part["excess"]],
            "GradBench error": [within_gradbench(v) for v in part["gradbench_error"]],
            "note": [_note(row) for _, row in part.iterrows()],
        }
    )


def _scientific(value) -> str:
    return "" if pd.isna(value) else f"{value:.1e}"


def render_markdown(table: pd.DataFrame) -> str:
    """The whole `workloads.md`: one section per evaluation."""
    out = [
        "# GradBench evaluations: time and accuracy per backend",
        "",
        "Generated by `python -m bench workloads` (or `run`); do not edit by hand. `ms` = "
        "median of one call (objective and gradient, or the evaluation's defined results), "
        "float64, one thread, after a warm-up call; `compile s` = jax_jit's first call; ratios "
        "are against torch (eager) and jax_jit on the same size and machine (below 1 = "
        f"faster). `GradBench error` = max |a - b| / max(1, |a| + |b|), passing at "
        f"{GRADBENCH_TOLERANCE:g}; `over floor` = the error over the rounding floor "
        "(1 = as good as correct rounding).",
    ]
    for evaluation, part in table.groupby("evaluation", sort=False):
        out += ["", f"## {evaluation}", "", markdown_table(evaluation_view(part))]
    runs = table.dropna(subset=["machine"]).groupby(["machine", "commit"], sort=True)
    out += ["", "## Where these numbers come from", ""]
    out += [f"- {machine}, commit {commit}: {len(rows)} rows" for (machine, commit), rows in runs]
    return "\n".join(out) + "\n"
