"""The machine a run is set up on: threads, device, allocator and SIMD levels.

Nothing here acts on import. `configure()` sets the process up; the entry points call it (the
CLI, each `python -m bench.experiments.*`, the root conftest.py and the suite's plugin).
"""

from bench.machine import allocator, devices, threads


def configure() -> None:
    """Pin every numerical library to one thread (DEZERO_BENCH_THREADS=all: every core), pin
    JAX to the requested device (DEZERO_BENCH_DEVICE, default cpu) and fix glibc's malloc
    thresholds, equally for every backend. Call it before numpy, torch or jax load where the
    entry point can (after, it still limits the pools they started); calling it again is
    harmless."""
    threads.configure()
    devices.configure()
    allocator.keep_freed_memory()
