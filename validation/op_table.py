"""The op table: one declarative record per dezero function, shared by the tests and the gate.

Each `OpRecord` (validation/op_record.py) names a dezero op, its numpy reference, the shapes of
its differentiable inputs (several per op, broadcasting included), the interval inputs are drawn
from and, where torch has the op, the torch spelling (for elementwise ops also the jax.numpy
one). The network functions have their records in validation/op_table_nn.py, the
numpy-style functions beyond the book's in validation/op_table_numpy.py; OPS lists them all.
tests/test_functions.py (values, first derivatives), tests/test_higher_order.py (second
derivatives, each vjp's output), the accuracy gate (validation/op_gate.py, exact gradients in
float64 and float32), its strength table (validation/strength.py) and the fuzzer's reference
rules (validation/fuzz/reference.py: the records with a `vjp`) are generated from it.
"""

import numpy as np

import dezero
import dezero.functions as F
from bench.workloads.ops import OPS as PRIMITIVES
from validation import op_references as numpy_refs
from validation.op_record import BINARY, TF, UNARY, OpRecord, jnp, torch
from validation.op_table_nn import NN_OPS
from validation.op_table_numpy import NUMPY_API_OPS
from validation.op_vjps_numpy import matmul_vjp


def _dropout_in_test_mode(x):
    with dezero.test_mode():
        return F.dropout(x)


def _reverse_axes(t):
    return t.permute(*reversed(range(t.ndim)))


def _torch_sum_to_row(t):
    return t.sum(dim=0, keepdim=True)


def _jnp(name):
    """jax.numpy's `name`, looked up when called (jax is optional)."""
    return lambda *xs: getattr(jnp, name)(*xs)


def _vjp(name):
    """The op registry's numpy vjp of primitive `name` (the chains' reference runs it too)."""
    return PRIMITIVES[name].np_vjp


def _same_in_every_framework(expression):
    """One lambda for torch and jax where the operator spelling is the same (x * x, a ** b)."""
    return {"torch_op": expression, "jax_op": expression}


