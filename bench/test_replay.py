"""The dezero_replay backend: bitwise the dezero backend on every chain family and dtype,
with its trace timed once per pass like a jit compile."""

import numpy as np
import pandas as pd
import pytest

from bench.backends import BACKENDS
from bench.experiments import replay_ratio
from bench.workloads.chains import FAMILIES, make_chain
from bench.workloads.profiles import DTYPES

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


def test_replay_ratio_view_divides_replay_by_each_peer_and_the_trace_by_an_eager_call():
    rows = [
        ("dezero_replay", 1.0, 1e-3, 0.004),
        ("numpy", 0.5, 5e-4, float("nan")),
        ("dezero", 4.0, 4e-3, float("nan")),
        ("jax_jit", 0.1, 1e-4, 0.8),
    ]
    table = pd.DataFrame(
        [
            {"depth": 1000, "backend": b, "us_per_op": u, "call_s": c, "one_off_s": o}
            for b, u, c, o in rows
        ]
    )
    view = replay_ratio.ratio_view(table)
    assert view.loc[1000, "replay/numpy"] == pytest.approx(2.0)
    assert view.loc[1000, "replay/dezero"] == pytest.approx(0.25)
    assert view.loc[1000, "replay/jax_jit"] == pytest.approx(10.0)
    assert view.loc[1000, "trace/eager_call"] == pytest.approx(1.0)
    assert view.loc[1000, "jax_jit_compile_s"] == pytest.approx(0.8)


def test_replay_ratio_depth_table_times_every_available_backend_and_the_trace():
    backends = ("dezero_replay", "numpy", "dezero")
    table = replay_ratio.depth_table(depths=(300,), repeats=1, backends=backends)
    assert set(table["backend"]) == {"dezero_replay", "numpy", "dezero"}
    assert (table["us_per_op"] > 0).all()
    by_backend = table.set_index("backend")
    assert by_backend.loc["dezero_replay", "one_off_s"] > 0, "the median trace"
    assert by_backend.loc["dezero_replay", "first_s"] > 0, "the first trace"
    assert np.isnan(by_backend.loc["numpy", "one_off_s"]), "numpy has nothing to trace"


def test_replay_ratio_refuses_a_depth_below_one(capsys):
    with pytest.raises(SystemExit) as exit_info:
        replay_ratio.main(["--depths", "0"])
    assert exit_info.value.code == 2
    assert "--depths" in capsys.readouterr().err


def test_replay_ratio_wide_case_compares_time_and_numpy_peaks():
    r = replay_ratio.wide_ratio(repeats=1, width=1000, backends=("dezero_replay", "numpy"))
    assert r["replay/numpy_time"] == pytest.approx(r["ms_dezero_replay"] / r["ms_numpy"])
    assert r["peak_mb_dezero_replay"] > 0 and r["replay/numpy_peak"] > 0
