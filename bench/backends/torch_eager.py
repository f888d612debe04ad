"""torch backend: eager PyTorch, forward-only runs under `torch.no_grad()`.

Tensors are created on `bench.machine.devices.torch_device()` explicitly: the CPU unless the run
asked for the GPU. Outputs are copied back to numpy only on a GPU run.

Gradients come from `torch.autograd.grad`, which returns them without accumulating
into `.grad`, so inputs can be reused across timed calls with no zeroing step.
"""

import numpy as np

from bench.backends.base import Backend, Prepared, cast
from bench.machine import devices, threads


def pin_threads() -> None:
    """torch's thread pools as the torch backend runs them (any torch runner calls this first)."""
    threads.pin_torch()


class TorchEager(Backend):
    name = "torch"
    package = "torch"
    spelling_key = "torch"
    gpu_capable = True
    math_library = "torch"
    second_order = True

    def device(self):
        return devices.torch_placement()

    def unsupported(self, chain, dtype):
        if np.dtype(dtype) not in (np.dtype(np.float32), np.dtype(np.float64)):
            return f"torch has no CPU dtype for numpy {np.dtype(dtype).name}"
        return None

    def prepare(self, chain, dtype=np.float64):
        import torch  # optional and slow to import: only where the torch backend runs

        pin_threads()
        ops = self.ops
        device = torch.device(devices.torch_device())  # parsed once, not per call
        # on the CPU `.numpy()` shares memory; a GPU tensor must be copied back first
        to_numpy = torch.Tensor.numpy if device.type == "cpu" else lambda t: t.cpu().numpy()

        def leaf(a):
            # the prepared inputs are tensors on `device` already: an isinstance test (as
            # dezero's adapter makes) costs ~0.05 µs, `as_tensor(t, device=...)` ~1 µs per leaf;
            # a numpy input shares its memory on the CPU
            if isinstance(a, torch.Tensor):
                return a if a.requires_grad else a.requires_grad_()
            return torch.as_tensor(a, device=device).requires_grad_()

        def native(x, params):
            with torch.no_grad():
                return chain.apply(ops, leaf(x), *map(leaf, params))

        def forward(x, params):
            with torch.no_grad():
                return to_numpy(chain.apply(ops, leaf(x), *map(leaf, params)))

        def record(x, params):
            leaves = [leaf(x), *map(leaf, params)]
            return leaves, torch.sum(chain.apply(ops, *leaves))

        def value_and_grad(x, params):
            leaves, out = record(x, params)
            grads = torch.autograd.grad(out, leaves)
            return to_numpy(out.detach()), tuple(map(to_numpy, grads))

        x, params = cast(chain, dtype)
        inputs = (leaf(x), tuple(map(leaf, params)))
        return Prepared(forward, value_and_grad, inputs, record=record, native=native)
