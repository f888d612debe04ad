"""`python -m bench book`: the book's step scripts, run unmodified from the reader's checkout.

The book's code is not in this repository. `test_the_books_checkout_runs` runs every step of
a checkout named by $DEZERO_BOOK_DIR and skips without one (CI has none); the other tests
check the runner itself with small scripts written here, in a fake checkout whose own
`dezero/` refuses to be imported.
"""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.book import expected as book_expected
from bench.book import steps as book

ROOT = Path(__file__).resolve().parents[1]
BOOK_DIR = os.environ.get("DEZERO_BOOK_DIR")
APPEND_PARENT = "import os, sys\nsys.path.append(os.path.join(os.path.dirname(__file__), '..'))\n"


def _bench(*args, cwd=ROOT):
    command = [sys.executable, "-m", "bench", *map(str, args)]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture
def checkout(tmp_path):
    """A fake checkout: steps/ beside a `dezero/` that exits loudly if imported."""
    root = tmp_path / "book"
    (root / "steps").mkdir(parents=True)
    (root / "dezero").mkdir()
    (root / "dezero" / "__init__.py").write_text(
        "raise SystemExit('the book dezero was imported')\n"
    )

    class Checkout(type(root)):
        def write(self, step, body):
            (self / "steps" / f"step{step:02d}.py").write_text(body)

    return Checkout(root)


@pytest.mark.skipif(not BOOK_DIR, reason="set DEZERO_BOOK_DIR to a checkout of the book's repo")
def test_the_books_checkout_runs(tmp_path):
    report = tmp_path / "book.json"
    run = _bench("book", BOOK_DIR, "--jobs", "2", "--json", report)
    assert run.returncode == 0, run.stdout + run.stderr
    steps = {s["step"]: s for s in json.loads(report.read_text())["steps"]}
    assert set(steps) == set(range(1, 61))
    assert steps[7]["status"] == "ok" and steps[7]["output"] == "3.297442541400256"
    assert {s for s, r in steps.items() if r["status"] == "skipped"} >= set(book.DOWNLOADS)
    assert all(steps[s]["status"] == "book-numpy" for s in (59, 60))
    assert not [s for s, r in steps.items() if r["status"] not in ("ok", "skipped", "book-numpy")]


def test_steps_import_this_projects_dezero_never_the_books(checkout):
    checkout.write(31, APPEND_PARENT + "import dezero\nprint(dezero.__file__)\n")
    (result,) = book.run_book(checkout, only=[31])
    assert result.status == "ok", result
    assert Path(result.output).resolve() == ROOT / "dezero" / "__init__.py"


def test_a_step_that_prints_the_wrong_number_fails_and_exits_1(checkout, tmp_path):
    checkout.write(7, APPEND_PARENT + "from dezero import Variable\nprint(3.3)\n")
    checkout.write(11, APPEND_PARENT + "import dezero\nprint(2 + 3)\n")
    report = tmp_path / "out.json"
    run = _bench("book", checkout, "--steps", 7, 11, "--json", report)
    assert run.returncode == 1, run.stdout + run.stderr
    steps = {s["step"]: s for s in json.loads(report.read_text())["steps"]}
    assert steps[7]["status"] == "FAIL" and "expected [3.297" in steps[7]["detail"]
    assert steps[11]["status"] == "ok"
    assert "| 7 | FAIL" in " ".join(run.stdout.split())


def test_a_failure_inside_our_dezero_is_a_fail_not_the_books_numpy_error(checkout):
    numpy_error = "import numpy as np\nfloat(np.ones((1, 1)))\n"
    checkout.write(59, numpy_error)
    checkout.write(60, APPEND_PARENT + "import dezero.functions as F\nF.reshape(None, None)\n")
    by_step = {r.step: r for r in book.run_book(checkout, only=[59, 60])}
    assert by_step[59].status == "book-numpy"
    assert by_step[59].label == "book's own code fails on numpy >= 2.4: float(np.ones((1, 1)))"
    assert by_step[60].status == "FAIL"


def test_step_9_is_ok_only_when_it_raises_the_intended_error(checkout):
    intended = book_expected.INTENDED_ERRORS[9]
    kind, message = intended.split(": ", 1)
    checkout.write(9, f"print({2 * math.exp(0.5)!r})\nraise {kind}({message!r})\n")
    (result,) = book.run_book(checkout, only=[9])
    assert result.status == "ok", result
    checkout.write(9, "print(0)\n")
    (result,) = book.run_book(checkout, only=[9])
    assert result.status == "FAIL" and "intended error" in result.detail


