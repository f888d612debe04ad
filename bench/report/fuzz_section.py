"""REPORT's "Fuzzer findings" and their standalone scripts, from the committed fuzz record
(results/fuzz_findings.csv, `validation.fuzz.published`): findings grouped by root cause with
every engine they affect and the verdict on them, what each engine was fuzzed with, and an
honest line for the engines the fuzzer found nothing in."""

from __future__ import annotations

import json

import pandas as pd

from bench.files.table_format import markdown_table
from validation.depth_report import FINDINGS_FOLDER
from validation.fuzz.programs import OP_NAMES, op_names
from validation.fuzz.published import NONE
from validation.fuzz.standalone import FOLDER, script_name, script_text
from validation.fuzz.verdicts import verdict


def script_path(engine: str, cause: str) -> str:
    """A script's path relative to REPORT.md."""
    return f"{FINDINGS_FOLDER}/{FOLDER}/{script_name(engine, cause)}"


def fuzz_scripts(record: pd.DataFrame) -> dict[str, str]:
    """Path (relative to REPORT.md) -> text of every finding's standalone script."""
    scripts = {}
    for row in record[record["root_cause"] != NONE].to_dict("records"):
        text = script_text(row, verdict(row["root_cause"]))
        scripts[script_path(row["engine"], row["root_cause"])] = text
    return scripts


def _coverage(record: pd.DataFrame) -> pd.DataFrame:
    """One row per engine and run: what it was fuzzed with and how many causes it showed."""
    rows = []
    for (engine, _seed, programs, ops, command), part in record.groupby(
        ["engine", "seed", "programs", "ops_covered", "command"], sort=True
    ):
        causes = part.loc[part["root_cause"] != NONE, "root_cause"]
        rows.append(
            {
                "engine": engine,
                "version": ", ".join(sorted(set(part["version"]))),
                "programs": f"{programs:,}",
                f"ops covered (of {len(OP_NAMES)})": len(ops.split(",")) if ops else 0,
                "root causes": ", ".join(f"`{c}`" for c in causes) or "none",
                "command": f"`{command}`",
            }
        )
    return pd.DataFrame(rows)


def render_fuzz_section(record: pd.DataFrame | None) -> list[str]:
    """The "Fuzzer findings" part of REPORT's Findings (no lines without a record)."""
    if record is None or record.empty:
        return []
    out = [
        "",
        "### Fuzzer findings",
        "",
        "Random programs over the fuzzed ops (`python -m bench fuzz`), each engine's value, "
        "gradients and (where it has them) Hessian-vector products against the exact "
        "reference; a failure is shrunk by hypothesis to the smallest program that still "
        "shows it, and published with `--publish` into `fuzz_findings.csv`. A root cause is "
        "the failing op and how it fails (the order of the derivative and: wrong beyond the "
        "fuzzer's tolerance, non-finite, wrong shape, or the engine raises); all float64. "
        f"Each engine's finding has a standalone script in `{FINDINGS_FOLDER}/{FOLDER}/` in "
        "the engine's own API (that engine and numpy only): it builds the shrunk program, "
        "prints the engine's derivative next to the exact one and exits 1 while the finding "
        "holds, 0 once it does not.",
        "",
        markdown_table(_coverage(record)),
        "",
    ]
    found = record[record["root_cause"] != NONE]
    for cause, part in found.groupby("root_cause", sort=True):
        judged = verdict(cause)
        engines = ", ".join(part["engine"])
        out.append(
            f"- **{judged.title}** (`{cause}`): {engines}. Kind: {judged.kind}: {judged.reason}"
        )
        for row in part.itertuples(index=False):
            link = script_path(row.engine, cause)
            ops = len(op_names(json.loads(row.program)))
            out.append(
                f"  {row.engine} {row.version}: {ops}-op program (seed {row.seed}); standalone "
                f"({row.engine} and numpy only): [`{link}`]({link})"
            )
    clean = record[~record["engine"].isin(set(found["engine"]))]
    for row in clean.itertuples(index=False):
        count = len(row.ops_covered.split(",")) if row.ops_covered else 0
        out.append(
            f"- {row.engine} {row.version}: nothing found in {row.programs:,} programs "
            f"covering {count} of the {len(OP_NAMES)} fuzzed ops (`{row.command}`)."
        )
    return out