R = OpRecord
OPS = [
    # elementwise
    R(
        "square",
        F.square,
        np.square,
        UNARY,
        vjp=_vjp("square"),
        **_same_in_every_framework(lambda x: x * x),
    ),
    R(
        "exp",
        F.exp,
        np.exp,
        UNARY,
        torch_op=lambda x: x.exp(),
        jax_op=_jnp("exp"),
        vjp=_vjp("exp"),
    ),
    R(
        "log",
        F.log,
        np.log,
        UNARY,
        domain=(0.5, 3.0),
        torch_op=lambda x: x.log(),
        jax_op=_jnp("log"),
        vjp=_vjp("log"),
    ),
    R(
        "sin",
        F.sin,
        np.sin,
        UNARY,
        torch_op=lambda x: x.sin(),
        jax_op=_jnp("sin"),
        vjp=_vjp("sin"),
    ),
    R(
        "cos",
        F.cos,
        np.cos,
        UNARY,
        torch_op=lambda x: x.cos(),
        jax_op=_jnp("cos"),
        vjp=_vjp("cos"),
    ),
    R(
        "tanh",
        F.tanh,
        np.tanh,
        UNARY,
        torch_op=lambda x: x.tanh(),
        jax_op=_jnp("tanh"),
        vjp=_vjp("tanh"),
    ),
    R(
        "sigmoid",
        F.sigmoid,
        numpy_refs.np_sigmoid,
        UNARY,
        domain=(-6, 6),
        torch_op=lambda x: x.sigmoid(),
        jax_op=lambda x: 1 / (1 + jnp.exp(-x)),
        vjp=_vjp("sigmoid"),
    ),
    R(
        "relu",
        F.relu,
        numpy_refs.np_relu,
        UNARY,
        avoid=(0,),
        torch_op=lambda x: x.relu(),
        jax_op=lambda x: jnp.maximum(x, 0),
        vjp=numpy_refs.relu_vjp,
    ),
    R(
        "leaky_relu",
        F.leaky_relu,
        lambda x: np.where(x > 0, x, 0.2 * x),
        UNARY,
        avoid=(0,),
        torch_op=lambda x: TF.leaky_relu(x, 0.2),
        jax_op=lambda x: jnp.where(x > 0, x, 0.2 * x),
    ),
    R(
        "clip",
        lambda x: F.clip(x, -0.5, 0.5),
        numpy_refs.np_clip,
        UNARY,
        domain=(-1, 1),
        avoid=(-0.5, 0.5),
        torch_op=lambda x: x.clamp(-0.5, 0.5),
        jax_op=lambda x: jnp.clip(x, -0.5, 0.5),
        vjp=numpy_refs.clip_vjp,
    ),
    R(
        "neg",
        F.neg,
        np.negative,
        UNARY,
        vjp=_vjp("neg"),
        **_same_in_every_framework(lambda x: -x),
    ),
    R(
        "pow-const",
        lambda x: F.pow(x, 3),
        lambda x: x**3,
        UNARY,
        **_same_in_every_framework(lambda x: x**3),
    ),
    R(
        "dropout-test_mode",
        _dropout_in_test_mode,
        lambda x: x,
        UNARY,
        torch_op=lambda x: TF.dropout(x, training=False),
    ),
    # the reflected operators (a constant on the left of a Variable), as Python spells them
    R(
        "sub-constant-left",
        lambda x: 1.5 - dezero.as_variable(x),
        lambda x: 1.5 - x,
        UNARY,
        **_same_in_every_framework(lambda x: 1.5 - x),
    ),
    R(
        "div-constant-left",
        lambda x: 2.0 / dezero.as_variable(x),
        lambda x: 2.0 / x,
        UNARY,
        domain=(0.5, 2),
        **_same_in_every_framework(lambda x: 2.0 / x),
    ),
    R(
        "pow-constant-base",
        lambda x: 2.0 ** dezero.as_variable(x),
        lambda x: 2.0**x,
        UNARY,
        **_same_in_every_framework(lambda x: 2.0**x),
    ),
    # binary, broadcasting
    R(
        "add",
        F.add,
        np.add,
        BINARY,
        vjp=lambda gy, a, b, y: (gy, gy),
        **_same_in_every_framework(lambda a, b: a + b),
    ),
    R(
        "sub",
        F.sub,
        np.subtract,
        BINARY,
        vjp=lambda gy, a, b, y: (gy, -gy),
        **_same_in_every_framework(lambda a, b: a - b),
    ),
    R(
        "mul",
        F.mul,
        np.multiply,
        BINARY,
        vjp=lambda gy, a, b, y: (gy * b, gy * a),
        **_same_in_every_framework(lambda a, b: a * b),
    ),
    R(
        "div",
        F.div,
        np.divide,
        BINARY,
        domain=((-2, 2), (0.5, 2)),
        vjp=lambda gy, a, b, y: (gy / b, -gy * a / (b * b)),
        **_same_in_every_framework(lambda a, b: a / b),
    ),
    R(
        "pow",
        F.pow,
        np.power,
        BINARY,
        domain=((0.5, 2), (-2, 2)),
        **_same_in_every_framework(lambda a, b: a**b),
    ),
    # shape
    R(
        "reshape",
        lambda x: F.reshape(x, x.shape[::-1]),
        numpy_refs.np_reshape,
        (((2, 3),), ((2, 3, 4),), ((6,),)),
        torch_op=lambda x: x.reshape(x.shape[::-1]),
        vjp=numpy_refs.reshape_vjp,
    ),
    R(
        "transpose",
        F.transpose,
        np.transpose,
        (((2, 3),), ((2, 3, 4),)),
        torch_op=_reverse_axes,
        vjp=numpy_refs.transpose_vjp,
    ),
    # (2, 0, 1) is not its own inverse, so a backward that reuses `axes` fails here.
    R(
        "transpose-axes",
        lambda x: F.transpose(x, (2, 0, 1)),
        lambda x: x.transpose(2, 0, 1),
        (((2, 3, 4),),),
        torch_op=lambda x: x.permute(2, 0, 1),
    ),
    R(
        "transpose-negative-axes",
        lambda x: F.transpose(x, (-1, 0, 1)),
        lambda x: x.transpose(2, 0, 1),
        (((2, 3, 4),),),
        torch_op=lambda x: x.permute(2, 0, 1),
    ),
    R(
        "get_item-int",
        lambda x: F.get_item(x, 1),
        lambda x: x[1],
        (((3, 4),),),
        torch_op=lambda x: x[1],
    ),
    R(
        "get_item-slice",
        lambda x: F.get_item(x, (slice(None), slice(None, None, 2))),
        lambda x: x[:, ::2],
        (((3, 4),),),
        torch_op=lambda x: x[:, ::2],
    ),
    # Repeated indices must add up in the gradient.
    R(
        "get_item",
        lambda x: F.get_item(x, np.array(numpy_refs.REPEATED)),
        numpy_refs.np_get_item,
        (((3, 4),), ((3,),)),
        torch_op=lambda x: x[list(numpy_refs.REPEATED)],
        vjp=numpy_refs.get_item_vjp,
    ),
    R(
        "expand_dims-0",
        lambda x: F.expand_dims(x, 0),
        lambda x: np.expand_dims(x, 0),
        (((2, 3),),),
        torch_op=lambda x: x.unsqueeze(0),
    ),
    R(
        "expand_dims-neg1",
        lambda x: F.expand_dims(x, -1),
        lambda x: np.expand_dims(x, -1),
        (((2, 3),),),
        torch_op=lambda x: x.unsqueeze(-1),
    ),
    R(
        "flatten",
        F.flatten,
        lambda x: x.reshape(x.shape[0], -1),
        (((2, 3, 4),), ((2, 3),)),
        torch_op=lambda x: x.flatten(1),
    ),
    # reductions and broadcasting
    R(
        "sum",
        F.sum,
        np.sum,
        UNARY + (((2, 3, 4),),),
        torch_op=lambda x: x.sum(),
        vjp=numpy_refs.sum_vjp,
    ),
    R(
        "sum-axis0",
        lambda x: F.sum(x, axis=0),
        lambda x: x.sum(axis=0),
        (((2, 3),), ((2, 3, 4),)),
        torch_op=lambda x: x.sum(dim=0),
    ),
    R(
        "sum-axes-keepdims",
        lambda x: F.sum(x, axis=(0, -1), keepdims=True),
        lambda x: x.sum(axis=(0, -1), keepdims=True),
        (((2, 3, 4),),),
        torch_op=lambda x: x.sum(dim=(0, -1), keepdim=True),
    ),
    R(
        "sum_to-row",
        lambda x: F.sum_to(x, (1, x.shape[1])),
        lambda x: x.sum(axis=0, keepdims=True),
        (((2, 3),), ((4, 1),)),
        torch_op=_torch_sum_to_row,
    ),
    R(
        "sum_to-lead",
        lambda x: F.sum_to(x, x.shape[1:]),
        lambda x: x.sum(axis=0),
        (((2, 3),), ((2, 3, 4),)),
        torch_op=lambda x: x.sum(dim=0),
    ),
    R(
        "broadcast_to",
        lambda x: F.broadcast_to(x, (2, 3)),
        lambda x: np.broadcast_to(x, (2, 3)),
        (((3,),), ((2, 1),), ((),), ((2, 3),)),
        torch_op=lambda x: x.expand(2, 3),
    ),
    R("average", F.average, np.mean, UNARY, torch_op=lambda x: x.mean()),
    R(
        "average-axis1",
        lambda x: F.average(x, axis=1),
        lambda x: x.mean(axis=1),
        (((2, 3),), ((2, 3, 4),)),
        torch_op=lambda x: x.mean(dim=1),
    ),
    R("max", F.max, np.max, UNARY[1:], torch_op=lambda x: x.amax(), vjp=numpy_refs.max_vjp),
    R(
        "max-axis1-keepdims",
        lambda x: F.max(x, axis=1, keepdims=True),
        lambda x: x.max(axis=1, keepdims=True),
        (((2, 3),), ((2, 3, 4),)),
        torch_op=lambda x: x.amax(dim=1, keepdim=True),
    ),
    R("min", F.min, np.min, UNARY[1:], torch_op=lambda x: x.amin()),
    R(
        "min-axis0",
        lambda x: F.min(x, axis=0),
        lambda x: x.min(axis=0),
        (((2, 3),),),
        torch_op=lambda x: x.amin(dim=0),
    ),
    # linear algebra
    R(
        "matmul",
        F.matmul,
        np.matmul,
        (((2, 3), (3, 4)), ((5, 2, 3), (3, 4)), ((2, 2, 3), (2, 3, 4)), ((1, 3), (3, 1))),
        torch_op=torch.matmul if torch else None,
        vjp=matmul_vjp,  # numpy's 1-D operands too: the fuzzer draws them
    ),
    R(
        "linear",
        F.linear,
        lambda x, W, b: x @ W + b,
        (((2, 3), (3, 4), (4,)), ((2, 3), (3, 4), (1, 4))),
        torch_op=lambda x, W, b: x @ W + b,
    ),
    R(
        "linear-no-bias",
        F.linear,
        np.matmul,
        (((2, 3), (3, 4)),),
        torch_op=lambda x, W: x @ W,
    ),
    *NN_OPS,
    *NUMPY_API_OPS,
]


