"""Seconds one call of a GradBench evaluation takes, where that decides what a timed run skips.

A timed workload case costs one warm-up call and at least three timed ones, so a single 43 s
call (eager JAX on particle) is three minutes of a run. The pairs below are the ones whose
call is long enough to matter, measured on the 2-core reference machine (float64, one
thread: the median column of `python -m bench workloads --sizes GRID`); a pair not listed
takes well under a second per call at that grid's sizes. A profile's
`max_workload_call_seconds` is the budget `over_budget` holds each pair to; the rows of a
pair over it say so, with the measured cost, instead of going missing. The same table says
which pairs plain `pytest` leaves to `pytest -m slow` (SLOW_AT_QUICK).
"""

from __future__ import annotations

import math

# (evaluation, backend, grid) -> seconds of one call at that grid's largest size, and why it
# is long. Eager JAX dispatches every op of every step, and `jax.grad` inside a solver
# retraces at each call; TensorFlow and Paddle nest eager tapes at every step; tinygrad's
# PYTHON emulator interprets every kernel.
CALLS: dict[tuple[str, str, str], tuple[float, str]] = {
    ("particle", "jax", "default"): (43.5, "eager JAX retraces jax.grad at every Euler step"),
    ("saddle", "jax", "default"): (10.8, "eager JAX retraces jax.grad at every solver step"),
    ("particle", "jax", "quick"): (60.0, "eager JAX retraces jax.grad at every Euler step"),
    ("saddle", "jax", "quick"): (27.0, "eager JAX retraces jax.grad at every solver step"),
    ("ht", "jax", "quick"): (16.0, "eager JAX forms ht's theta Jacobian op by op"),
    ("particle", "tensorflow", "quick"): (
        65.0, "eager tapes nested at every Euler and solver step"),
    ("particle", "paddle", "quick"): (100.0, "eager paddle.grad at every Euler and solver step"),
    ("lstm", "tinygrad", "quick"): (40.0, "tinygrad's PYTHON emulator interprets every kernel"),
}  # fmt: skip
# Tests run a pair whose one call at the quick size takes over this only under `pytest -m
# slow`: its evaluation stays checked in every other engine.
SLOW_TEST_SECONDS = 10.0
SLOW_AT_QUICK = {
    (evaluation, backend): f"{why}: ~{seconds:g} s"
    for (evaluation, backend, grid), (seconds, why) in CALLS.items()
    if grid == "quick" and seconds > SLOW_TEST_SECONDS
}


def call_seconds(evaluation: str, backend: str, grid: str) -> float | None:
    """The measured seconds of one call, or None where the pair is not one of the long ones."""
    seconds, _ = CALLS.get((evaluation, backend, grid), (None, None))
    return seconds


def over_budget(evaluation: str, backend: str, grid: str, budget: float) -> str | None:
    """Why a timed run leaves the pair out at `grid`'s sizes, or None when it fits `budget`."""
    seconds = call_seconds(evaluation, backend, grid)
    if seconds is None or math.isinf(budget) or seconds <= budget:
        return None
    return (
        f"not timed: one call takes ~{seconds:g} s here, over this profile's {budget:g} s per "
        f"call (a warm-up and 3 timed calls would take ~{4 * seconds:.0f} s); "
        "--sizes full times it"
    )
