"""Property tests: random registry chains on random in-domain inputs, every engine near the truth.

Hypothesis draws the family, depth and seed (the seed picks the input, uniform on the
family's domain, and for `random` the op program, each op legal on the values it receives).
"""

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bench.backends import BACKENDS
from bench.workloads.chains import FAMILIES, make_chain
from validation.metrics import compare
from validation.reference.chains import dual_reference
from validation.reference.floor import chain_floor
from validation.vocabulary import OK

ENGINES = [b for b in ("dezero", "torch", "jax") if BACKENDS[b].available()[0]]
SCALAR_FAMILIES = [f for f, family in FAMILIES.items() if family.elementwise]
ULP_PER_OP = 4.0


def tolerance_ulp(chain, dtype) -> float:
    """c * op count ULPs, widened by the chain's own rounding sensitivity.

    NOTE: c = 4 ULP per op covers each engine's kernels (within ~1-2 ULP each) and the
    rounding of the derivative product. Chains whose gradient is ill-conditioned (tanh near
    saturation, sin(exp(x)) near a zero of cos) move by far more than that when any single op
    rounds differently; the chain's rounding floor measures that movement and 4x of it is
    allowed.
    """
    return ULP_PER_OP * (chain.op_count + 1) + 4.0 * chain_floor(chain, dtype)["grad"].ulp


@settings(max_examples=30, deadline=None)
# Found by this test: sigmoid(-12.6) computed as tanh(x/2)/2 + 1/2 cancels (35,415 ULP).
@example(family="random", depth=8, seed=25, dtype=np.float64)
@given(
    family=st.sampled_from(SCALAR_FAMILIES),
    depth=st.integers(1, 25),
    seed=st.integers(0, 2**16),
    dtype=st.sampled_from([np.float64, np.float32]),
)
def test_engines_agree_with_reference_and_each_other_within_c_depth_ulps(
    family, depth, seed, dtype
):
    chain = make_chain(family, depth, 1, seed=seed)
    ref = dual_reference(chain, dtype)
    tolerance = tolerance_ulp(chain, dtype)
    x = np.asarray(chain.x, dtype=dtype)
    grads = {}
    for name in ENGINES:
        _, (grad, *_) = BACKENDS[name].prepare(chain, dtype).value_and_grad(x, ())
        grads[name] = np.asarray(grad)
        result = compare(grad, ref.grads[0], dtype)
        if result["flag"] != OK:
            assert result["flag"] == "underflow", (name, result)
            continue
        assert result["max_abs_ulp"] <= tolerance, (name, chain.program, result, tolerance)
    for a in ENGINES:
        for b in ENGINES:
            if a < b:
                gap = compare(grads[a], grads[b].astype(np.longdouble), dtype, at=ref.grads[0])
                assert not gap["max_abs_ulp"] > 2 * tolerance, (a, b, gap, tolerance)
