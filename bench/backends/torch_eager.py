"""torch backend: eager PyTorch on CPU; forward-only runs under `torch.no_grad()`.

Gradients come from `torch.autograd.grad`, which returns them without accumulating
into `.grad`, so inputs can be reused across timed calls with no zeroing step.
"""

import numpy as np

from bench import threads
from bench.backends.base import Backend, Prepared, cast


class TorchEager(Backend):
    name = "torch"
    package = "torch"
    spelling_key = "torch"

    def unsupported(self, chain, dtype):
        if np.dtype(dtype) not in (np.dtype(np.float32), np.dtype(np.float64)):
            return f"torch has no CPU dtype for numpy {np.dtype(dtype).name}"
        return None

    def prepare(self, chain, dtype=np.float64):
        import torch

        threads.pin_torch()
        ops = self.ops

        def leaf(a):
            t = torch.as_tensor(a)  # shares memory with a numpy input; no-op for a tensor
            return t if t.requires_grad else t.requires_grad_()

        def forward(x, params):
            with torch.no_grad():
                return chain.apply(ops, leaf(x), *map(leaf, params)).numpy()

        def record(x, params):
            leaves = [leaf(x), *map(leaf, params)]
            return leaves, torch.sum(chain.apply(ops, *leaves))

        def value_and_grad(x, params):
            leaves, out = record(x, params)
            grads = torch.autograd.grad(out, leaves)
            return out.detach().numpy(), tuple(g.numpy() for g in grads)

        x, params = cast(chain, dtype)
        inputs = (leaf(x), tuple(map(leaf, params)))
        return Prepared(forward, value_and_grad, inputs, record=record)