def _shape_id(shape):
    return "x".join(map(str, shape)) if shape else "scalar"


CASES = [(record, shapes) for record in OPS for shapes in record.shapes]
IDS = [f"{record.name}-{','.join(map(_shape_id, shapes))}" for record, shapes in CASES]
GRAD_CASES = [(r, s) for r, s in CASES if r.differentiable]
GRAD_IDS = [i for (r, _), i in zip(CASES, IDS) if r.differentiable]
TORCH_CASES = [(r, s) for r, s in GRAD_CASES if r.torch_op is not None]
TORCH_IDS = [i for (r, _), i in zip(GRAD_CASES, GRAD_IDS) if r.torch_op is not None]


def sample_inputs(record, shapes, dtype=np.float64, seed=0):
    """Seeded inputs of `shapes` inside the record's domain, kept 0.05 away from its kinks."""
    rng = np.random.default_rng(seed)
    per_input = isinstance(record.domain[0], tuple)
    domains = record.domain if per_input else [record.domain] * len(shapes)
    xs = []
    for shape, (low, high) in zip(shapes, domains):
        x = rng.uniform(low, high, shape)
        for kink in record.avoid:
            x = np.where(np.abs(x - kink) < 0.05, x + 0.1, x)
        xs.append(np.asarray(x, dtype=dtype))
    return xs


def cotangent(y, seed=1):
    """A fixed random weight for the output, so sum-invariant ops (softmax) are still tested."""
    return np.random.default_rng(seed).uniform(0.5, 1.5, np.shape(y)).astype(y.dtype)
