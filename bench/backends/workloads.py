"""GradBench's evaluations made ready to run in a backend: the interface timing, accuracy
and the CLI code against.

    WORKLOADS                          the evaluations (bench.workloads.gradbench)
    WORKLOAD_BACKENDS                  the backends that run them, named as in BACKENDS
    unsupported(backend, workload)     why a backend cannot run an evaluation, or None
    prepare_workload(backend, workload, size) -> PreparedWorkload, whose `call()` returns the
                                       evaluation's outputs as numpy arrays

Inputs are converted to the backend's arrays at prepare time, so `call()` does only what the
engine needs. jax_jit compiles the whole evaluation (objective and derivatives) on the first
call and keeps its seconds in `compile_seconds`; dezero_replay keeps its tracing seconds
there the same way.
"""

import time

import numpy as np

from bench.backends.workload_ops import workload_ops
from bench.machine import threads
from bench.workloads.gradbench import WORKLOADS

WORKLOAD_BACKENDS: tuple[str, ...] = ("dezero", "dezero_replay", "torch", "jax", "jax_jit",
                                      "autograd")  # fmt: skip
_FLOAT_CONSTS = {"torch", "jax", "jax_jit"}  # engines whose float constants are converted once


def _check_names(backend_name, workload_name):
    if backend_name not in WORKLOAD_BACKENDS:
        raise ValueError(
            f"unknown workload backend {backend_name!r}; known: {', '.join(WORKLOAD_BACKENDS)}"
        )
    if workload_name not in WORKLOADS:
        raise ValueError(f"unknown workload {workload_name!r}; known: {', '.join(WORKLOADS)}")


def unsupported(backend_name: str, workload_name: str) -> str | None:
    """Why `backend_name` cannot run `workload_name`, or None when it can."""
    _check_names(backend_name, workload_name)
    workload = WORKLOADS[workload_name]
    if backend_name == "dezero_replay":
        if workload.data_loop:
            return f"dezero.trace freezes Python control flow, and {workload.data_loop}"
        if workload.nested:
            return f"dezero.trace replays first derivatives only, and {workload.nested}"
    if backend_name == "jax_jit" and workload.data_loop:
        return (
            f"jax.jit cannot branch on traced values, and {workload.data_loop} "
            "(a lax.while_loop version would be a second definition)"
        )
    return None


class PreparedWorkload:
    """One evaluation at one size in one backend, inputs converted; `call()` runs it."""

    __slots__ = ("backend", "workload", "size", "compile_seconds", "_run")

    def __init__(self, backend, workload, size, run):
        self.backend, self.workload, self.size = backend, workload, size
        self.compile_seconds: float | None = None
        self._run = run

    def call(self) -> list[np.ndarray]:
        """The evaluation's outputs (objective then gradients, or its own), as numpy."""
        return self._run(self)

    def __repr__(self):
        label = WORKLOADS[self.workload].size_label(self.size)
        return f"<prepared {self.workload} {label} on {self.backend}>"


def _converted(consts) -> set:
    """The constants converted to the engine's arrays: the float arrays (index arrays stay
    numpy, which every engine indexes with)."""
    return {k for k, c in consts.items() if isinstance(c, np.ndarray) and c.dtype.kind == "f"}


def _native_inputs(backend_name, ops, params, consts, converted):
    """params as the engine's arrays; the `converted` constants too where that saves a copy
    per call."""
    params = [ops.const(p) for p in params]
    if backend_name in _FLOAT_CONSTS:
        consts = {k: ops.const(c) if k in converted else c for k, c in consts.items()}
    return params, consts


def prepare_workload(backend_name, workload_name, size, dtype=np.float64) -> PreparedWorkload:
    """`workload_name` at `size` (one of its grids' dicts) made ready in `backend_name`."""
    _check_names(backend_name, workload_name)
    if np.dtype(dtype) != np.dtype(np.float64):
        raise ValueError(
            f"GradBench's evaluations are defined in float64, got dtype {np.dtype(dtype).name}"
        )
    reason = unsupported(backend_name, workload_name)
    if reason is not None:
        raise ValueError(f"{backend_name} cannot run {workload_name}: {reason}")
    workload = WORKLOADS[workload_name]
    if backend_name == "torch":
        threads.pin_torch()
    ops = workload_ops(backend_name)
    params, consts = workload.inputs(size)
    params = [np.asarray(p, dtype=dtype) for p in params]
    converted = _converted(consts)
    params, consts = _native_inputs(backend_name, ops, params, consts, converted)

    def run_eager(prepared):
        return workload.run(ops, params, consts)

    def run_replay(prepared):
        ops.restart()
        outputs = workload.run(ops, params, consts)
        if prepared.compile_seconds is None:
            prepared.compile_seconds = ops.trace_seconds
        return outputs

    executable = None
    # float arrays are the executable's arguments, not constants folded into it; the rest
    # (sizes, index arrays, det's levels) is static structure
    arrays = {key: c for key, c in consts.items() if key in converted}
    static = {key: c for key, c in consts.items() if key not in arrays}

    def run_jit(prepared):
        nonlocal executable
        import jax

        if executable is None:
            start = time.perf_counter()
            jitted = jax.jit(lambda ps, cs: workload.run(ops, ps, static | cs))
            executable = jitted.lower(params, arrays).compile()
            prepared.compile_seconds = time.perf_counter() - start
        return [np.asarray(a) for a in jax.block_until_ready(executable(params, arrays))]

    run = {"dezero_replay": run_replay, "jax_jit": run_jit}.get(backend_name, run_eager)
    return PreparedWorkload(backend_name, workload_name, size, run)


# (evaluation, backend) pairs whose one call at the quick size takes over 10 s here: eager
# JAX dispatches every op of every step and jax.grad retraces its function at each call.
# Tests run them only under `pytest -m slow`; the timed benchmarks still run them.
SLOW_AT_QUICK = {
    ("particle", "jax"): "eager JAX retraces jax.grad at every Euler step: ~60 s",
    ("ht", "jax"): "eager JAX forms ht's theta Jacobian op by op: ~16 s",
    ("saddle", "jax"): "eager JAX retraces jax.grad at every solver step: ~10-27 s",
}

__all__ = [
    "SLOW_AT_QUICK","WORKLOADS", "WORKLOAD_BACKENDS", "PreparedWorkload", "prepare_workload",
           "unsupported"]  # fmt: skip
