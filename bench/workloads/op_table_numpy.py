"""Op-table records for the numpy-style functions beyond the book's: abs, sqrt, maximum,
minimum, where, logsumexp, concatenate, stack, tril, triu, einsum and matmul's 1-D operands.

References (with their vjps, which the fuzzer draws: bench/workloads/op_vjps_numpy.py) must hold at
complex arguments (the gate differentiates them by the complex step),
so abs, maximum and minimum select on the real part instead of calling np.abs / np.maximum.
Ties and kinks are left to tests/test_functions_numpy.py: no finite difference or complex
step sees a convention there.
"""

import numpy as np

import dezero.functions as F
from bench.workloads import op_vjps_numpy as V
from bench.workloads.op_record import BINARY, UNARY, OpRecord, jnp, torch

# A condition wider than both operands: the gradients are summed back over its extra axes.
WIDE_CONDITION = np.arange(12).reshape(2, 2, 3) % 2 == 0


def _torch_where(condition):
    return lambda a, b: torch.where(torch.as_tensor(condition(a, b)), a, b)


def _torch_square(x):
    """A vector broadcast to its square: numpy's tril/triu of a 1-D array (torch needs 2-D)."""
    return x.expand(x.shape[0], x.shape[0])


def _einsum(spec, shapes, vjp=None):
    return R(
        f"einsum-{spec}",
        lambda *xs: F.einsum(spec, *xs),
        lambda *xs, spec=spec: np.einsum(spec, *xs),
        shapes,
        torch_op=lambda *xs: torch.einsum(spec, *xs),
        vjp=vjp,
    )


