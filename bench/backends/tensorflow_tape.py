"""tensorflow backend: eager TensorFlow under `tf.GradientTape` (no `tf.function`).

Inputs become constant tensors once, at prepare time; the tape watches them explicitly
(constants, unlike `tf.Variable`s, are not watched by default). `tape.gradient` of the
summed output returns one gradient per watched input, None for an input the output does not
reach, which is zeros here as in the other backends.

TensorFlow and PaddlePaddle do not load into one process in every order: importing paddle
after tensorflow crashes the interpreter (`bench.backends.paddle_eager` refuses in that case).
"""

import numpy as np

from bench.backends.base import Backend, Prepared, cast


class TensorflowTape(Backend):
    name = "tensorflow"
    package = "tensorflow"
    spelling_key = "tensorflow"
    math_library = "tensorflow"
    second_order = True  # nested tapes differentiate a gradient again

    def unsupported(self, chain, dtype):
        if np.dtype(dtype) not in (np.dtype(np.float32), np.dtype(np.float64)):
            return f"tensorflow's CPU kernels have no numpy {np.dtype(dtype).name}"
        return None

    def prepare(self, chain, dtype=np.float64):
        import tensorflow as tf  # optional and slow to import: only where this backend runs

        ops = self.ops

        def leaf(a):
            return a if isinstance(a, tf.Tensor) else tf.constant(a)

        def native(x, params):
            return chain.apply(ops, leaf(x), *map(leaf, params))

        def forward(x, params):
            return native(x, params).numpy()

        def record(x, params):
            leaves = [leaf(x), *map(leaf, params)]
            with tf.GradientTape(persistent=False, watch_accessed_variables=False) as tape:
                tape.watch(leaves)
                out = ops.sum(chain.apply(ops, *leaves))
            return (tape, leaves), out

        def value_and_grad(x, params):
            (tape, leaves), out = record(x, params)
            grads = tape.gradient(out, leaves)
            return out.numpy(), tuple(
                np.zeros(a.shape, a.dtype.as_numpy_dtype) if g is None else g.numpy()
                for a, g in zip(leaves, grads)
            )

        x, params = cast(chain, dtype)
        inputs = (leaf(x), tuple(map(leaf, params)))
        return Prepared(forward, value_and_grad, inputs, record=record, native=native)
