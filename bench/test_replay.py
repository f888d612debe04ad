"""The dezero_replay backend: bitwise the dezero backend on every chain family and dtype,
with its trace timed once per pass like a jit compile."""

import numpy as np
import pytest

from bench.backends import BACKENDS
from bench.chains import FAMILIES, make_chain
from bench.profiles import DTYPES

DEPTHS = (1, 12)


def _cases():
    for family, record in FAMILIES.items():
        for width in (1, 7) if record.elementwise else (4,):
            for depth in (1,) if record.fixed_depth else DEPTHS:
                for dtype in DTYPES:
                    yield pytest.param(
                        family, depth, width, dtype, id=f"{family}-d{depth}-w{width}-{dtype}"
                    )


def _bits(a):
    a = np.asarray(a)
    return a.dtype.str, a.shape, a.tobytes()


@pytest.mark.parametrize(("family", "depth", "width", "dtype"), list(_cases()))
def test_replay_is_bitwise_dezero(family, depth, width, dtype):
    chain = make_chain(family, depth, width, seed=5)
    eager = BACKENDS["dezero"].prepare(chain, DTYPES[dtype])
    replay = BACKENDS["dezero_replay"].prepare(chain, DTYPES[dtype])
    x, params = replay.inputs
    assert _bits(replay.forward(x, params)) == _bits(eager.forward(x, params)), "forward"
    # A second input, not the traced one: replay must not return the example's numbers.
    rng = np.random.default_rng(1)
    x2 = np.asarray(x + rng.uniform(-0.1, 0.1, np.shape(x)), dtype=x.dtype)
    for inputs in ((x, params), (x2, params)):
        value, grads = replay.value_and_grad(*inputs)
        want_value, want_grads = eager.value_and_grad(*inputs)
        assert _bits(value) == _bits(want_value), f"{chain.label} {dtype}: value"
        assert len(grads) == len(want_grads)
        for i, (g, w) in enumerate(zip(grads, want_grads)):
            assert _bits(g) == _bits(w), f"{chain.label} {dtype}: grad {i}"


def test_trace_seconds_are_recorded_once_per_pass():
    prepared = BACKENDS["dezero_replay"].prepare(make_chain("sin", 50, 1))
    assert prepared.compile_seconds == {}
    prepared.value_and_grad(*prepared.inputs)
    first = prepared.compile_seconds["backward"]
    assert first > 0 and "forward" not in prepared.compile_seconds
    prepared.value_and_grad(*prepared.inputs)
    prepared.forward(*prepared.inputs)
    assert prepared.compile_seconds["backward"] == first, "a second call traced again"
    assert prepared.compile_seconds["forward"] > 0