R = OpRecord
NUMPY_API_OPS = [
    # elementwise
    R(
        "abs",
        F.abs,
        V.np_abs,
        UNARY,
        avoid=(0,),
        torch_op=lambda x: x.abs(),
        jax_op=lambda x: jnp.abs(x),
        vjp=V.abs_vjp,
    ),
    R(
        "sqrt",
        F.sqrt,
        np.sqrt,
        UNARY,
        domain=(0.5, 3.0),
        torch_op=lambda x: x.sqrt(),
        jax_op=lambda x: jnp.sqrt(x),
        vjp=V.sqrt_vjp,
    ),
    R(
        "maximum",
        F.maximum,
        V.np_maximum,
        BINARY,
        torch_op=lambda a, b: torch.maximum(a, b),
        jax_op=lambda a, b: jnp.maximum(a, b),
        vjp=V.maximum_vjp,
    ),
    R(
        "minimum",
        F.minimum,
        V.np_minimum,
        BINARY,
        torch_op=lambda a, b: torch.minimum(a, b),
        jax_op=lambda a, b: jnp.minimum(a, b),
        vjp=V.minimum_vjp,
    ),
    R(
        "where",
        lambda a, b: F.where(V.condition(a, b), a, b),
        V.np_where,
        BINARY,
        torch_op=_torch_where(V.condition),
        jax_op=lambda a, b: jnp.where(V.condition(a, b), a, b),
        vjp=V.where_vjp,
    ),
    R(
        "where-wide-condition",
        lambda a, b: F.where(WIDE_CONDITION, a, b),
        lambda a, b: np.where(WIDE_CONDITION, a, b),
        (((3,), (2, 1, 1)), ((), ())),
        torch_op=_torch_where(lambda a, b: WIDE_CONDITION),
        jax_op=lambda a, b: jnp.where(WIDE_CONDITION, a, b),
    ),
    # reductions
    R(
        "logsumexp",
        F.logsumexp,
        V.np_logsumexp,
        UNARY,
        torch_op=lambda x: x.reshape(-1).logsumexp(0),
        vjp=V.logsumexp_vjp,
    ),
    R(
        "logsumexp-axis-neg1-keepdims",
        lambda x: F.logsumexp(x, axis=-1, keepdims=True),
        lambda x: V.np_logsumexp(x, axis=-1, keepdims=True),
        (((2, 3),), ((2, 3, 4),)),
        torch_op=lambda x: x.logsumexp(-1, keepdim=True),
    ),
    R(
        "logsumexp-axes",
        lambda x: F.logsumexp(x, axis=(0, 2)),
        lambda x: V.np_logsumexp(x, axis=(0, 2)),
        (((2, 3, 4),),),
        torch_op=lambda x: x.logsumexp((0, 2)),
    ),
    # e^700 overflows float32 and e^710 float64: only the max-shifted form stays finite
    R(
        "logsumexp-beyond-overflow",
        lambda x: F.logsumexp(x, axis=1),
        lambda x: V.np_logsumexp(x, axis=1),
        (((2, 3),),),
        domain=(700.0, 712.0),
        torch_op=lambda x: x.logsumexp(1),
    ),
    # joining
    R(
        "concatenate",
        lambda *xs: F.concatenate(xs),
        V.np_concatenate,
        (((2, 3), (4, 3)), ((2,), (3,), (1,)), ((2, 3),)),
        torch_op=lambda *xs: torch.cat(xs),
        vjp=V.concatenate_vjp,
    ),
    R(
        "concatenate-axis-neg1",
        lambda *xs: F.concatenate(xs, axis=-1),
        lambda *xs: np.concatenate(xs, axis=-1),
        (((2, 3), (2, 1), (2, 2)),),
        torch_op=lambda *xs: torch.cat(xs, -1),
    ),
    R(
        "concatenate-axis-none",
        lambda *xs: F.concatenate(xs, axis=None),
        lambda *xs: np.concatenate(xs, axis=None),
        (((2, 3), (4,)),),
        torch_op=lambda *xs: torch.cat([x.reshape(-1) for x in xs]),
    ),
    R(
        "stack",
        lambda *xs: F.stack(xs),
        V.np_stack,
        (((2, 3), (2, 3)), ((3,),)),
        torch_op=lambda *xs: torch.stack(xs),
        vjp=V.stack_vjp,
    ),
    R(
        "stack-axis-neg1",
        lambda *xs: F.stack(xs, axis=-1),
        lambda *xs: np.stack(xs, axis=-1),
        (((2, 3), (2, 3), (2, 3)),),
        torch_op=lambda *xs: torch.stack(xs, -1),
    ),
    # triangles
    R(
        "tril",
        F.tril,
        V.np_tril,
        (((3, 4),), ((2, 4, 3),)),
        torch_op=lambda x: x.tril(),
        vjp=V.tril_vjp,
    ),
    R(
        "tril-k1",
        lambda x: F.tril(x, 1),
        lambda x: np.tril(x, 1),
        (((3, 4),),),
        torch_op=lambda x: x.tril(1),
    ),
    R(
        "tril-vector",
        F.tril,
        np.tril,
        (((4,),),),
        torch_op=lambda x: _torch_square(x).tril(),
    ),
    R(
        "triu",
        F.triu,
        V.np_triu,
        (((3, 4),), ((2, 4, 3),)),
        torch_op=lambda x: x.triu(),
        vjp=V.triu_vjp,
    ),
    R(
        "triu-kneg1-vector",
        lambda x: F.triu(x, -1),
        lambda x: np.triu(x, -1),
        (((4,),), ((2, 4, 3),)),
        torch_op=lambda x: (_torch_square(x) if x.ndim == 1 else x).triu(-1),
    ),
    # einsum: contractions, ellipses (broadcast), implicit output, repeated and lone labels
    _einsum("ij,jk->ik", (((2, 3), (3, 4)),), vjp=V.einsum_vjp),
    _einsum("...ij,...jk->...ik", (((2, 2, 3), (3, 4)), ((1, 2, 3), (2, 3, 4)))),
    _einsum("ij,kj", (((2, 3), (4, 3)),)),
    _einsum("ji", (((2, 3),),)),
    _einsum("ii", (((3, 3),),)),
    _einsum("ii->i", (((3, 3),),)),
    _einsum("i,j->ij", (((3,), (4,)),)),
    _einsum("ijk,k->i", (((2, 3, 4), (4,)),)),
    _einsum("ij,jk,kl->il", (((2, 3), (3, 4), (4, 2)),)),
    _einsum("ij,ij->", (((2, 3), (1, 3)), ((2, 1), (2, 3)))),  # labels broadcast from size 1
    _einsum("...ii->...i", (((2, 3, 3),),)),
    # matmul as numpy defines it for 1-D operands (a row on the left, a column on the right)
    R(
        "matmul-vector",
        F.matmul,
        np.matmul,
        (((3,), (3, 4)), ((2, 3), (3,)), ((3,), (3,)), ((5, 2, 3), (3,)), ((3,), (2, 3, 4))),
        torch_op=lambda x, W: torch.matmul(x, W),
    ),
]
