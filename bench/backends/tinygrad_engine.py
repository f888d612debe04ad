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
# the deepest chain whose graph tinygrad's rewrites handle in a reasonable time here: its
# scheduler and kernel search grow faster than linearly in the number of lazy ops
MAX_OPS = 1_000


def tinygrad_device() -> str:
    """'CPU' where a clang binary can compile tinygrad's kernels, else the PYTHON emulator."""
    return "CPU" if shutil.which("clang") else EMULATOR


class TinygradEngine(Backend):
    name = "tinygrad"
    package = "tinygrad"
    spelling_key = "tinygrad"
    math_library = "tinygrad"
    second_order = True  # `Tensor.gradient` of a gradient works

    def device(self):
        if tinygrad_device() == EMULATOR:
            return devices.Device(
                "cpu", "tinygrad PYTHON emulator, no clang: timings not comparable"
            )
        return devices.cpu()

    def unsupported(self, chain, dtype):
        if np.dtype(dtype) not in (np.dtype(np.float32), np.dtype(np.float64)):
            return f"tinygrad on the CPU is run here in float32/float64, not {np.dtype(dtype).name}"
        if chain.op_count > MAX_OPS:
            return (
                f"tinygrad: {chain.op_count} lazy ops > {MAX_OPS}; its graph rewrites grow "
                f"faster than linearly in the chain length"
            )
        return None

    def prepare(self, chain, dtype=np.float64):
        from tinygrad import Tensor  # optional: absent, available() says so and the suite skips
        from tinygrad.helpers import Context

        ops = self.ops
        device = tinygrad_device()
        # the emulator decomposes sin/exp/log as the CPU device does (see the module docstring)
        settings = {"DEV": device, "TRANSCENDENTAL": 2 if device == EMULATOR else 1}

        def leaf(a):
            return a if isinstance(a, Tensor) else Tensor(a, device=device)

        def native(x, params):
            with Context(**settings):
                return chain.apply(ops, leaf(x), *map(leaf, params)).realize()

        def forward(x, params):
            with Context(**settings):
                return chain.apply(ops, leaf(x), *map(leaf, params)).numpy()

        def record(x, params):
            leaves = [leaf(x), *map(leaf, params)]
            with Context(**settings):
                return leaves, ops.sum(chain.apply(ops, *leaves))

        def value_and_grad(x, params):
            leaves, out = record(x, params)
            with Context(**settings):
                grads = out.gradient(*leaves)
                Tensor.realize(out, *grads)
                return out.numpy(), tuple(g.numpy() for g in grads)

        x, params = cast(chain, dtype)
        with Context(**settings):
            inputs = (leaf(x).realize(), tuple(leaf(p).realize() for p in params))
        return Prepared(forward, value_and_grad, inputs, record=record, native=native)
