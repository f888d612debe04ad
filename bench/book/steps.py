"""Run the book's step scripts, unmodified, on this project's dezero (`python -m bench book PATH`).

The book's code is never part of this repository: the reader points PATH at their own
checkout of the book's repository (`steps/stepNN.py` beside the book's `dezero/`). Each script
runs as the book runs it, `python stepNN.py`, in its own subprocess from a temporary copy of
`steps/` whose parent holds a link to *this* project's `dezero` package and nothing of the
book's: the scripts append their parent folder to `sys.path`, so the link is what they find,
and with the book's `dezero/` left out of the copy it cannot be imported by any route.

Each step gets a status: `ok`, `skipped: <reason>`, `book's own code fails on numpy >= 2.4:
<line>` (the failure is raised in the book's script itself, not in our dezero), or
`FAIL: <last line of the traceback>`; printed numbers are checked where `bench.book.expected`
can predict them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import dezero
from bench.book import expected as book_expected
from bench.files.inputs import InputError

OUR_DEZERO = Path(dezero.__file__).resolve().parent
STEP_FILE = re.compile(r"^step(\d+)\.py$")
BOOK_STEPS = range(1, 61)
STEP_TIMEOUT_S = 600

# Steps that fetch data or weights from the internet: this project never downloads.
DOWNLOADS = {
    51: "downloads MNIST",
    52: "downloads MNIST (and times CuPy on a GPU)",
    53: "downloads MNIST",
    58: "downloads VGG16's weights and an example image",
}
NUMPY_SCALAR_ERROR = "only 0-dimensional arrays can be converted to Python scalars"
TRACEBACK_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)')


@dataclass
class StepResult:
    """One step's verdict; `status` is ok, skipped, book-numpy, FAIL or missing."""

    step: int
    status: str
    detail: str = ""
    seconds: float = 0.0
    output: str = ""  # the last lines it printed
    stdout: str = field(default="", repr=False)  # all of it, for the agreement checks

    @property
    def label(self) -> str:
        if self.status == "book-numpy":
            return f"book's own code fails on numpy >= 2.4: {self.detail}"
        return f"{self.status}: {self.detail}" if self.detail else self.status


def find_steps(checkout) -> dict[int, Path]:
    """stepNN.py files of a checkout of the book's repository; InputError if it is not one."""
    checkout = Path(checkout)
    if not checkout.exists():
        raise InputError(checkout, "no such folder; expected a checkout of the book's repository")
    if not checkout.is_dir():
        raise InputError(checkout, "is a file; expected a checkout of the book's repository")
    steps = {
        int(m.group(1)): p
        for p in (checkout / "steps").glob("step*.py")
        if (m := STEP_FILE.match(p.name))
    }
    if not steps:
        raise InputError(
            checkout, "is not a checkout of the book's repository: no steps/stepNN.py files"
        )
    return dict(sorted(steps.items()))


def prepare(steps: dict[int, Path], workdir: Path) -> Path:
    """Copy the step scripts into `workdir/steps` beside a link to our dezero; return steps/."""
    folder = workdir / "steps"
    folder.mkdir()
    for path in steps.values():
        shutil.copy2(path, folder / path.name)
    (workdir / "dezero").symlink_to(OUR_DEZERO, target_is_directory=True)
    return folder


def _skip_reason(step: int, source: str) -> str | None:
    if step in DOWNLOADS:
        return DOWNLOADS[step]
    if "plot_dot_graph" in source and shutil.which("dot") is None:
        return "draws with Graphviz's `dot`, which is not installed"
    return None


def _defines_unittests(source: str) -> bool:
    """A script of TestCase classes and no `unittest.main()` runs under `python -m unittest`."""
    return "unittest.TestCase" in source and "unittest.main" not in source


def _environment() -> dict:
    """The step's environment: our project first on the path, plots off screen."""
    root = str(OUR_DEZERO.parent)
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path, "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1"}


def _innermost_frame(stderr: str) -> tuple[str, str]:
    """(file, source line) of the last traceback frame in `stderr`, or ('', '')."""
    lines = stderr.splitlines()
    for i in range(len(lines) - 1, -1, -1):
        match = TRACEBACK_FRAME.match(lines[i])
        if match:
            source = lines[i + 1].strip() if i + 1 < len(lines) else ""
            return match.group("file"), source
    return "", ""


