"""The backend registry: one adapter per framework, keyed by the name used in test ids.

Adapters of the optional frameworks import them only inside `prepare`/`ops`, so a missing
package makes `available()` return (False, reason) and the suite skip, never an import error.
"""

from bench.backends.autograd_hips import AutogradHips
from bench.backends.base import Backend, Prepared
from bench.backends.dezero_eager import DezeroEager
from bench.backends.dezero_replay import DezeroReplay
from bench.backends.jax_eager import JaxEager
from bench.backends.jax_jit import JaxJit
from bench.backends.jax_scan import JaxScan
from bench.backends.mygrad_engine import MygradEngine
from bench.backends.numpy_tape import NumpyTape
from bench.backends.paddle_eager import PaddleEager
from bench.backends.tensorflow_tape import TensorflowTape
from bench.backends.tinygrad_engine import TinygradEngine
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
        # engines written elsewhere, each an optional extra; paddle before tensorflow, so a
        # run over the registry imports paddle first (the order in which both load)
        MygradEngine(),
        PaddleEager(),
        TensorflowTape(),
        TinygradEngine(),
    )
}
# the engine every table's ratios are taken against, and its first column
REFERENCE_BACKEND = "dezero"


def backend_order(backends) -> list[str]:
    """dezero first, then the registry's order, then anything else alphabetically."""
    known = [REFERENCE_BACKEND, *(b for b in BACKENDS if b != REFERENCE_BACKEND)]
    present = set(backends)
    return [b for b in known if b in present] + sorted(present - set(known))


__all__ = ["BACKENDS", "Backend", "Prepared"]
