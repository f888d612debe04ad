"""The reference and the rounding floor of one GradBench evaluation case, cached in-process.

A case is an evaluation at one size. Its outputs are read as quantities: "objective" and
"gradient" (every param's gradient, concatenated) where `run` returns the objective and its
gradients; "result" where it returns one array made from derivatives (kmeans' Newton
direction, the points the nested solvers of saddle and particle stop at). Every backend of a
sweep is compared with the same cached reference, and the gate reads the same cached floor.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from bench.workloads.gradbench import WORKLOADS
from validation.reference.floor import REPLAY_TRIALS, replay_floor
from validation.reference.workloads import run_reference

LONGDOUBLE_BITS = np.finfo(np.longdouble).nmant + 1
QUANTITIES = ("objective", "gradient", "result")
# Replays of a solver differentiated through a solver (saddle, particle): each is a whole
# nested solve under rounding (3.5 s for particle's quick size), so two rather than
# REPLAY_TRIALS. A floor is the largest move over its replays, so fewer replays can only
# shrink it and tighten the gate, never pass an error the full count would fail; at the
# quick sizes two give particle's floor exactly (315 ULP) and saddle's within 2x (12.6
# against 20.3 ULP), while the backends are at most 9 ULP from the reference.
SOLVER_REPLAYS = 2


def quantities(outputs) -> dict[str, np.ndarray]:
    """A case's outputs by quantity (see the module doc)."""
    outputs = [np.asarray(o) for o in outputs]
    if len(outputs) == 1:
        return {"result": outputs[0].ravel()}
    return {
        "objective": outputs[0].ravel(),
        "gradient": np.concatenate([o.ravel() for o in outputs[1:]]),
    }


def size_key(size: dict) -> tuple:
    """A size as a hashable cache key (its items, in order)."""
    return tuple((k, tuple(v) if isinstance(v, list | tuple) else v) for k, v in size.items())


def _size(key: tuple) -> dict:
    return dict(key)


@dataclass(frozen=True)
class WorkloadReference:
    """The exact quantities of a case (np.longdouble) and how they were made."""

    quantities: dict
    kind: str


@functools.lru_cache(maxsize=64)
def workload_reference(name: str, key: tuple) -> WorkloadReference:
    """The reference of evaluation `name` at the size `size_key` gave."""
    outputs, second_order = run_reference(WORKLOADS[name], _size(key))
    kind = "longdouble tape" + (", complex step over reverse" if second_order else "")
    return WorkloadReference(quantities(outputs), kind)


@functools.lru_cache(maxsize=64)
def workload_floor(name: str, key: tuple, dtype_name: str = "float64") -> dict:
    """quantity -> `validation.reference.floor.Floor` of the case at `dtype`: the reference's
    own run against REPLAY_TRIALS runs (SOLVER_REPLAYS for a nested solver) with every op's
    result and every gradient term rounded half an ULP differently (gradient terms too: a
    gradient here sums many terms of both signs, as the fuzzer's programs do)."""
    workload, size = WORKLOADS[name], _size(key)
    replays = SOLVER_REPLAYS if workload.nested and workload.data_loop else REPLAY_TRIALS

    def run(noise):
        if noise is None:
            return workload_reference(name, key).quantities
        return quantities(run_reference(workload, size, noise)[0])

    return replay_floor(run, np.dtype(dtype_name), replays)
