"""The adapter contract as tests an engine's author runs before the harness trusts the engine.

Run it on a registered engine (built-in, entry point, or named with --backend-module):

    pytest --pyargs bench.backends.conformance --backend NAME [--backend-module MOD:FACTORY]

(from outside this repository add `-p bench.backends.conformance`, which declares the two
options), or subclass `Conformance` in your own tests with `backend = MyBackend()`.

What it checks, on a few small chains at every dtype the adapter does not refuse:
- inputs are converted at prepare time: every leaf of `Prepared.inputs` already has the
  dtype, and running on them gives exactly what running on numpy arrays gives;
- outputs come back as numpy arrays of that dtype and of the inputs' shapes;
- `value_and_grad` matches the numpy tape (`bench.backends.numpy_tape`) in float64;
- a dtype the project does not use (float16) is refused with a reason or honoured;
- every refusal (`available()`, `unsupported()`) is one non-empty line.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from bench.backends import plugins
from bench.backends.base import Backend, Prepared
from bench.backends.numpy_tape import NumpyTape
from bench.workloads.chains import make_chain
from bench.workloads.profiles import DTYPES

# (family, depth, width): one elementwise chain, one with matmul and params, one of mixed ops
CHAINS = (("sin", 3, 1), ("mlp", 2, 3), ("random", 6, 2))
# NOTE: chains of at most 6 ops: a few roundings each, far inside these relative tolerances
RTOL = {"float64": 1e-10, "float32": 1e-4, "float16": 2e-2}
UNLISTED_DTYPE = np.float16  # a dtype no run uses: the adapter must refuse it or honour it


def pytest_addoption(parser):
    group = parser.getgroup("dezero-bench conformance")
    group.addoption("--backend", default=None, help="registered engine the kit checks")
    group.addoption(
        "--backend-module",
        action="append",
        default=[],
        metavar="MODULE:FACTORY",
        help="register this engine first (as the command line's --backend-module)",
    )


def pytest_configure(config):
    """An unknown --backend or a bad --backend-module stops the run in one line."""
    name = config.getoption("backend", default=None)
    if name is None:
        return
    try:
        plugins.load_entry_points()
        plugins.load_modules(config.getoption("backend_module"))
        plugins.lookup(name)
    except (plugins.PluginError, KeyError) as error:
        raise pytest.UsageError(error.args[0]) from None


def reason_problem(reason) -> str | None:
    """What is wrong with a refusal's reason, or None when it is one non-empty line."""
    if not isinstance(reason, str) or not reason.strip():
        return f"a refusal must give a reason, got {reason!r}"
    if "\n" in reason.strip():
        return f"a reason must be one line, got {reason!r}"
    return None


def leaves(inputs) -> list:
    """The arrays in `Prepared.inputs`, nested tuples (stacked params) flattened."""
    out, stack = [], [inputs]
    while stack:
        item = stack.pop()
        if isinstance(item, (tuple, list)):
            stack.extend(reversed(item))
        else:
            out.append(item)
    return out


_PREPARED: dict[tuple, tuple[Backend, Prepared]] = {}  # (id(backend), case, dtype) -> ...


def prepare(backend: Backend, case, dtype) -> Prepared:
    """`backend.prepare` of the kit chain `case`, whose refusal must have come from
    `unsupported()` instead; the checks of one case share it (a jit compiles once)."""
    key = (id(backend), case, np.dtype(dtype).name)
    if key in _PREPARED:
        return _PREPARED[key][1]
    chain = chain_of(case)
    try:
        prepared = backend.prepare(chain, dtype)
    except Exception as error:
        raise AssertionError(
            f"prepare: {backend.name} raised {type(error).__name__}: {error} on {chain.label} "
            f"{np.dtype(dtype).name}, but unsupported() gave no reason"
        ) from error
    assert isinstance(prepared, Prepared), (
        f"prepare: {backend.name} returned {type(prepared).__name__}, not Prepared"
    )
    if len(_PREPARED) >= 32:
        _PREPARED.clear()
    _PREPARED[key] = (backend, prepared)  # the backend too: its id stays its own
    return prepared


