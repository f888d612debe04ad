"""What every engine's op namespace for GradBench's evaluations shares.

An evaluation (bench.workloads.gradbench) is a function of `ops`; bench.workloads.gradbench.
workload says what it may ask. Each engine's namespace is a subclass of `WorkloadOps` in a
module of its own (`bench.backends.workload_<engine>`), so editing one engine's namespace
changes that engine's workload fingerprints only (`validation.workload_cache`). This module
is what all of them run: keep engine details out of it.
"""

from __future__ import annotations

import numpy as np

# the math every engine spells as numpy does, taken from its module by name
SHARED = ("exp", "log", "sqrt", "sin", "cos", "tanh", "matmul", "reshape")


def loop_scan(step, carry, xs):
    """`carry = step(carry, rows)` for each row of the arrays xs, in a Python loop."""
    for rows in zip(*xs):
        carry = step(carry, rows)
    return carry


class WorkloadOps:
    """The defaults of an engine's namespace: a Python-loop scan, numpy constants, every
    evaluation supported, and a run that is one call of the evaluation.

    A subclass sets `convert_consts` when the evaluation's float constants should become the
    engine's arrays once, at prepare time (saving a conversion per call), or overrides
    `inputs` for a conversion of its own; it overrides
    `unsupported` to say which evaluations the engine cannot express and why, and `run`
    where a call needs more than the evaluation itself (a compile, a context, a restart).
    """

    scan = staticmethod(loop_scan)
    convert_consts = False

    def inputs(self, params, consts):
        """The evaluation's inputs as the engine takes them, converted once at prepare time:
        params as the engine's arrays, the float constants too where `convert_consts`
        (index arrays stay numpy, which most engines index with)."""
        params = [self.const(p) for p in params]
        if self.convert_consts:
            consts = {
                k: self.const(c) if isinstance(c, np.ndarray) and c.dtype.kind == "f" else c
                for k, c in consts.items()
            }
        return params, consts

    @classmethod
    def unsupported(cls, workload) -> str | None:
        """Why this engine cannot run `workload` (a `Workload`), or None when it can."""
        return None

    def run(self, workload, params, consts, prepared):
        """The evaluation's outputs for one call; `prepared` (a PreparedWorkload) takes the
        seconds spent compiling, where there are any, in `compile_seconds`."""
        return workload.run(self, params, consts)
