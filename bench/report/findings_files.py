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
