"""What the op namespaces of engines with a numpy-like module share (jax.numpy,
autograd.numpy, mygrad): the shared math, and the reductions, joins and transpose, each
taken from that module under numpy's name and keywords. An engine's own module keeps what
it spells differently (its constants, logsumexp, derivatives)."""

from __future__ import annotations

from bench.backends.workload_ops import SHARED, WorkloadOps


class NumpyApiOps(WorkloadOps):
    """A namespace whose arrays follow numpy's API through `module`."""

    def __init__(self, module):
        self._np_api = module
        for op in SHARED:
            setattr(self, op, getattr(module, op))

    def sum(self, x, axis=None):
        return self._np_api.sum(x, axis=axis)

    def min(self, x, axis):
        return self._np_api.min(x, axis=axis)

    def max(self, x):
        return self._np_api.max(x)

    def concatenate(self, seq, axis=0):
        return self._np_api.concatenate(list(seq), axis=axis)

    def stack(self, seq, axis=0):
        return self._np_api.stack(list(seq), axis=axis)

    def transpose(self, x, axes):
        return self._np_api.transpose(x, axes)
