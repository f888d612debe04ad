"""Where a run writes, so that no run replaces what another kind of run wrote.

The committed files — results/*.csv, *.md, *.png, REPORT.md, the default benchmark JSON and
the README block — are the *published* results: only an unfiltered default-profile run (no
--dtype, no --backends/--families/--depths) or an explicit `--publish` writes them. Every
other run writes everything it produces (benchmark JSON, accuracy.csv/.md, timing.csv/.md,
plots, REPORT.md) into its own folder `results/runs/<kind>/`, where `<kind>` is the profile,
then the dtype and filters if given: `quick`, `default-float32`, `default-dezero-sin-d1000`.
Running the same kind again replaces that folder's files, and nothing else.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.files.inputs import InputError, read_benchmark_json

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "results"  # the published results, and results/runs/ under it
README = REPO / "README.md"  # its generated block is published with them
BENCHMARK_GLOB = "benchmark-*.json"  # the benchmark runs `tables` reads from a results folder
RUNS = "runs"
PUBLISHED_PROFILE = "default"


def run_kind(profile: str, dtype: str | None = None, tag: str = "") -> str:
    """The name of a run's folder: profile, then '-<dtype>' if given, then the filter tag."""
    return f"{profile}{f'-{dtype}' if dtype else ''}{tag}"


def is_published(profile: str, dtype: str | None = None, tag: str = "") -> bool:
    """Whether a run with these settings produces the committed default results."""
    return profile == PUBLISHED_PROFILE and dtype is None and not tag


def output_folder(results: Path, kind: str, publish: bool) -> Path:
    """`results` itself for a published run, else results/runs/<kind>."""
    return Path(results) if publish else Path(results) / RUNS / kind


def folder_for_inputs(results: Path, benchmarks=(), accuracy=None) -> tuple[Path, bool]:
    """Where `tables` writes for these input files, and whether that is the published folder.

    Only the published inputs rebuild the published files: results/'s own benchmark JSON
    files of the default profile and results/accuracy.csv (no input given: those). Any other
    input (a quick-profile JSON, a timing baseline, a CSV from elsewhere) makes the output a
    run folder: the input's own `results/runs/<kind>/` when it sits in one, else
    `results/runs/<its stem>/`.
    """
    results = Path(results).resolve()
    paths = [Path(p).resolve() for p in (*benchmarks, *([accuracy] if accuracy else []))]
    if all(_is_published_input(results, path) for path in paths):
        return results, True
    first = paths[0]
    if first.parent.parent == results / RUNS:
        return first.parent, False
    return results / RUNS / first.stem, False


def _is_published_input(results: Path, path: Path) -> bool:
    if path.parent != results:
        return False
    if path.name == "accuracy.csv":
        return True
    if not path.match(BENCHMARK_GLOB):
        return False
    info = read_benchmark_json(path).get("machine_info") or {}
    # the suite records its profile; a file without one has it in its name, as `run` writes it
    profile = info.get("bench_profile") or path.name.split("-")[1]
    return profile == PUBLISHED_PROFILE


def check_writable(folder: Path) -> Path:
    """Prove files can be written in `folder`, or in its nearest existing parent when it does
    not exist yet (InputError if not). Creates nothing: a run that then fails on a bad input
    leaves no empty folder behind."""
    folder = Path(folder)
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        if not existing.is_dir():
            raise NotADirectoryError(f"{existing} is a file")
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        problem = f"output folder is not writable ({error.strerror or error})"
        raise InputError(folder, problem) from None
    return folder


def new_folders(folder) -> list[Path]:
    """The folders that creating `folder` (with its parents) would add, deepest first."""
    folder, missing = Path(folder), []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


def remove_if_empty(folders) -> None:
    """Remove `folders` (deepest first, from `new_folders`) while they are empty, so a run
    interrupted before it saved anything leaves no empty folder behind."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:  # not empty (or already gone): it and its parents stay
            return


def check_files(paths) -> None:
    """Prove each of `paths` can be written as a file before the work that produces it: not a
    folder, in a writable folder (InputError naming the first that fails). Creates nothing."""
    checked = set()
    for path in map(Path, paths):
        if path.is_dir():
            raise InputError(path, "is a folder; expected a file path to write")
        if path.parent not in checked:
            check_writable(path.parent)
            checked.add(path.parent)


def check_readme(readme) -> None:
    """The README whose generated block a run rewrites must be an existing, writable file."""
    if readme is None:
        return
    readme = Path(readme)
    if not readme.exists():
        raise InputError(readme, "no such file (the README whose results block is rewritten; "
                                 "--no-readme leaves it out)")  # fmt: skip
    check_files([readme])
