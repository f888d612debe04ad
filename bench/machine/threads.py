"""One thread for every backend by default, so timings compare engines, not core counts.

The environment variables must be set before numpy, torch or jax load their thread
pools, which is why the entry points call `bench.machine.configure()` first. Set
DEZERO_BENCH_THREADS=all to leave every library on its own default (all cores).

- BLAS (numpy's OpenBLAS, torch's MKL/OpenMP): OMP_NUM_THREADS, OPENBLAS_NUM_THREADS,
  MKL_NUM_THREADS; if numpy was imported before us, those came too late, and the loaded
  BLAS and OpenMP pools are limited through threadpoolctl instead.
- XLA: `--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1` in XLA_FLAGS.
- torch: `torch.set_num_threads(1)`, applied by the torch backend via `pin_torch()`.
- TensorFlow: TF_NUM_INTRAOP_THREADS and TF_NUM_INTEROP_THREADS, read when its runtime starts.
"""

import os
import sys

from bench.files.inputs import UsageError

THREADS_ENV = "DEZERO_BENCH_THREADS"
_BLAS_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_TF_VARS = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")
_XLA_SINGLE = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def all_cores() -> bool:
    """True when the user opted in to every core with DEZERO_BENCH_THREADS=all."""
    value = os.environ.get(THREADS_ENV, "1").strip().lower()
    if value not in ("1", "all"):
        raise ValueError(f"{THREADS_ENV} must be '1' or 'all', got {value!r}")
    return value == "all"


def describe() -> str:
    """The thread setting in words, for benchmark metadata."""
    return "all cores" if all_cores() else "1 thread"


def check() -> None:
    """A bad DEZERO_BENCH_THREADS as a UsageError (the CLI: one line, exit 2)."""
    try:
        all_cores()
    except ValueError as error:
        raise UsageError(str(error)) from None


def configure() -> None:
    """Pin BLAS and XLA to one thread unless DEZERO_BENCH_THREADS=all.

    A bad DEZERO_BENCH_THREADS does not fail `bench.machine.configure()`: it pins one thread and
    the value stays, so `check()` names it where the run starts.
    """
    try:
        if all_cores():
            return
    except ValueError:
        pass
    for var in (*_BLAS_VARS, *_TF_VARS):
        os.environ.setdefault(var, "1")
    xla_flags = os.environ.get("XLA_FLAGS", "")
    if "xla_cpu_multi_thread_eigen" not in xla_flags:
        os.environ["XLA_FLAGS"] = f"{xla_flags} {_XLA_SINGLE}".strip()
    if "numpy" in sys.modules:
        # numpy's BLAS read OPENBLAS_NUM_THREADS when it loaded, before us: limit the pools
        # it already started (without a `with`, the limit stays for the whole process)
        from threadpoolctl import threadpool_limits  # the bench extra; needed only here

        threadpool_limits(limits=1)


def pin_torch() -> None:
    """torch reads no environment after import, so its pools are set here."""
    import torch  # optional; called only by the torch backend and the experiments

    if not all_cores():
        torch.set_num_threads(1)
