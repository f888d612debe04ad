"""The backend registry: one adapter per framework, keyed by the name used in test ids.

Adapters import their framework only inside `prepare`/`ops`, so a missing package
makes `available()` return (False, reason) and the suite skip, never an import error.
"""

from bench.backends.autograd_hips import AutogradHips
from bench.backends.base import Backend, Prepared
from bench.backends.dezero_eager import DezeroEager
from bench.backends.dezero_replay import DezeroReplay
from bench.backends.jax_eager import JaxEager
from bench.backends.jax_jit import JaxJit
from bench.backends.jax_scan import JaxScan
from bench.backends.numpy_tape import NumpyTape
from bench.backends.torch_eager import TorchEager

BACKENDS: dict[str, Backend] = {
    backend.name: backend
    for backend in (
        DezeroEager(),
        DezeroReplay(),
        NumpyTape(),
        TorchEager(),
        JaxEager(),
        JaxJit(),
        JaxScan(),
        AutogradHips(),
    )
}

__all__ = ["BACKENDS", "Backend", "Prepared"]