def classify(step: int, script: Path, returncode: int, stdout: str, stderr: str) -> tuple:
    """(status, detail) of a finished step from its exit code, output and traceback."""
    last = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit code {returncode}"
    intended = book_expected.INTENDED_ERRORS.get(step)
    if intended is not None:
        if returncode != 0 and last == intended:
            problem = book_expected.check(step, stdout, stderr)
            return ("FAIL", problem) if problem else ("ok", f"raises the book's intended {last}")
        return "FAIL", f"expected the book's intended error '{intended}', got: {last}"
    if returncode != 0:
        where, source = _innermost_frame(stderr)
        in_script = Path(where).name == script.name
        if in_script and NUMPY_SCALAR_ERROR in last:
            return "book-numpy", source
        return "FAIL", last
    problem = book_expected.check(step, stdout, stderr)
    return ("FAIL", problem) if problem else ("ok", "")


def run_step(step: int, folder: Path, timeout: float = STEP_TIMEOUT_S) -> StepResult:
    """Run one copied step script in its own subprocess and judge what it did."""
    script = folder / f"step{step:02d}.py"
    source = script.read_text(errors="replace")
    reason = _skip_reason(step, source)
    if reason:
        return StepResult(step, "skipped", reason)
    command = [sys.executable, script.name]
    if _defines_unittests(source):
        command = [sys.executable, "-m", "unittest", script.stem]
    start = time.perf_counter()
    try:
        # cwd is the temporary copy: what a script writes (plots, DOT files) goes with it.
        done = subprocess.run(
            command, cwd=folder, env=_environment(), capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return StepResult(step, "FAIL", f"no result after {timeout:.0f} s", timeout)
    seconds = time.perf_counter() - start
    status, detail = classify(step, script, done.returncode, done.stdout, done.stderr)
    output = "\n".join(done.stdout.rstrip().splitlines()[-8:])
    return StepResult(step, status, detail, round(seconds, 2), output, done.stdout)


def run_book(checkout, only=None, jobs: int = 1, progress=None) -> list[StepResult]:
    """Every step 1-60 of `checkout` (or those in `only`), each in its own subprocess."""
    steps = find_steps(checkout)
    wanted = sorted(only) if only else list(BOOK_STEPS)
    with tempfile.TemporaryDirectory(prefix="dezero-book-") as workdir:
        folder = prepare({s: p for s, p in steps.items() if s in wanted}, Path(workdir))
        present = [s for s in wanted if s in steps]
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            results = {}
            for result in pool.map(lambda s: run_step(s, folder), present):
                results[result.step] = result
                if progress:
                    progress(result)
    outputs = {s: r.stdout for s, r in results.items() if r.status == "ok"}
    for step, problem in book_expected.disagreements(outputs).items():
        results[step].status, results[step].detail = "FAIL", problem
    missing = [StepResult(s, "missing", "no steps/stepNN.py") for s in wanted if s not in steps]
    return sorted([*results.values(), *missing], key=lambda r: r.step)


def failed(results) -> list[StepResult]:
    """The steps that count against this engine (missing and the book's own errors do not)."""
    return [r for r in results if r.status == "FAIL"]


def as_records(results) -> list[dict]:
    """The results as plain dicts (the `--json` document's `steps`)."""
    records = [{**asdict(r), "label": r.label} for r in results]
    for record in records:
        del record["stdout"]
    return records


def table(results) -> str:
    """The verdicts as a Markdown table (pandas, so the format is the project's one)."""
    import pandas as pd  # the report extra; running the steps needs none

    frame = pd.DataFrame(
        {
            "step": [r.step for r in results],
            "result": [r.label for r in results],
            "seconds": [f"{r.seconds:.2f}" if r.seconds else "" for r in results],
        }
    )
    return frame.to_markdown(index=False)


def summary(results) -> str:
    """One line: how many steps ran ok, were skipped, failed in the book's code, or FAILed."""
    counts = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    names = {"book-numpy": "book's own numpy error"}
    parts = [f"{n} {names.get(s, s)}" for s, n in sorted(counts.items())]
    return f"book steps: {', '.join(parts)}"
