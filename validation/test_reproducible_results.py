"""Same inputs, same rows: a seed names the same fuzz programs in any process, and a derived
number of the timing table does not depend on the machine's BLAS."""

import subprocess
import sys
from pathlib import Path

from bench import cli

REPO = Path(__file__).resolve().parent.parent

GENERATE = """
import sys
sys.path.insert(0, sys.argv[1])
if sys.argv[2] == "with":
    import many_constants  # a local module full of numbers hypothesis could mix in
from hypothesis import HealthCheck, Phase, given, seed, settings
from validation.fuzz.programs import dumps, programs

drawn = []
@seed(7)
@settings(max_examples=40, database=None, phases=(Phase.generate,), deadline=None,
          suppress_health_check=list(HealthCheck))
@given(programs())
def collect(program):
    drawn.append(dumps(program, indent=None))
collect()
print("\\n".join(drawn))
"""


def _programs(tmp_path, variant: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", GENERATE, str(tmp_path), variant],
        capture_output=True, text=True, cwd=REPO, timeout=120,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_seed_gives_the_same_programs_whatever_the_process_imported(tmp_path):
    floats = ", ".join(f"{0.05 + i / 97:.6f}" for i in range(40))
    ints = ", ".join(str(100 + 71 * i) for i in range(900))  # hypothesis reads up to 1,024
    (tmp_path / "many_constants.py").write_text(f"FLOATS = [{floats}]\nINTS = [{ints}]\n")
    plain = _programs(tmp_path, "without")
    assert plain.count("\n") >= 30
    assert _programs(tmp_path, "with") == plain


def test_parallel_fuzz_rows_equal_the_in_process_rows(tmp_path):
    argv = ["fuzz", "--programs", "50", "--seed", "1", "--backends", "dezero", "numpy"]
    assert cli.main([*argv, "--out", str(tmp_path / "here")]) == 0
    assert cli.main([*argv, "--jobs", "2", "--out", str(tmp_path / "pool")]) == 0
    rows = (tmp_path / "here" / "rows.csv").read_text()
    assert rows.count("\n") > 300 and (tmp_path / "pool" / "rows.csv").read_text() == rows


def test_the_depth_exponent_is_fitted_without_blas_and_rounded(monkeypatch):
    import math
    from fractions import Fraction

    import numpy as np

    from bench.timing import tables as timing

    def no_blas(*args, **kwargs):
        raise AssertionError("the fit must not go through LAPACK/BLAS")

    monkeypatch.setattr(np.linalg, "lstsq", no_blas)
    depths, seconds = [10, 100, 1000, 10_000], [2.1e-4, 1.9e-3, 2.3e-2, 0.21]
    slope = timing.fit_exponent(depths, seconds)
    # the exact least-squares slope of the logs, in rationals
    xs, ys = [Fraction(math.log(d)) for d in depths], [Fraction(math.log(s)) for s in seconds]
    mx, my = sum(xs) / 4, sum(ys) / 4
    exact = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    assert slope == round(float(exact), timing.EXPONENT_DECIMALS)


def test_the_committed_timing_csv_is_rebuilt_byte_for_byte_from_the_saved_run(tmp_path):
    from bench.files.destinations import RESULTS
    from bench.timing import tables as timing

    raw, _ = timing.load_benchmarks([RESULTS / "benchmark-default-float64.json"])
    csv, _ = timing.write_timing(timing.timing_table(raw), tmp_path)
    assert csv.read_bytes() == (RESULTS / "timing.csv").read_bytes()
