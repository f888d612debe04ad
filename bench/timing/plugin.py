"""pytest settings for the benchmark suite (a plugin the root conftest.py loads).

- `pytest --benchmark-only`: the profile named by DEZERO_BENCH_PROFILE (default
  `default`) is timed and its JSON written to results/benchmark-default-float64.json (other
  profiles and dtypes: results/runs/<profile>[-<dtype>]/, see `bench.files.destinations`) unless
  --benchmark-json names another path or the run is filtered with -k/-m.
- plain `pytest`: benchmarks are switched to pytest-benchmark's disabled mode, so every
  benchmark body of the small `ci` grid runs once, as a test that checks results.
  Pass --benchmark-enable to time a plain run anyway.
"""

from pathlib import Path

import numpy as np
import pytest

from bench.backends import BACKENDS, plugins
from bench.files import destinations
from bench.machine import configure, devices, simd, threads
from bench.workloads.profiles import active_dtype, active_profile, plan


def benchmarks_enabled(config) -> bool:
    """Whether this run times benchmarks (False for plain `pytest`)."""
    return not config.getoption("benchmark_disable") or config.getoption("benchmark_enable")


@pytest.hookimpl(tryfirst=True)  # before pytest-benchmark reads its options
def pytest_configure(config):
    configure()  # the suite sets its process up whoever loads it (the root conftest did too)
    plugins.register_from_environment()  # engines of entry points and of the parent's CLI
    try:
        why = devices.unavailable(devices.requested())
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None
    if why:  # a GPU run asked for on a machine without one: say so once, run nothing
        raise pytest.UsageError(f"{devices.DEVICE_ENV}={devices.requested()}: {why}")
    if not config.pluginmanager.hasplugin("benchmark"):
        return
    if not config.getoption("benchmark_only") and not config.getoption("benchmark_skip"):
        config.option.benchmark_disable = True
    # Only an unfiltered run writes the profile's JSON: a `-k` or `-m` subset must not
    # overwrite the committed results of a full run.
    unfiltered = not config.getoption("keyword") and not config.getoption("markexpr")
    if unfiltered and config.getoption("benchmark_only") and not config.getoption("benchmark_json"):
        profile, dtype = active_profile(), np.dtype(active_dtype()).name
        name = f"benchmark-{profile.name}-{dtype}.json"
        # only the default profile in float64 is published; others get their own folder
        explicit_dtype = None if dtype == "float64" else dtype
        publish = destinations.is_published(profile.name, explicit_dtype)
        kind = destinations.run_kind(profile.name, explicit_dtype)
        folder = destinations.output_folder(Path(config.rootpath, "results"), kind, publish)
        folder.mkdir(parents=True, exist_ok=True)
        config.option.benchmark_json = folder / name


def pytest_report_header(config):
    if not config.pluginmanager.hasplugin("benchmark"):
        return None
    profile = active_profile(benchmarks_enabled(config))
    rows = plan(profile, list(BACKENDS))
    run = [seconds for _, reason, seconds in rows if reason is None]
    return (
        f"bench: profile {profile.name}, dtype {np.dtype(active_dtype()).name}, "
        f"{threads.describe()}, device {devices.requested()}; "
        f"{len(run)} of {len(rows)} cases within budget, "
        f"estimated {sum(run):.0f} s of timed work"
    )


def pytest_benchmark_update_machine_info(config, machine_info):
    machine_info["bench_profile"] = active_profile(benchmarks_enabled(config)).name
    machine_info["bench_threads"] = threads.describe()
    machine_info["bench_device"] = devices.requested()
    machine_info["bench_dtype"] = np.dtype(active_dtype()).name
    machine_info["bench_simd"] = simd.levels()  # the kernels' roundings depend on it
    versions, placed = {}, {}
    for name, backend in BACKENDS.items():
        ok, _ = backend.available()
        versions[name] = backend.version() if ok else None
        placed[name] = backend.device().label if ok else None
    machine_info["bench_backend_versions"] = versions
    machine_info["bench_backend_devices"] = placed
