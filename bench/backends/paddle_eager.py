"""paddle backend: PaddlePaddle's dynamic graph (its default eager mode) on the CPU.

Leaves are tensors with `stop_gradient=False`, made once at prepare time; `paddle.grad`
returns the gradients without accumulating into `.grad`, so calls need no zeroing step.

PaddlePaddle's native library crashes the interpreter (a segmentation fault inside
`paddle.base.core`) when it is loaded after TensorFlow's; loaded first, both work. So where
tensorflow is already imported and paddle is not, this backend is unavailable with that reason
rather than taking the process down.
"""

import sys

import numpy as np

from bench.backends.base import Backend, Prepared, cast

LOAD_ORDER = (
    "paddle: tensorflow is already loaded in this process, and importing paddle after "
    "tensorflow crashes the interpreter (segfault in paddle.base.core); run paddle in a "
    "process of its own, or import paddle first"
)


class PaddleEager(Backend):
    name = "paddle"
    package = "paddle"
    distribution = "paddlepaddle"
    spelling_key = "paddle"
    math_library = "paddle"
    second_order = True  # `paddle.grad(create_graph=True)` differentiates a gradient again

    def available(self):
        if "tensorflow" in sys.modules and "paddle" not in sys.modules:
            return False, LOAD_ORDER
        return super().available()

    def unsupported(self, chain, dtype):
        if np.dtype(dtype) not in (np.dtype(np.float32), np.dtype(np.float64)):
            return f"paddle's CPU kernels have no numpy {np.dtype(dtype).name}"
        return None

    def prepare(self, chain, dtype=np.float64):
        import paddle  # optional and slow to import: only where this backend runs

        ops = self.ops

        def leaf(a):
            if isinstance(a, paddle.Tensor):
                return a
            return paddle.to_tensor(a, place=paddle.CPUPlace(), stop_gradient=False)

        def native(x, params):
            with paddle.no_grad():
                return chain.apply(ops, leaf(x), *map(leaf, params))

        def forward(x, params):
            return native(x, params).numpy()

        def record(x, params):
            leaves = [leaf(x), *map(leaf, params)]
            return leaves, ops.sum(chain.apply(ops, *leaves))

        def value_and_grad(x, params):
            leaves, out = record(x, params)
            grads = paddle.grad([out], leaves, allow_unused=True)
            return out.numpy(), tuple(
                (paddle.zeros_like(a) if g is None else g).numpy() for a, g in zip(leaves, grads)
            )

        x, params = cast(chain, dtype)
        inputs = (leaf(x), tuple(map(leaf, params)))
        return Prepared(forward, value_and_grad, inputs, record=record, native=native)
