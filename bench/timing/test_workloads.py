"""GradBench's evaluations timed per backend: `pytest --benchmark-only -k workloads`.

One benchmark per evaluation x size x backend: the evaluation's whole output (objective and
gradient, or its defined results) from inputs converted once, in float64, on one thread
(`bench.machine.configure`). One untimed warm-up call comes first; for jax_jit it compiles,
and the compile seconds go to `extra_info`, apart from the timed calls. The sizes are the
grid of the active profile (`bench.workloads.grids`); under plain `pytest` (benchmarks
disabled) each body of the quick grid runs once and its results are checked against torch's.
A backend that cannot express an evaluation skips with its reason, and so does a pair whose one
call is measured over the profile's per-call budget (`bench.workloads.workload_costs`).
"""

from __future__ import annotations

import time
from functools import lru_cache

import numpy as np
import pytest

from bench.backends.plugins import lookup
from bench.backends.workloads import WORKLOADS, prepare_workload, unsupported
from bench.machine import threads
from bench.timing.plugin import benchmarks_enabled
from bench.timing.workload_suite import workload_cases
from bench.workloads.grids import GRID_OF_PROFILE, active_filter, input_elements
from bench.workloads.profiles import active_profile
from bench.workloads.workload_costs import SLOW_AT_QUICK, over_budget

DTYPE = np.float64
TARGET_SECONDS = 0.25  # timed work per case: rounds = this / one warm-up call, clamped
MIN_ROUNDS, MAX_ROUNDS = 3, 50
CHECK_AGAINST = "torch"
NOT_COMPARABLE = "not comparable"  # in a device's name: its timings measure an emulator
# NOTE: engines sum in different orders (matmul, logsumexp); 1e-9 relative is far above
# those roundings on the quick sizes and far below any wrong gradient.
RTOL, ATOL = 1e-9, 1e-12


def pytest_generate_tests(metafunc):
    if "workload_case" in metafunc.fixturenames:
        profile = active_profile(benchmarks_enabled(metafunc.config))
        wanted = active_filter()
        grid = workload_cases(
            GRID_OF_PROFILE[profile.name], wanted.get("evals"), wanted.get("backends")
        )
        timed = benchmarks_enabled(metafunc.config)
        params = [
            pytest.param(
                case,
                id=case.id,
                marks=[pytest.mark.slow]
                if not timed and (case.evaluation, case.backend) in SLOW_AT_QUICK
                else [],
            )
            for case in grid
        ]
        metafunc.parametrize("workload_case", params)


@lru_cache(maxsize=1)  # the reference of one case, shared by its backends under plain pytest
def _reference(evaluation, label):
    size = next(
        s for s in WORKLOADS[evaluation].quick if WORKLOADS[evaluation].size_label(s) == label
    )
    return prepare_workload(CHECK_AGAINST, evaluation, size, DTYPE).call()


def _assert_matches_reference(case, results):
    reference = _reference(case.evaluation, case.label)
    assert len(results) == len(reference), f"{case.id}: {len(results)} results"
    for i, (got, want) in enumerate(zip(results, reference, strict=True)):
        assert np.shape(got) == np.shape(want), f"{case.id}: result {i} shape {np.shape(got)}"
        np.testing.assert_allclose(
            got, want, RTOL, ATOL, err_msg=f"{case.id}: result {i} differs from {CHECK_AGAINST}"
        )


def test_workload(workload_case, benchmark):
    """Time one evaluation at one size in one backend (plain pytest: run once and check)."""
    case = workload_case
    backend = lookup(case.backend)  # a plugin engine registers from the parent's specs
    ok, why = backend.available()
    if not ok:
        pytest.skip(why)
    why = unsupported(case.backend, case.evaluation)
    if why:
        pytest.skip(why)
    timing = not benchmark.disabled
    if timing:
        profile = active_profile()
        why = over_budget(case.evaluation, case.backend, GRID_OF_PROFILE[profile.name],
                          profile.max_workload_call_seconds)  # fmt: skip
        if why:
            pytest.skip(why)
    prepared = prepare_workload(case.backend, case.evaluation, case.size, DTYPE)
    rounds = 1
    if timing:
        start = time.perf_counter()
        prepared.call()  # the untimed warm-up: jit backends compile here
        first = time.perf_counter() - start - (prepared.compile_seconds or 0.0)
        rounds = int(np.clip(TARGET_SECONDS / max(first, 1e-9), MIN_ROUNDS, MAX_ROUNDS))
    benchmark.group = f"workload-{case.evaluation}-{case.label}"
    results = benchmark.pedantic(prepared.call, rounds=rounds, iterations=1)
    params, consts = WORKLOADS[case.evaluation].inputs(case.size)
    benchmark.extra_info.update(
        workload=True,
        evaluation=case.evaluation,
        size=case.label,
        size_index=case.size_index,
        elements=input_elements(params, consts),
        backend=case.backend,
        backend_version=backend.version(),
        device=backend.device().platform,
        dtype=np.dtype(DTYPE).name,
        threads=threads.describe(),
        compile_seconds=prepared.compile_seconds,
    )
    device_name = backend.device().name
    if NOT_COMPARABLE in device_name:  # tinygrad's PYTHON emulator: the row says so
        benchmark.extra_info["timing_note"] = device_name
    if not timing and case.backend != CHECK_AGAINST:
        _assert_matches_reference(case, results)
