"""The benchmark suite: backend x family x depth x width x pass, every chain written once.

`pytest --benchmark-only` times the active profile (see `bench.workloads.profiles`); plain `pytest`
runs each body once on the `ci` grid and checks every backend against the numpy tape.
Each benchmark's `group` is the work (e.g. 'sin-d1000-w1-backward') so the backends line
up; `extra_info` carries op_count, so time / op_count gives the per-op figure, and the
device the backend ran on (`bench.machine.devices`).
"""

from functools import lru_cache

import numpy as np
import pytest

from bench.backends import BACKENDS
from bench.machine import devices, threads
from bench.timing.memory import METHODS, graph_bytes_per_node
from bench.timing.plugin import benchmarks_enabled
from bench.timing.progress import requested_families
from bench.workloads.chains import make_chain
from bench.workloads.profiles import active_dtype, active_profile, cases, rounds, skip_reason

# NOTE: backends differ from numpy by a few ulps per op (their own sin/exp/tanh and
# matmul summation order), compounded over at most 30 ops on the ci grid.
TOLERANCE = {np.dtype(np.float64): (1e-10, 1e-12), np.dtype(np.float32): (2e-4, 1e-5)}


def pytest_generate_tests(metafunc):
    profile = active_profile(benchmarks_enabled(metafunc.config))
    if "case" in metafunc.fixturenames:
        grid = cases(profile, list(BACKENDS), requested_families())
        metafunc.parametrize("case", grid, ids=[case.id for case in grid])
    if "memory_backend" in metafunc.fixturenames:
        depth = profile.memory_depth
        metafunc.parametrize(
            ("memory_backend", "memory_depth"),
            [(name, depth) for name in METHODS],
            ids=[f"sin-d{depth}-w1-{name}" for name in METHODS],
        )


@pytest.fixture(scope="session")
def profile(request):
    return active_profile(benchmarks_enabled(request.config))


@lru_cache(maxsize=2)
def _chain(family, depth, width):
    return make_chain(family, depth, width)


@lru_cache(maxsize=len(BACKENDS) + 1)  # one chain's backends, reused across both passes
def _prepared(backend, family, depth, width, dtype):
    return BACKENDS[backend].prepare(_chain(family, depth, width), dtype)


def _run_skips(backend, case, profile, dtype):
    ok, why = backend.available()
    if not ok:
        pytest.skip(why)
    reason = skip_reason(case, profile)  # never, in the `ci` profile: its budget is unbounded
    if reason:
        pytest.skip(reason)
    why = backend.unsupported(_chain(case.family, case.depth, case.width), dtype)
    if why:
        pytest.skip(why)


def _assert_matches_numpy(case, result, dtype):
    """The stage-named check a ci run makes: forward output, then value and gradients."""
    chain = _chain(case.family, case.depth, case.width)
    reference = _prepared("numpy", case.family, case.depth, case.width, dtype)
    x, params = reference.inputs
    rtol, atol = TOLERANCE[np.dtype(dtype)]
    if case.pass_ == "forward":
        np.testing.assert_allclose(
            result, reference.forward(x, params), rtol, atol,
            err_msg=f"{case.id}: forward output differs from the numpy tape",
        )  # fmt: skip
        return
    value, grads = result
    ref_value, ref_grads = reference.value_and_grad(x, params)
    np.testing.assert_allclose(
        value, ref_value, rtol, atol, err_msg=f"{case.id}: value sum(output) differs from numpy"
    )
    assert len(grads) == 1 + len(chain.params), f"{case.id}: {len(grads)} gradients returned"
    for i, (grad, ref) in enumerate(zip(grads, ref_grads, strict=True)):
        assert np.shape(grad) == np.shape(ref), f"{case.id}: grad[{i}] shape {np.shape(grad)}"
        np.testing.assert_allclose(
            grad, ref, rtol, atol, err_msg=f"{case.id}: grad[{i}] differs from numpy"
        )


# NOTE: autograd's tanh gradient is 1/cosh(x)**2, whose cosh overflows (to the right
# answer, 0) for |x| > 710 in `random` chains; the warning is autograd's, not a failure.
@pytest.mark.filterwarnings("ignore:overflow encountered in cosh:RuntimeWarning")
def test_chain(case, benchmark, profile):
    """Time one pass of one chain in one backend (ci profile: run it once and check it)."""
    dtype = active_dtype()
    backend = BACKENDS[case.backend]
    _run_skips(backend, case, profile, dtype)
    prepared = _prepared(case.backend, case.family, case.depth, case.width, dtype)
    run = prepared.forward if case.pass_ == "forward" else prepared.value_and_grad
    x, params = prepared.inputs
    device = backend.device()
    assert devices.platform_of(x) == device.platform, f"{case.id}: input not on {device.label}"
    timing = not benchmark.disabled
    if timing:
        run(x, params)  # the one untimed warm-up call; jit backends compile here
    count, iterations = rounds(case, profile)
    benchmark.group = case.group
    result = benchmark.pedantic(run, args=(x, params), rounds=count, iterations=iterations)
    benchmark.extra_info.update(
        backend=case.backend,
        backend_version=backend.version(),
        family=case.family,
        depth=case.depth,
        width=case.width,
        elements=case.elements,
        op_count=case.op_count,
        dtype=np.dtype(dtype).name,
        threads=threads.describe(),
        device=device.platform,
        device_name=device.name,
        profile=profile.name,
        compile_seconds=prepared.compile_seconds.get(case.pass_),
        **{"pass": case.pass_},
    )
    if not timing:
        _assert_matches_numpy(case, result, dtype)


def test_graph_memory(memory_backend, memory_depth, benchmark, profile):
    """Bytes of recorded graph per op on a scalar sin chain, stored in extra_info."""
    ok, why = BACKENDS[memory_backend].available()
    if not ok:
        pytest.skip(why)
    benchmark.group = f"graph-memory-sin-d{memory_depth}-w1"
    per_node = benchmark.pedantic(
        graph_bytes_per_node, args=(memory_backend, memory_depth), rounds=1, iterations=1
    )
    benchmark.extra_info.update(
        backend=memory_backend,
        backend_version=BACKENDS[memory_backend].version(),
        device=BACKENDS[memory_backend].device().platform,
        device_name=BACKENDS[memory_backend].device().name,
        family="sin",
        depth=memory_depth,
        width=1,
        op_count=memory_depth,
        dtype="float64",
        graph_bytes_per_node=per_node,
        memory_method=METHODS[memory_backend],
        **{"pass": "record"},
    )
    # A node holds at least its 8-byte output; 10 kB per scalar op would be a leak. RSS growth
    # (torch) cannot see the lower bound at a small depth: a 1,000-op graph (~0.8 MB) can fit
    # in heap pages an earlier test left resident (measured 4 B/node once, in CI), so there
    # it only has to be no shrinkage.
    low = 8 if METHODS[memory_backend] == "tracemalloc" else 0
    assert low <= per_node < 10_000, f"{memory_backend}: {per_node:.0f} bytes per graph node"
