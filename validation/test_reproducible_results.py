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
from validation.fuzz_programs import dumps, programs

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
