"""Settings for the whole test run, local or CI.

`DEZERO_CI=1` (set by .ci/run) selects CI mode:
- hypothesis derandomised (the `ci` profile): the same examples on every run, so a red CI is
  reproducible and a green one is not luck; locally (`dev`) every run draws new examples.
- strict backends: a test skipped because a package is missing (torch, jax, ...) fails
  instead, so the cross-checks against torch and jax cannot silently vanish from CI.
"""

import importlib
import os

import pytest
from hypothesis import settings

from bench.machine import configure

# before the suite's plugin or any test module loads numpy, torch or jax (see bench.machine)
configure()

CI = os.environ.get("DEZERO_CI") == "1"
REQUIRED_IN_CI = ("torch", "jax", "autograd", "mygrad")  # the backends `.[all]` installs
MISSING_PACKAGE_WORDS = ("is not installed", "could not import", "No module named")
# the benchmark suite's options, header and machine record; a plugin of the whole run (not a
# conftest of bench/timing/) so it sets pytest-benchmark's options before that plugin reads them;
# and the conformance kit's --backend / --backend-module options
pytest_plugins = ("bench.timing.plugin", "bench.backends.conformance")

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev")
settings.load_profile("ci" if CI else "dev")


def pytest_report_header(config):
    mode = "CI (hypothesis derandomised, missing backends fail)" if CI else "local"
    return f"dezero-bench test mode: {mode}"


def pytest_sessionstart(session):
    if not CI:
        return
    missing = []
    for name in REQUIRED_IN_CI:
        try:
            importlib.import_module(name)
        except ImportError as error:
            missing.append(f"{name} ({error})")
    if missing:
        raise pytest.UsageError(f"DEZERO_CI=1 needs every backend; missing: {', '.join(missing)}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if CI and report.skipped and isinstance(report.longrepr, tuple):
        reason = str(report.longrepr[2])
        missing = any(words in reason for words in MISSING_PACKAGE_WORDS)
        if missing and any(name in reason for name in REQUIRED_IN_CI):
            report.outcome = "failed"
            report.longrepr = f"DEZERO_CI=1: a missing backend is a failure, not a skip: {reason}"
