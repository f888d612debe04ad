"""tinygrad backend: lazy tensors, realised (scheduled, compiled, run) when read back.

tinygrad's CPU device compiles each kernel with a `clang` binary (its flags are clang's:
`--target=...`, and its C uses clang's `ext_vector_type`, so gcc cannot stand in). Where no
`clang` is on PATH the adapter runs on tinygrad's PYTHON device, an interpreter of the same
kernels: right for accuracy, useless for speed, so its device name says its timings are not
comparable. On that device sin, exp and log are decomposed into tinygrad's own polynomial
kernels (TRANSCENDENTAL=2), which is what the CPU device always runs (its C renderer has no
native sin, exp2 or log2): the accuracy measured is the CPU device's, up to the FMA
contractions clang -O2 may make.
"""

import shutil

import numpy as np

from bench.backends.base import Backend, Prepared, cast
from bench.machine import devices

EMULATOR = "PYTHON"
# the longest chain tinygrad compiles in reasonable time: it fuses the chain into one kernel,
# and lowering it grows faster than linearly (a 100-op sin chain, each sin a polynomial:
# over 40 s on the shared 2-core machine)
MAX_OPS = 100


def tinygrad_device() -> str:
    """'CPU' where a clang binary can compile tinygrad's kernels, else the PYTHON emulator."""
    return "CPU" if shutil.which("clang") else EMULATOR


def settings() -> dict:
    """tinygrad's context for every call: the device, and on the emulator the CPU device's
    polynomial sin/exp/log (see the module docstring)."""
    device = tinygrad_device()
    return {"DEV": device, "TRANSCENDENTAL": 2 if device == EMULATOR else 1}


def tinygrad_leaf(a):
    """`a` as a tinygrad Tensor on the run's device (a Tensor is returned as it is)."""
    from tinygrad import Tensor

    if isinstance(a, Tensor):
        return a
    # a 0-d Tensor is a constant without a device, read back through the CPU device (which
    # needs clang): a 1-element buffer viewed as 0-d stays on the run's device
    return Tensor(np.reshape(a, -1), device=tinygrad_device()).reshape(np.shape(a))


def tinygrad_numpy(t) -> np.ndarray:
    """`t` read back as numpy; a constant (a linear chain's gradient) has no device and would
    be read through the CPU device, so it is placed on the run's device first."""
    return (t if t.device is not None else t.clone(tinygrad_device())).numpy()


class TinygradEngine(Backend):
    name = "tinygrad"
    package = "tinygrad"
    spelling_key = "tinygrad"
    math_library = "tinygrad"
    second_order = True  # `Tensor.gradient` of a gradient works

    def device(self):
        if tinygrad_device() == EMULATOR:
            note = "tinygrad's PYTHON emulator, no clang: timings not comparable"
            return devices.Device("cpu", f"{devices.cpu_name()} ({note})")
        return devices.cpu()

    def unsupported(self, chain, dtype):
        if np.dtype(dtype) not in (np.dtype(np.float32), np.dtype(np.float64)):
            return f"tinygrad on the CPU is run here in float32/float64, not {np.dtype(dtype).name}"
        if chain.op_count > MAX_OPS:
            return (
                f"tinygrad: {chain.op_count} ops > {MAX_OPS}; it compiles the chain as one "
                f"kernel, in time growing faster than linearly in its length"
            )
        return None

    def prepare(self, chain, dtype=np.float64):
        from tinygrad import Tensor  # optional: absent, available() says so and the suite skips
        from tinygrad.helpers import Context

        ops = self.ops
        context = settings()
        leaf = tinygrad_leaf

        def native(x, params):
            with Context(**context):
                return chain.apply(ops, leaf(x), *map(leaf, params)).realize()

        def forward(x, params):
            with Context(**context):
                return tinygrad_numpy(chain.apply(ops, leaf(x), *map(leaf, params)))

        def record(x, params):
            leaves = [leaf(x), *map(leaf, params)]
            with Context(**context):
                return leaves, ops.sum(chain.apply(ops, *leaves))

        def value_and_grad(x, params):
            leaves, out = record(x, params)
            with Context(**context):
                grads = out.gradient(*leaves)
                Tensor.realize(out, *grads)
                return tinygrad_numpy(out), tuple(map(tinygrad_numpy, grads))

        x, params = cast(chain, dtype)
        with Context(**context):
            inputs = (leaf(x).realize(), tuple(leaf(p).realize() for p in params))
        return Prepared(forward, value_and_grad, inputs, record=record, native=native)
