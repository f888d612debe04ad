"""What the three JAX backends share: float64 switched on, device inputs, lazy AOT compile.

JAX's platform is pinned by `bench.machine.devices.configure()` before JAX initialises (the CPU
unless the run asked for the GPU), so its default device is the run's device.
"""

import time

import numpy as np

from bench.backends.base import Backend, cast
from bench.machine import devices


def jax_modules():
    """jax and jax.numpy with `jax_enable_x64` on (float64 is the benchmark default)."""
    import jax  # optional and slow to import: only where a jax backend runs
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    return jax, jnp


class JaxBackend(Backend):
    """Base of the JAX adapters: the same spelling, dtypes and device-side inputs."""

    package = "jax"
    spelling_key = "jax"
    gpu_capable = True
    math_library = "xla"
    second_order = True

    def available(self):
        ok, why = super().available()
        if not ok or devices.requested() == "cpu":
            return ok, why
        try:
            device = devices.jax_device()
        except RuntimeError as error:  # a CPU-only jaxlib asked for CUDA
            return False, f"{self.name}: JAX has no GPU here ({error})"
        if device.platform != "gpu":
            return False, f"{self.name}: JAX runs on {device.label}, not a GPU"
        return True, ""

    def device(self):
        return devices.jax_device()

    @property
    def ops(self):
        jax_modules()  # x64 must be on before the namespace creates any array
        return super().ops

    def unsupported(self, chain, dtype):
        if np.dtype(dtype) not in (np.dtype(np.float32), np.dtype(np.float64)):
            return f"XLA on CPU has no dtype for numpy {np.dtype(dtype).name}"
        return None

    def device_inputs(self, chain, dtype):
        """The chain's inputs as JAX arrays, converted once outside the timed call."""
        _, jnp = jax_modules()
        x, params = cast(chain, dtype)
        return jnp.asarray(x), tuple(jnp.asarray(p) for p in params)


def compiled_on_first_call(fn, compile_seconds: dict, key: str):
    """`jax.jit(fn)`, compiled ahead of time on its first call, the compile timed as `key`.

    Lowering and compiling separately from running means the recorded seconds are the
    compile alone, and every later call runs the same executable.
    """
    jax, _ = jax_modules()
    executable = None

    def call(*args):
        nonlocal executable
        if executable is None:
            start = time.perf_counter()
            executable = jax.jit(fn).lower(*args).compile()
            compile_seconds[key] = time.perf_counter() - start
        return executable(*args)

    return call


def to_numpy(value, grads):
    """(value, grads) as numpy arrays, after waiting for JAX's asynchronous dispatch."""
    jax, _ = jax_modules()
    value, grads = jax.block_until_ready((value, grads))
    return np.asarray(value), tuple(np.asarray(g) for g in grads)
