"""What every backend adapter offers, and the one place op spellings become callables.

A backend turns a `Chain` into a `Prepared`: `forward(x, params)` returns the chain
output and `value_and_grad(x, params)` returns `(sum(output), grads)` where `grads` is a
tuple of numpy arrays, d/dx first, then one per param. Both accept numpy arrays of the
prepared dtype, or the backend-native arrays in `Prepared.inputs` (converted once, at
prepare time, so the timed call only does what the framework inherently needs).
`Backend.device()` says where the backend runs (see `bench.machine.devices`).
"""

import importlib
import importlib.metadata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from types import SimpleNamespace

import numpy as np

from bench.machine import devices, simd
from bench.workloads.chains import Chain
from bench.workloads.ops import OPS


@dataclass
class Prepared:
    """A chain made ready to run in one backend at one dtype.

    `compile_seconds` maps a pass ('forward', 'backward') to the seconds its first call
    spent tracing and compiling (jit backends only; filled on that first call).
    `record(x, params)`, where offered, runs the forward pass with the graph recorded and
    returns an object that keeps the graph alive (used to measure graph memory).
    `native(x, params)` is `forward` returning the framework's own array (a Variable, a JAX
    array, a tensor) before it becomes numpy, so tests can see where it lives; it defaults
    to `forward` for the backends whose output is numpy already.
    """

    forward: Callable
    value_and_grad: Callable
    inputs: tuple
    compile_seconds: dict[str, float] = field(default_factory=dict)
    record: Callable | None = None
    native: Callable | None = None

    def __post_init__(self):
        if self.native is None:
            self.native = self.forward


def resolve(dotted: str):
    """The object a dotted name like 'jax.numpy.multiply' names (longest importable prefix)."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(f"cannot import any module prefix of {dotted!r}")


def namespace(spelling_key: str) -> SimpleNamespace:
    """The op namespace a chain runs on: registry names mapped to `spelling_key`'s functions."""
    return SimpleNamespace(**{name: resolve(op.spelled(spelling_key)) for name, op in OPS.items()})


def cast(chain: Chain, dtype) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """The chain's input and params as numpy arrays of `dtype` (0-d arrays stay arrays)."""
    return (
        np.asarray(chain.x, dtype=dtype),
        tuple(np.asarray(p, dtype=dtype) for p in chain.params),
    )


class Backend:
    """Base adapter: availability, version, op namespace; subclasses write `prepare`."""

    name: str = ""
    package: str = ""  # the import whose absence makes this backend skip
    distribution: str = ""  # the installed distribution whose version is reported
    spelling_key: str = ""  # which `Op.spelling` entry names this backend's ops
    gpu_capable: bool = False  # whether a GPU run (`--device gpu`) moves it to the GPU
    math_library: str = "numpy"  # whose CPU kernels round its ops (`bench.machine.simd.LIBRARIES`)
    second_order: bool = False  # whether the engine differentiates its own gradients (hvp)

    def available(self) -> tuple[bool, str]:
        """(True, '') when the framework imports, else (False, why) so callers can skip."""
        try:
            importlib.import_module(self.package)
        except ImportError as error:
            return False, f"{self.name}: package {self.package!r} is not installed ({error})"
        return True, ""

    def version(self) -> str:
        """The framework's installed version, for benchmark metadata."""
        try:
            return importlib.metadata.version(self.distribution or self.package)
        except importlib.metadata.PackageNotFoundError:
            module = importlib.import_module(self.package)
            return str(getattr(module, "__version__", "unknown"))

    def device(self) -> devices.Device:
        """Where this backend runs in this process: the CPU, unless overridden."""
        return devices.cpu()

    def simd_level(self) -> str:
        """The SIMD level whose kernels round this backend's results here ('' off the CPU)."""
        return simd.describe(self.math_library) if self.device().platform == "cpu" else ""

    @cached_property
    def ops(self) -> SimpleNamespace:
        """The namespace chains are applied with (`ops.sin`, `ops.matmul`, ...)."""
        return namespace(self.spelling_key)

    def unsupported(self, chain: Chain, dtype) -> str | None:
        """Why this backend cannot run `chain` at `dtype`, or None when it can."""
        return None

    def prepare(self, chain: Chain, dtype=np.float64) -> Prepared:
        raise NotImplementedError(f"backend {self.name!r} does not implement prepare")

    def fuzz_runner(self) -> Callable | None:
        """The fuzzer's runner for an engine outside the registry (see validation.fuzz.backends:
        `runner(program, arrays, direction) -> (value, grads, hvp)`), or None: chains only."""
        return None

    def __repr__(self):
        return f"<backend {self.name}>"
