"""GradBench's evaluations made ready to run in a backend: the interface timing, accuracy
and the CLI code against.

    WORKLOADS                          the evaluations (bench.workloads.gradbench)
    WORKLOAD_BACKENDS                  the backends the default run times (any registered
                                       backend runs when named: those without an op
                                       namespace get a reason for every evaluation)
    unsupported(backend, workload)     why a backend cannot run an evaluation, or None
    workload_ops(backend)              a fresh op namespace of the backend
    prepare_workload(backend, workload, size) -> PreparedWorkload, whose `call()` returns the
                                       evaluation's outputs as numpy arrays

Inputs are converted to the backend's arrays at prepare time, so `call()` does only what the
engine needs; the namespace's `run` makes the call (jax_jit compiles the whole evaluation on
the first and keeps its seconds in `compile_seconds`, dezero_replay its tracing seconds).
Which namespace an engine has is `bench.backends.workload_engines`' to say.
"""

import numpy as np

from bench.backends.workload_engines import DEFAULT_RUN, namespace_class, no_namespace, registered
from bench.workloads.gradbench import WORKLOADS

# the engines the default run times; any registered engine runs when named (`--backends`)
WORKLOAD_BACKENDS: tuple[str, ...] = DEFAULT_RUN


def _check_names(backend_name, workload_name):
    registered(backend_name)  # ValueError naming the registered backends
    if workload_name not in WORKLOADS:
        raise ValueError(f"unknown workload {workload_name!r}; known: {', '.join(WORKLOADS)}")


def unsupported(backend_name: str, workload_name: str) -> str | None:
    """Why `backend_name` cannot run `workload_name` (not installed here, no namespace, or
    an evaluation its namespace cannot express), or None when it can."""
    _check_names(backend_name, workload_name)
    available, why = registered(backend_name).available()
    if not available:
        return why
    ops_class = namespace_class(backend_name)
    if ops_class is None:
        return no_namespace(backend_name)
    return ops_class.unsupported(WORKLOADS[workload_name])


def workload_ops(backend_name: str):
    """A fresh op namespace of `backend_name` for GradBench's evaluations."""
    ops_class = namespace_class(backend_name)
    if ops_class is None:
        raise ValueError(no_namespace(backend_name))
    return ops_class()


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
    ops = workload_ops(backend_name)
    params, consts = workload.inputs(size)
    params, consts = ops.inputs([np.asarray(p, dtype=dtype) for p in params], consts)

    def run(prepared):
        return ops.run(workload, params, consts, prepared)

    return PreparedWorkload(backend_name, workload_name, size, run)


__all__ = [
    "WORKLOADS", "WORKLOAD_BACKENDS", "PreparedWorkload", "prepare_workload",
           "unsupported", "workload_ops"]  # fmt: skip
