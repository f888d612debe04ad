"""mygrad backend: a numpy-based tape written for teaching, like dezero (and as small).

mygrad's gradients are numpy arrays, not tensors on a graph, so it has no second order here.
`backward()` accumulates into `.grad` of every leaf; a fresh set of leaves per call (cheap:
they wrap the prepared numpy arrays without copying) keeps calls independent.
"""

import numpy as np

from bench.backends.base import Backend, Prepared, cast


class MygradEngine(Backend):
    name = "mygrad"
    package = "mygrad"
    spelling_key = "mygrad"
    second_order = False  # `.grad` is a numpy array: nothing to differentiate again

    def unsupported(self, chain, dtype):
        if np.dtype(dtype) not in (np.dtype(np.float32), np.dtype(np.float64)):
            return f"mygrad is tested on float32/float64, not numpy {np.dtype(dtype).name}"
        return None

    def prepare(self, chain, dtype=np.float64):
        import mygrad  # optional: absent, available() says so and the suite skips

        ops = self.ops

        def leaf(a):
            # copy=False: the leaf wraps the prepared array (mygrad never writes to it)
            return mygrad.tensor(a, copy=False)

        def forward(x, params):
            with mygrad.no_autodiff:
                return np.asarray(chain.apply(ops, leaf(x), *map(leaf, params)))

        def record(x, params):
            leaves = [leaf(x), *map(leaf, params)]
            return leaves, ops.sum(chain.apply(ops, *leaves))

        def value_and_grad(x, params):
            leaves, out = record(x, params)
            out.backward()
            return np.asarray(out.data), tuple(np.asarray(t.grad) for t in leaves)

        return Prepared(forward, value_and_grad, cast(chain, dtype), record=record)