@lru_cache(maxsize=len(CHAINS) + 1)
def chain_of(case: tuple):
    """The kit's chain `case` = (family, depth, width)."""
    return make_chain(*case)


def numpy_inputs(chain, dtype):
    return np.asarray(chain.x, dtype=dtype), tuple(np.asarray(p, dtype=dtype) for p in chain.params)


def check_inputs(backend: Backend, case, dtype) -> None:
    """Prepared inputs carry the dtype already, and give what numpy inputs give."""
    chain, prepared = chain_of(case), prepare(backend, case, dtype)
    name = np.dtype(dtype).name
    assert isinstance(prepared.inputs, tuple) and len(prepared.inputs) == 2, (
        f"inputs: {backend.name} Prepared.inputs must be (x, params), got {prepared.inputs!r:.80}"
    )
    for leaf in leaves(prepared.inputs):
        held = str(getattr(leaf, "dtype", type(leaf).__name__))
        assert held.endswith(name), (
            f"inputs: {backend.name} leaves a {held} input for {name} "
            f"({chain.label}): convert at prepare time, not in the timed call"
        )
    x, params = numpy_inputs(chain, dtype)
    value, grads = prepared.value_and_grad(x, params)
    native_value, native_grads = prepared.value_and_grad(*prepared.inputs)
    for stage, got, want in (("value", native_value, value), *zip(
        [f"grad {i}" for i in range(len(grads))], native_grads, grads, strict=True
    )):  # fmt: skip
        assert np.array_equal(np.asarray(got), np.asarray(want)), (
            f"inputs: {backend.name} {stage} on Prepared.inputs differs from the same "
            f"numbers given as numpy ({chain.label} {name})"
        )


def check_outputs(backend: Backend, case, dtype) -> None:
    """value_and_grad and forward return numpy arrays of the dtype and the right shapes."""
    chain, prepared = chain_of(case), prepare(backend, case, dtype)
    name = np.dtype(dtype).name
    x, params = numpy_inputs(chain, dtype)
    value, grads = prepared.value_and_grad(x, params)
    got = [("value", value, ())]
    assert isinstance(grads, tuple), f"outputs: {backend.name} grads must be a tuple"
    assert len(grads) == 1 + len(params), (
        f"outputs: {backend.name} gave {len(grads)} gradients for {1 + len(params)} inputs"
    )
    got += [(f"grad {i}", g, np.shape(a)) for i, (g, a) in enumerate(zip(grads, (x, *params)))]
    got.append(("forward", prepared.forward(x, params), None))
    for stage, array, shape in got:
        assert isinstance(array, (np.ndarray, np.generic)), (
            f"outputs: {backend.name} {stage} is a {type(array).__name__}, not numpy "
            f"({chain.label} {name})"
        )
        assert array.dtype == np.dtype(dtype), (
            f"outputs: {backend.name} {stage} is {array.dtype}, declared {name} ({chain.label})"
        )
        if shape is not None:
            assert np.shape(array) == shape, (
                f"outputs: {backend.name} {stage} has shape {np.shape(array)}, expected {shape}"
            )


