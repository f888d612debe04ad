"""`tables`: every results file built from saved results only (runs nothing).

The one module that writes the generated files of `results/` (timing.csv/.md through
`bench.timing.tables`, accuracy.md, workloads.md from workloads.csv, the plots, REPORT.md)
and the README's generated block.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bench.files import destinations
from bench.files.atomic_write import write_text
from bench.files.destinations import BENCHMARK_GLOB, README
from bench.files.inputs import InputError, read_csv_checked
from bench.report import markdown as report
from bench.report import plots
from bench.report.accuracy_tables import render_markdown
from bench.report.exact_gradients import SavedExact
from bench.report.findings_files import write_fuzz_reproducers, write_reproducers
from bench.report.fuzz_files import RECORD, read_published
from bench.report.fuzz_section import fuzz_scripts
from bench.report.plots import PLOTS
from bench.timing import tables as timing
from bench.timing import workload_tables
from bench.timing.workload_tables import WORKLOADS_CSV
from validation.accuracy import REQUIRED_COLUMNS, read_accuracy
from validation.depth_report import FINDINGS_FOLDER
from validation.reproducers import reproducers


def benchmark_files(results_dir: Path, paths) -> list[Path]:
    """The JSON files to read: `paths` if given, else every results/benchmark-*.json."""
    if paths:
        for path in paths:
            if Path(path).is_dir():
                raise InputError(path, "is a folder; expected a pytest-benchmark JSON file")
            if not Path(path).is_file():
                raise InputError(path, "no such benchmark JSON file")
        # a file named twice (or by two spellings of its path) is one run, read once
        unique = {}
        for path in paths:
            unique.setdefault(Path(path).resolve(), Path(path))
        return list(unique.values())
    return sorted(Path(results_dir).glob(BENCHMARK_GLOB))


def output_paths(results_dir: Path) -> list[Path]:
    """Every file `build_tables` may write into `results_dir` (the README aside)."""
    names = ("timing.csv", "timing.md", "accuracy.md", "workloads.md", *PLOTS, "REPORT.md")
    return [Path(results_dir) / name for name in names]


def build_tables(
    results_dir: Path, paths=None, accuracy_path=None, readme: Path | None = README, quiet=False
) -> list[Path]:
    """Every table, plot, REPORT.md and the README block (unless `readme` is None) from saved
    results; returns the paths written."""
    results_dir = Path(results_dir)
    files = benchmark_files(results_dir, paths)
    if accuracy_path is not None and not Path(accuracy_path).exists():
        raise InputError(accuracy_path, "no such accuracy CSV")
    accuracy_path = Path(accuracy_path or results_dir / "accuracy.csv")
    workloads_path = results_dir / WORKLOADS_CSV
    if not files and not accuracy_path.exists() and not workloads_path.exists():
        raise FileNotFoundError(
            f"nothing to build from: no {BENCHMARK_GLOB}, {accuracy_path.name} or "
            f"{WORKLOADS_CSV} in {results_dir}; run `python -m bench run` first"
        )
    # every input is read and checked before the first write: a bad one changes nothing
    raw, meta = timing.load_benchmarks(files)
    accuracy = None
    if accuracy_path.exists():
        accuracy = read_csv_checked(accuracy_path, REQUIRED_COLUMNS, read_accuracy)
    workloads = None
    if workloads_path.exists():
        workloads = read_csv_checked(
            workloads_path, workload_tables.KEYS, workload_tables.read_workloads
        )
    table = timing.timing_table(raw)
    fuzz = read_published(results_dir / RECORD)
    fuzz_texts = fuzz_scripts(fuzz) if fuzz is not None else {}
    # the findings' standalone scripts (exact gradients computed here once: seconds)
    findings = results_dir / FINDINGS_FOLDER
    exact = SavedExact(findings)
    with_errors = accuracy is not None and "excess" in accuracy
    scripts = reproducers(accuracy, exact) if with_errors else []
    # and every destination before the first write: a folder in a file's place changes nothing
    readme = readme if files or workloads is not None else None
    destinations.check_files(
        [*output_paths(results_dir), *([readme] if readme else [])]
        + [findings / script.name for script in scripts]
        + [exact.path]
        + [results_dir / path for path in fuzz_texts]
    )
    results_dir.mkdir(parents=True, exist_ok=True)
    written = []
    if files:
        written += timing.write_timing(table, results_dir)
    if accuracy is not None:
        md_path = results_dir / "accuracy.md"
        write_text(md_path, render_markdown(accuracy))
        written.append(md_path)
    if workloads is not None:
        md_path = results_dir / "workloads.md"
        write_text(md_path, workload_tables.render_markdown(workloads))
        written.append(md_path)
    figures = plots.write_plots(results_dir, timing=table, accuracy=accuracy, workloads=workloads)
    written += figures
    written.append(
        report.write_report(results_dir, table, accuracy, meta, figures, workloads, fuzz)
    )
    if scripts:
        written += write_reproducers(scripts, findings)
        written += [path for path in [exact.save()] if path]
    if fuzz is not None:
        written += write_fuzz_reproducers(fuzz_texts, results_dir)
    if readme is not None:
        if report.update_readme(readme, report.readme_block(table, accuracy, workloads)):
            written.append(Path(readme))
        else:
            print(
                f"note: {readme} has no {report.README_BEGIN} ... {report.README_END} "
                "block; README left unchanged",
                file=sys.stderr,
            )
    if not quiet:
        for path in written:
            print(f"wrote {path}")
    return written