def test_unittest_scripts_run_under_unittest(checkout):
    checkout.write(
        10,
        "import unittest\n\nclass T(unittest.TestCase):\n    def test_a(self):\n"
        "        self.assertEqual(1 + 1, 2)\n",
    )
    (result,) = book.run_book(checkout, only=[10])
    assert result.status == "ok", result
    checkout.write(
        10,
        "import unittest\n\nclass T(unittest.TestCase):\n    def test_a(self):\n"
        "        self.assertEqual(1 + 1, 3)\n",
    )
    (result,) = book.run_book(checkout, only=[10])
    assert result.status == "FAIL"


def test_downloads_and_missing_graphviz_are_skipped_with_a_reason(checkout, monkeypatch):
    checkout.write(51, "raise SystemExit(1)\n")
    checkout.write(26, "from dezero.utils import plot_dot_graph\n")
    monkeypatch.setattr(book.shutil, "which", lambda name: None)
    by_step = {r.step: r for r in book.run_book(checkout, only=[26, 51])}
    assert by_step[51].label == "skipped: downloads MNIST"
    assert "Graphviz" in by_step[26].label and by_step[26].status == "skipped"


def test_steps_missing_from_the_checkout_are_listed_not_failed(checkout):
    checkout.write(1, "print(1.0)\nprint(2.0)\n")
    results = book.run_book(checkout, only=[1, 2])
    assert [(r.step, r.status) for r in results] == [(1, "ok"), (2, "missing")]
    assert not book.failed(results)


@pytest.mark.parametrize(
    "args, words",
    [
        (["book", "/no/such/folder"], "no such folder"),
        (["book", "README.md"], "is a file"),
        (["book", "."], "no steps/stepNN.py"),
        (["book", ".", "--steps", "0"], "from 1 to 60"),
        (["book", ".", "--jobs", "0"], "positive integer"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, words):
    run = _bench(*args)
    assert run.returncode == 2 and words in run.stderr and len(run.stderr.splitlines()) == 1


def test_json_to_a_folder_is_refused_before_any_step_runs(checkout, tmp_path):
    checkout.write(1, "open('ran', 'w')\n")
    run = _bench("book", checkout, "--json", tmp_path)
    assert run.returncode == 2 and "is a folder" in run.stderr
    assert run.stdout == ""


def test_goldstein_price_gradient_fact_is_the_exact_derivative():
    mpmath = pytest.importorskip("mpmath")

    def goldstein(x, y):
        a = 1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2)
        b = 30 + (2 * x - 3 * y) ** 2 * (18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2)
        return a * b

    exact = [mpmath.diff(goldstein, (1, 1), order) for order in ((1, 0), (0, 1))]
    assert book_expected.check(24, "variable(-5376.0) variable(8064.0)\n", "") is None
    assert [float(v) for v in exact] == [-5376.0, 8064.0]


@pytest.mark.parametrize(
    "step, right, wrong",
    [
        (7, "3.297442541400256\n", "3.2974425\n"),
        (4, "4.000000000004\n3.2974426293330694\n", "4.0001\n3.2974426293330694\n"),
        (29, "7 variable(1.0)\n8 variable(1.0)\n9 variable(1.0)\n", "9 variable(1.1)\n"),
        (
            54,
            "[1. 1. 1. 1. 1.]\nvariable([2. 0. 2. 0. 0.])\nvariable([1. 1. 1. 1. 1.])\n",
            "[1. 1. 1. 1. 1.]\nvariable([1. 0. 2. 0. 0.])\nvariable([1. 1. 1. 1. 1.])\n",
        ),
        (
            48,
            "epoch 1, loss 1.10\nepoch 300, loss 0.13\n",
            "epoch 1, loss 1.10\nepoch 300, loss 0.9\n",
        ),
    ],
)
def test_expectations_accept_the_fact_and_reject_a_near_miss(step, right, wrong):
    assert book_expected.check(step, right, "") is None
    assert book_expected.check(step, wrong, "") is not None


def test_the_numpy_replicas_reach_what_the_math_says():
    W, b, loss = book_expected._linear_regression()
    assert 1.5 < W < 2.5 and 5 < b < 6  # y = 5 + 2x + U(0, 1): slope 2, intercept 5.5
    losses = book_expected._sigmoid_regression()
    assert losses[-1] < book_expected.NOISE_VARIANCE < losses[0]
    assert book_expected._newton_quartic()[-1] == 1.0
    x0, x1 = book_expected._rosenbrock_descent()
    assert 0.6 < x0 < 1 and 0.3 < x1 < 1  # on the way down the valley to (1, 1)


def test_steps_of_one_computation_must_agree():
    same = "variable(0.25)\nvariable(0.07)\n"
    assert book_expected.disagreements({44: same, 45: same, 46: same}) == {}
    problems = book_expected.disagreements({44: same, 45: same, 46: "variable(0.08)\n"})
    assert list(problems) == [46]
