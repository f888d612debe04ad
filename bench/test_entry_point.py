"""An engine in its own installable package reaches the harness through its entry point alone.

The package is written to a temporary folder, installed with pip into another one
(`--target`: no venv touched, nothing downloaded), and a fresh process with that folder on
its path lists the engine and runs a chain through it.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PYPROJECT = """
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "tape-engine"
version = "0.3.1"

[project.entry-points."dezero_bench.backends"]
tape = "tape_engine:make"

[tool.setuptools]
py-modules = ["tape_engine"]
"""

ADAPTER = '''
"""A third-party engine: the numpy tape under another name."""

from bench.backends.numpy_tape import NumpyTape


class TapeEngine(NumpyTape):
    name = "tape_engine"
    distribution = "tape-engine"


def make():
    return TapeEngine()
'''

CHAIN = """
import numpy as np
from bench.backends import plugins
from bench.workloads.chains import make_chain

plugins.load_entry_points()
chain = make_chain("sin", 3, 1)
prepared = plugins.lookup("tape_engine").prepare(chain)
value, (grad,) = prepared.value_and_grad(*prepared.inputs)
h, want_grad = chain.x, 1.0
for _ in range(3):  # d sin(h) = cos(h) dh, layer by layer (a product in another order)
    h, want_grad = np.sin(h), want_grad * np.cos(h)
print(value == h, np.isclose(grad, want_grad, rtol=1e-14, atol=0))
"""


def run(*argv, path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(path)])
    return subprocess.run(
        [sys.executable, *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The folder `tape-engine` was pip-installed into."""
    source = tmp_path_factory.mktemp("tape-engine")
    (source / "pyproject.toml").write_text(PYPROJECT)
    (source / "tape_engine.py").write_text(textwrap.dedent(ADAPTER))
    target = tmp_path_factory.mktemp("site")
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation"]
    pip += ["--no-index", "--target", str(target), str(source)]
    result = subprocess.run(pip, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return target


def test_backends_lists_the_installed_engine_from_its_entry_point(installed):
    result = run("-m", "bench", "backends", "--json", "--backends", "tape_engine", path=installed)
    assert result.returncode == 0, result.stderr[-2000:]
    (row,) = json.loads(result.stdout)
    assert row["source"] == "entry point" and row["spec"] == "tape_engine:make"
    assert row["version"] == "0.3.1"  # read from the installed distribution's metadata
    assert row["available"] and row["dtypes"] == ["float64", "float32"]


def test_a_chain_runs_through_the_installed_engine(installed):
    result = run("-c", CHAIN, path=installed)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["True", "True"]