def check_matches_reference(backend: Backend, case, dtype) -> None:
    """value and every gradient agree with the numpy tape run in float64 on the same inputs."""
    chain, prepared = chain_of(case), prepare(backend, case, dtype)
    name = np.dtype(dtype).name
    x, params = numpy_inputs(chain, dtype)
    value, grads = prepared.value_and_grad(x, params)
    ref = NumpyTape().prepare(chain, np.float64)
    want_value, want_grads = ref.value_and_grad(
        x.astype(np.float64), tuple(p.astype(np.float64) for p in params)
    )
    rtol = RTOL.get(name, RTOL["float16"])
    pairs = [("value", value, want_value)]
    pairs += [(f"grad {i}", g, w) for i, (g, w) in enumerate(zip(grads, want_grads, strict=True))]
    for stage, got, want in pairs:
        got = np.asarray(got, dtype=np.float64)
        scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
        error = float(np.max(np.abs(got - want), initial=0.0)) / scale
        assert np.shape(got) == np.shape(want) and error <= rtol, (
            f"reference: {backend.name} {stage} of {chain.label} {name} is off the numpy tape "
            f"by {error:.3g} (relative to its scale), more than {rtol:g}"
        )


def check_unlisted_dtype(backend: Backend) -> None:
    """float16 is refused with a reason, or runs and comes back as float16."""
    reason = backend.unsupported(chain_of(CHAINS[0]), UNLISTED_DTYPE)
    if reason is not None:
        problem = reason_problem(reason)
        assert problem is None, f"unsupported: {backend.name}: {problem}"
        return
    check_outputs(backend, CHAINS[0], UNLISTED_DTYPE)


def check_reasons(backend: Backend) -> None:
    """available() is (bool, reason) and every refusal of a kit chain is one line."""
    result = backend.available()
    assert isinstance(result, tuple) and len(result) == 2, (
        f"available: {backend.name} must return (bool, reason), got {result!r}"
    )
    ok, why = result
    if not ok:
        problem = reason_problem(why)
        assert problem is None, f"available: {backend.name}: {problem}"
    for case in CHAINS:
        for dtype in DTYPES.values():
            reason = backend.unsupported(chain_of(case), dtype)
            problem = None if reason is None else reason_problem(reason)
            assert problem is None, f"unsupported: {backend.name}: {problem}"


CASES = [(case, dtype) for case in CHAINS for dtype in DTYPES]
CASE_IDS = [f"{family}-d{depth}-w{width}-{dtype}" for (family, depth, width), dtype in CASES]


class Conformance:
    """The kit as a test class: subclass it with `backend = YourBackend()`, or run this module
    with `--backend NAME`."""

    backend: Backend | None = None

    @pytest.fixture
    def adapter(self, request) -> Backend:
        backend = self.backend
        if backend is None:
            name = request.config.getoption("backend", default=None)
            if name is None:
                pytest.skip("no engine to check: pass --backend NAME or set `backend`")
            backend = plugins.lookup(name)  # checked by pytest_configure
        ok, why = backend.available()
        if not ok:
            pytest.skip(why)
        return backend

    @staticmethod
    def _run(check, backend, case, dtype):
        chain = chain_of(case)
        reason = backend.unsupported(chain, DTYPES[dtype])
        if reason is not None:
            pytest.skip(f"{backend.name} refuses {chain.label} {dtype}: {reason}")
        check(backend, case, DTYPES[dtype])

    @pytest.mark.parametrize(("case", "dtype"), CASES, ids=CASE_IDS)
    def test_inputs_are_converted_at_prepare_time(self, adapter, case, dtype):
        self._run(check_inputs, adapter, case, dtype)

    @pytest.mark.parametrize(("case", "dtype"), CASES, ids=CASE_IDS)
    def test_outputs_are_numpy_of_the_declared_dtype(self, adapter, case, dtype):
        self._run(check_outputs, adapter, case, dtype)

    @pytest.mark.parametrize(("case", "dtype"), CASES, ids=CASE_IDS)
    def test_value_and_grad_match_the_numpy_tape(self, adapter, case, dtype):
        self._run(check_matches_reference, adapter, case, dtype)

    def test_an_unlisted_dtype_is_refused_with_a_reason_or_honoured(self, adapter):
        check_unlisted_dtype(adapter)

    def test_every_refusal_is_one_line(self, adapter):
        check_reasons(adapter)


class TestConformance(Conformance):
    """What `pytest --pyargs bench.backends.conformance --backend NAME` collects."""
