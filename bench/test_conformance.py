"""The conformance kit passes for every built-in adapter and fails, naming the broken part,
for adapters each broken in one way; and its pytest command line works both ways."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench.backends import BACKENDS, conformance
from bench.backends.base import Prepared, cast
from bench.backends.numpy_tape import NumpyTape

ROOT = Path(__file__).resolve().parent.parent


class TestBuiltIns(conformance.Conformance):
    """The whole kit, once per built-in backend."""

    @pytest.fixture(params=list(BACKENDS))
    def adapter(self, request):
        backend = BACKENDS[request.param]
        ok, why = backend.available()
        if not ok:
            pytest.skip(why)
        return backend


class LazyInputs(NumpyTape):
    """Leaves its inputs as float64 whatever the dtype: the timed call would convert them."""

    name = "lazy_inputs"

    def prepare(self, chain, dtype=np.float64):
        prepared = super().prepare(chain, dtype)
        prepared.inputs = cast(chain, np.float64)
        return prepared


class ListGrads(NumpyTape):
    """Returns its gradients as a list of Python lists, not numpy arrays."""

    name = "list_grads"

    def prepare(self, chain, dtype=np.float64):
        inner = super().prepare(chain, dtype)

        def value_and_grad(x, params):
            value, grads = inner.value_and_grad(x, params)
            return value, tuple(np.asarray(g).tolist() for g in grads)

        return Prepared(inner.forward, value_and_grad, inner.inputs)


class Float64Always(NumpyTape):
    """Accepts float32 and quietly computes and returns float64."""

    name = "float64_always"

    def prepare(self, chain, dtype=np.float64):
        inner = super().prepare(chain, np.float64)

        def value_and_grad(x, params):
            return inner.value_and_grad(np.float64(x), tuple(map(np.float64, params)))

        return Prepared(inner.forward, value_and_grad, cast(chain, dtype))


class HalfGradient(NumpyTape):
    """Returns gradients half their true size (a vjp with a lost factor)."""

    name = "half_gradient"

    def prepare(self, chain, dtype=np.float64):
        inner = super().prepare(chain, dtype)

        def value_and_grad(x, params):
            value, grads = inner.value_and_grad(x, params)
            return value, tuple(g / 2 for g in grads)

        return Prepared(inner.forward, value_and_grad, inner.inputs)


class SilentRefusal(NumpyTape):
    """Raises in prepare for float32 though unsupported() said nothing."""

    name = "silent_refusal"

    def prepare(self, chain, dtype=np.float64):
        if np.dtype(dtype) == np.float32:
            raise TypeError("no float32 kernels")
        return super().prepare(chain, dtype)


class EmptyReason(NumpyTape):
    """Refuses float16 without saying why."""

    name = "empty_reason"

    def unsupported(self, chain, dtype):
        return "" if np.dtype(dtype) == np.float16 else None


BROKEN = [
    (LazyInputs, conformance.check_inputs, "inputs: lazy_inputs leaves a float64 input"),
    (ListGrads, conformance.check_outputs, "outputs: list_grads grad 0 is a float, not numpy"),
    (Float64Always, conformance.check_outputs, "outputs: float64_always value is float64"),
    (HalfGradient, conformance.check_matches_reference, "reference: half_gradient grad 0"),
    (SilentRefusal, conformance.check_inputs, "prepare: silent_refusal raised TypeError"),
]


@pytest.mark.parametrize(("adapter", "check", "says"), BROKEN, ids=[b[0].name for b in BROKEN])
def test_the_kit_fails_a_broken_adapter_naming_what_broke(adapter, check, says):
    with pytest.raises(AssertionError, match=says):
        check(adapter(), ("sin", 3, 1), np.float32)


def test_the_kit_fails_a_refusal_without_a_reason():
    with pytest.raises(AssertionError, match="unsupported: empty_reason: a refusal must give"):
        conformance.check_unlisted_dtype(EmptyReason())


def test_the_kit_passes_the_adapter_each_broken_one_started_from():
    for case in conformance.CHAINS:
        for check in (conformance.check_inputs, conformance.check_outputs):
            check(NumpyTape(), case, np.float32)
        conformance.check_matches_reference(NumpyTape(), case, np.float32)
    conformance.check_unlisted_dtype(NumpyTape())


def kit(*argv, tmp_path):
    """`pytest --pyargs bench.backends.conformance ARGV` in a child process, from `tmp_path`
    (not the repository: the options come from `-p`, as for an engine's author)."""
    module = tmp_path / "broken_engine.py"
    module.write_text(
        "from bench.test_conformance import HalfGradient\n\ndef make():\n"
        "    return HalfGradient()\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(tmp_path)])
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
    command += ["-p", "bench.backends.conformance", "--pyargs", "bench.backends.conformance"]
    return subprocess.run(
        [*command, *argv], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_pytest_command_line_passes_a_good_engine_and_fails_a_broken_one(tmp_path):
    good = kit("--backend", "numpy", tmp_path=tmp_path)
    assert good.returncode == 0, good.stdout[-2000:]
    assert "20 passed" in good.stdout
    argv = ["--backend", "half_gradient", "--backend-module", "broken_engine:make"]
    bad = kit(*argv, tmp_path=tmp_path)
    assert bad.returncode == 1, bad.stdout[-2000:]
    assert "6 failed, 14 passed" in bad.stdout
    assert "reference: half_gradient grad 0 of sin-d3-w1 float64 is off" in bad.stdout


class Options:
    """A pytest config holding only the kit's options."""

    def __init__(self, **options):
        self.options = options

    def getoption(self, name, default=None):
        return self.options.get(name, default)


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"backend": "nope", "backend_module": []}, "unknown backend 'nope'; registered: dezero"),
        ({"backend": "x", "backend_module": ["os:nope"]}, "module 'os' has no 'nope'"),
    ],
)
def test_an_unknown_engine_stops_the_kit_in_one_line(options, says):
    with pytest.raises(pytest.UsageError, match=says):
        conformance.pytest_configure(Options(**options))
