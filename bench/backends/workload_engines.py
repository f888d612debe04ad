"""Which engine runs GradBench's evaluations with which op namespace.

An engine offers a namespace through a `workload_ops()` method on its Backend (a plugin
engine writes one: it returns the namespace's class, a `bench.backends.workload_ops.
WorkloadOps`, or None); the built-in adapters predate that method, so their classes are
named here instead. The default workloads run (`make results`) times only DEFAULT_RUN: the
other engines run when named with `--backends`.
"""

from __future__ import annotations

import importlib

# built-in engine -> its namespace class ('module:Class'); every module is imported only when
# its engine runs, and each is part of that engine's fingerprints alone
BUILT_IN = {
    "dezero": "bench.backends.workload_dezero:DezeroOps",
    "dezero_replay": "bench.backends.workload_dezero:DezeroReplayOps",
    "torch": "bench.backends.workload_torch:TorchOps",
    "jax": "bench.backends.workload_jax:JaxOps",
    "jax_jit": "bench.backends.workload_jax:JaxJitOps",
    "autograd": "bench.backends.workload_autograd:AutogradOps",
    "mygrad": "bench.backends.workload_mygrad:MygradOps",
    "paddle": "bench.backends.workload_paddle:PaddleOps",
    "tensorflow": "bench.backends.workload_tensorflow:TensorflowOps",
    "tinygrad": "bench.backends.workload_tinygrad:TinygradOps",
}
DEFAULT_RUN = ("dezero", "dezero_replay", "torch", "jax", "jax_jit", "autograd")


def registered(name: str):
    """The registered backend `name` (plugins loaded first where this process has not yet);
    ValueError naming the known ones otherwise."""
    from bench.backends import plugins  # the registry imports every adapter: only when asked

    try:
        return plugins.lookup(name)
    except KeyError as error:
        raise ValueError(error.args[0]) from None


def namespace_class(name: str) -> type | None:
    """The class of backend `name`'s namespace for GradBench's evaluations, None if it has none."""
    backend = registered(name)
    offer = getattr(backend, "workload_ops", None)
    if callable(offer):
        return offer()
    spec = BUILT_IN.get(name)
    if spec is None:
        return None
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)


def no_namespace(name: str) -> str:
    """The reason a backend without a namespace gives for every evaluation."""
    return (
        f"{name} offers no op namespace for GradBench's evaluations (its Backend has no "
        "workload_ops(), or it returns None; see docs/adding-an-engine.md)"
    )
