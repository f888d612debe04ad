"""The adapters of engines written elsewhere (mygrad, paddle, tensorflow, tinygrad).

Where an engine is installed its value and gradients must match the numpy tape on small
chains, in both dtypes; where it is not, those tests skip with the adapter's reason. The
checks of what each adapter declares (dtypes, device, load order) need no engine at all.
"""

import shutil
import sys
import types

import numpy as np
import pytest

from bench.backends import BACKENDS, tinygrad_engine
from bench.backends.paddle_eager import LOAD_ORDER
from bench.cli.fuzz import FUZZ_BACKENDS
from bench.machine import devices
from bench.workloads.chains import make_chain

ENGINES = ("mygrad", "paddle", "tensorflow", "tinygrad")
# NOTE: the engines' own sin/exp/tanh and summation orders differ from numpy's by a few ulps
# per op; these chains have at most ~40 ops.
TOLERANCE = {np.dtype(np.float64): (1e-11, 1e-13), np.dtype(np.float32): (5e-4, 1e-5)}
# depth 3, width 3: every family's ops, small enough for tinygrad's emulator (each new chain
# compiles a kernel); tinygrad runs a few families only, the same primitives
FAMILIES = ("seed", "sin", "tanh", "sin_exp", "gauss", "diamond", "mlp", "random", "twist")
TINYGRAD_FAMILIES = ("seed", "gauss", "mlp")
CASES = [
    (name, family, dtype)
    for name in ENGINES
    for family in (TINYGRAD_FAMILIES if name == "tinygrad" else FAMILIES)
    for dtype in ("float64", "float32")
]


def _engine(name):
    backend = BACKENDS[name]
    ok, why = backend.available()
    if not ok:
        pytest.skip(why)
    return backend


@pytest.mark.parametrize(("name", "family", "dtype"), CASES, ids=["-".join(c) for c in CASES])
def test_engine_value_and_grad_match_the_numpy_tape(name, family, dtype):
    backend = _engine(name)
    dtype = np.dtype(dtype)
    chain = make_chain(family, 3, 3)
    assert backend.unsupported(chain, dtype) is None, f"{name} refuses {chain.label} {dtype}"
    prepared = backend.prepare(chain, dtype)
    reference = BACKENDS["numpy"].prepare(chain, dtype)
    rtol, atol = TOLERANCE[dtype]
    x, params = prepared.inputs
    out = prepared.forward(x, params)
    assert isinstance(out, np.ndarray) and out.dtype == dtype, f"forward: {type(out)}"
    np.testing.assert_allclose(
        out, reference.forward(*reference.inputs), rtol, atol, err_msg=f"{name}: forward"
    )
    value, grads = prepared.value_and_grad(x, params)
    ref_value, ref_grads = reference.value_and_grad(*reference.inputs)
    np.testing.assert_allclose(value, ref_value, rtol, atol, err_msg=f"{name}: value")
    assert len(grads) == len(ref_grads), f"{name}: {len(grads)} gradients"
    for i, (grad, ref) in enumerate(zip(grads, ref_grads, strict=True)):
        assert isinstance(grad, np.ndarray) and grad.dtype == dtype, f"grad[{i}]: {grad.dtype}"
        assert grad.shape == np.shape(ref), f"{name}: grad[{i}] shape {grad.shape}"
        np.testing.assert_allclose(grad, ref, rtol, atol, err_msg=f"{name}: grad[{i}]")


@pytest.mark.parametrize("name", ["paddle", "tensorflow", "tinygrad"])
def test_engine_inputs_are_converted_once_at_prepare_time(name):
    """The prepared inputs are the engine's own tensors (not numpy), so a timed call does not
    convert them; a second call on them gives the same gradients (nothing accumulates)."""
    backend = _engine(name)
    prepared = backend.prepare(make_chain("sin", 2, 3), np.float64)
    x, params = prepared.inputs
    assert not isinstance(x, np.ndarray), f"{name}: input left as numpy"
    assert devices.platform_of(x) == "cpu"
    first = prepared.value_and_grad(x, params)[1][0]
    second = prepared.value_and_grad(x, params)[1][0]
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("name", ENGINES)
def test_engine_declares_what_it_cannot_run(name):
    """float16 is no dtype of the benchmark: every adapter refuses it with a reason naming it."""
    why = BACKENDS[name].unsupported(make_chain("sin", 1, 1), np.float16)
    assert why and "float16" in why, why


def test_tinygrad_refuses_a_chain_longer_than_it_compiles():
    why = BACKENDS["tinygrad"].unsupported(make_chain("sin", 101, 1), np.float64)
    assert why and "101 ops" in why, why
    assert BACKENDS["tinygrad"].unsupported(make_chain("sin", 100, 1), np.float64) is None


def test_tinygrad_without_clang_runs_its_emulator_and_says_timings_are_not_comparable(
    monkeypatch,
):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert tinygrad_engine.settings() == {"DEV": "PYTHON", "TRANSCENDENTAL": 2}
    device = BACKENDS["tinygrad"].device()
    assert device.platform == "cpu" and "not comparable" in device.name, device
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    assert tinygrad_engine.settings() == {"DEV": "CPU", "TRANSCENDENTAL": 1}
    assert BACKENDS["tinygrad"].device() == devices.cpu()


def test_paddle_refuses_to_load_after_tensorflow(monkeypatch):
    """Importing paddle after tensorflow kills the interpreter: the adapter says so instead."""
    monkeypatch.setitem(sys.modules, "tensorflow", types.ModuleType("tensorflow"))
    monkeypatch.delitem(sys.modules, "paddle", raising=False)
    assert BACKENDS["paddle"].available() == (False, LOAD_ORDER)


def test_registry_and_fuzzer_reach_paddle_before_tensorflow():
    for order in (list(BACKENDS), list(FUZZ_BACKENDS)):
        assert order.index("paddle") < order.index("tensorflow"), order


@pytest.mark.parametrize(
    ("device", "platform"),
    [
        ("/job:localhost/replica:0/task:0/device:CPU:0", "cpu"),
        ("/job:localhost/replica:0/task:0/device:GPU:0", "gpu"),
        ("PYTHON", "cpu"),
        ("CPU", "cpu"),
        ("CUDA", "gpu"),
    ],
)
def test_platform_of_reads_a_device_named_by_a_string(device, platform):
    assert devices.platform_of(types.SimpleNamespace(device=device)) == platform


def test_platform_of_reads_a_paddle_place():
    def tensor(cpu):
        return types.SimpleNamespace(place=types.SimpleNamespace(is_cpu_place=lambda: cpu))

    assert devices.platform_of(tensor(True)) == "cpu"
    assert devices.platform_of(tensor(False)) == "gpu"
