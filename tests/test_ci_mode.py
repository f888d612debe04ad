"""CI mode (conftest.py): hypothesis derandomised and missing backends failing, only in CI."""

import os
import subprocess
import sys
from pathlib import Path

from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent


def test_hypothesis_is_derandomised_exactly_in_ci():
    assert settings.default.derandomize is (os.environ.get("DEZERO_CI") == "1")


def _run_skipping_test(tmp_path, ci: bool) -> subprocess.CompletedProcess:
    test = tmp_path / "test_skips.py"
    test.write_text(
        "import pytest\n"
        "def test_torch():\n"
        "    pytest.skip(\"could not import 'torch': No module named 'torch'\")\n"
        "def test_graphviz():\n"
        "    pytest.skip(\"Graphviz 'dot' is not installed\")\n"
    )
    env = os.environ | {"DEZERO_CI": "1" if ci else "0", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "conftest", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path), str(test)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_a_missing_backend_fails_in_ci_and_skips_locally(tmp_path):
    ci = _run_skipping_test(tmp_path, ci=True)
    assert ci.returncode == 1, ci.stdout + ci.stderr
    assert "1 failed, 1 skipped" in ci.stdout
    local = _run_skipping_test(tmp_path, ci=False)
    assert local.returncode == 0, local.stdout + local.stderr
    assert "2 skipped" in local.stdout
