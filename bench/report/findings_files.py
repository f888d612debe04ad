"""The findings' standalone scripts on disk: `validation.reproducers` writes their text,
this module puts them beside REPORT.md (validation returns data; bench writes)."""

from pathlib import Path

from bench.files.atomic_write import write_text


def write_reproducers(scripts, folder: Path) -> list[Path]:
    """Write `scripts` into `folder` (the caller decides where a run may write), removing
    the folder's older scripts that no finding has any more (scripts this same command
    wrote before); returns the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    names = {script.name for script in scripts}
    for stale in folder.glob("*-float??.py"):
        if stale.name not in names:
            stale.unlink()
    return [write_text(folder / script.name, script.text) for script in scripts]


def write_fuzz_reproducers(scripts: dict, results_dir: Path) -> list[Path]:
    """Write the fuzz findings' scripts (path relative to `results_dir` -> text), removing
    the older ones in their folder that no finding has any more (this command wrote them)."""
    paths = [Path(results_dir) / path for path in scripts]
    for folder in {path.parent for path in paths}:
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.py"):
            if stale not in paths:
                stale.unlink()
    return [write_text(path, text) for path, text in zip(paths, scripts.values())]
