"""The op table: one declarative record per dezero function, shared by the tests and the gate.

Each `OpRecord` (validation/op_record.py) names a dezero op, its numpy reference, the shapes of
its differentiable inputs (several per op, broadcasting included), the interval inputs are drawn
from and, where torch has the op, the torch spelling (for elementwise ops also the jax.numpy
one). The numpy-style functions beyond the book's have their records in
validation/op_table_numpy.py; OPS lists them with the rest. tests/test_functions.py (values,
first derivatives), tests/test_higher_order.py (second derivatives, each vjp's output) and the
accuracy gate (validation/op_gate.py, exact gradients in float64 and float32) are generated
from it.
"""

import numpy as np

import dezero
import dezero.functions as F
import dezero.functions_conv
from validation import op_references as numpy_refs
from validation.op_record import BINARY, TF, UNARY, OpRecord, jnp, torch
from validation.op_table_numpy import NUMPY_API_OPS


def _labels(x):
    """Integer class labels for a batch x of shape (N, C), derived from its shape."""
    n, classes = x.shape
    return np.arange(n) % classes


def _targets(p):
    """0/1 targets of p's shape and dtype (p: an ndarray or a Variable)."""
    return (np.arange(int(np.prod(p.shape))).reshape(p.shape) % 2).astype(p.dtype)


def _torch_targets(p):
    return torch.as_tensor(_targets(p.detach().numpy()))


def _dropout_in_test_mode(x):
    with dezero.test_mode():
        return F.dropout(x)


def _batch_norm(x, gamma, beta):
    channels = gamma.shape[0]
    return F.batch_norm(x, gamma, beta, np.zeros(channels, x.dtype), np.ones(channels, x.dtype))


# Max pooling's helpers (PoolingGrad, PoolingWithIndexes: the vjps a second derivative of
# pooling runs) route through the windows' argmax positions of one fixed input.
def _fixed_pool():
    pool = dezero.functions_conv.Pooling(2, 2)
    pool.forward(numpy_refs.POOLED)
    return pool


def _reverse_axes(t):
    return t.permute(*reversed(range(t.ndim)))


def _torch_sum_to_row(t):
    return t.sum(dim=0, keepdim=True)


def _jnp(name):
    """jax.numpy's `name`, looked up when called (jax is optional)."""
    return lambda *xs: getattr(jnp, name)(*xs)


def _same_in_every_framework(expression):
    """One lambda for torch and jax where the operator spelling is the same (x * x, a ** b)."""
    return {"torch_op": expression, "jax_op": expression}


R = OpRecord
OPS = [
    # elementwise
    R("square", F.square, np.square, UNARY, **_same_in_every_framework(lambda x: x * x)),
    R("exp", F.exp, np.exp, UNARY, torch_op=lambda x: x.exp(), jax_op=_jnp("exp")),
    R(
        "log",
        F.log,
        np.log,
        UNARY,
        domain=(0.5, 3.0),
        torch_op=lambda x: x.log(),
        jax_op=_jnp("log"),
    ),
    R("sin", F.sin, np.sin, UNARY, torch_op=lambda x: x.sin(), jax_op=_jnp("sin")),
    R("cos", F.cos, np.cos, UNARY, torch_op=lambda x: x.cos(), jax_op=_jnp("cos")),
    R("tanh", F.tanh, np.tanh, UNARY, torch_op=lambda x: x.tanh(), jax_op=_jnp("tanh")),
    R(
        "sigmoid",
        F.sigmoid,
        numpy_refs.np_sigmoid,
        UNARY,
        domain=(-6, 6),
        torch_op=lambda x: x.sigmoid(),
        jax_op=lambda x: 1 / (1 + jnp.exp(-x)),
    ),
    R(
        "relu",
        F.relu,
        lambda x: np.maximum(x, 0),
        UNARY,
        avoid=(0,),
        torch_op=lambda x: x.relu(),
        jax_op=lambda x: jnp.maximum(x, 0),
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
        lambda x: np.clip(x, -0.5, 0.5),
        UNARY,
        domain=(-1, 1),
        avoid=(-0.5, 0.5),
        torch_op=lambda x: x.clamp(-0.5, 0.5),
        jax_op=lambda x: jnp.clip(x, -0.5, 0.5),
    ),
    R("neg", F.neg, np.negative, UNARY, **_same_in_every_framework(lambda x: -x)),
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
    R("add", F.add, np.add, BINARY, **_same_in_every_framework(lambda a, b: a + b)),
    R("sub", F.sub, np.subtract, BINARY, **_same_in_every_framework(lambda a, b: a - b)),
    R("mul", F.mul, np.multiply, BINARY, **_same_in_every_framework(lambda a, b: a * b)),
    R(
        "div",
        F.div,
        np.divide,
        BINARY,
        domain=((-2, 2), (0.5, 2)),
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
        lambda x: x.reshape(x.shape[::-1]),
        (((2, 3),), ((2, 3, 4),), ((6,),)),
        torch_op=lambda x: x.reshape(x.shape[::-1]),
    ),
    R(
        "transpose",
        F.transpose,
        np.transpose,
        (((2, 3),), ((2, 3, 4),)),
        torch_op=_reverse_axes,
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
        "get_item-repeated",
        lambda x: F.get_item(x, np.array([0, 0, 2, 0])),
        lambda x: x[[0, 0, 2, 0]],
        (((3, 4),), ((3,),)),
        torch_op=lambda x: x[[0, 0, 2, 0]],
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
    R("sum", F.sum, np.sum, UNARY + (((2, 3, 4),),), torch_op=lambda x: x.sum()),
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
    R("max", F.max, np.max, UNARY[1:], torch_op=lambda x: x.amax()),
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
    # activations over an axis, losses
    R(
        "softmax",
        F.softmax,
        lambda x: np.exp(numpy_refs.np_log_softmax(x)),
        (((2, 3),), ((2, 3, 4),)),
        torch_op=lambda x: x.softmax(dim=1),
    ),
    R(
        "softmax-axis-last",
        lambda x: F.softmax(x, axis=-1),
        lambda x: np.exp(numpy_refs.np_log_softmax(x, axis=-1)),
        (((2, 3, 4),),),
        torch_op=lambda x: x.softmax(dim=-1),
    ),
    R(
        "log_softmax",
        F.log_softmax,
        numpy_refs.np_log_softmax,
        (((2, 3),), ((2, 3, 4),)),
        torch_op=lambda x: x.log_softmax(dim=1),
    ),
    R(
        "mean_squared_error",
        F.mean_squared_error,
        lambda a, b: np.mean((a - b) ** 2),
        (((2, 3), (2, 3)), ((2, 3), (3,)), ((3,), (2, 3)), ((4,), (4,))),
        torch_op=lambda a, b: ((a - b) ** 2).mean(),
    ),
    R(
        "softmax_cross_entropy",
        lambda x: F.softmax_cross_entropy(x, _labels(x)),
        lambda x: -numpy_refs.np_log_softmax(x)[np.arange(len(x)), _labels(x)].mean(),
        (((3, 4),), ((5, 2),)),
        torch_op=lambda x: TF.cross_entropy(x, torch.as_tensor(_labels(x))),
    ),
    R(
        "sigmoid_cross_entropy",
        lambda x: F.sigmoid_cross_entropy(x, _targets(x)),
        lambda x: numpy_refs.np_bce(numpy_refs.np_sigmoid(x), _targets(x)),
        (((3, 4),), ((5,),)),
        torch_op=lambda x: TF.binary_cross_entropy_with_logits(x, _torch_targets(x)),
    ),
    R(
        "binary_cross_entropy",
        lambda p: F.binary_cross_entropy(p, _targets(p)),
        lambda p: numpy_refs.np_bce(p, _targets(p)),
        (((3, 4),), ((5,),)),
        domain=(0.1, 0.9),
        torch_op=lambda p: TF.binary_cross_entropy(p, _torch_targets(p)),
    ),
    # convolution, pooling, normalisation (references by slicing, not dezero's im2col)
    R(
        "conv2d",
        lambda x, W, b: F.conv2d(x, W, b, stride=2, pad=1),
        numpy_refs.np_conv2d,
        (((2, 2, 5, 5), (3, 2, 3, 3), (3,)),),
        torch_op=lambda x, W, b: TF.conv2d(x, W, b, stride=2, padding=1),
    ),
    R(
        "deconv2d",
        lambda x, W, b: F.deconv2d(x, W, b, stride=2, pad=1),
        numpy_refs.np_deconv2d,
        (((2, 2, 3, 3), (2, 3, 3, 3), (3,)),),
        torch_op=lambda x, W, b: TF.conv_transpose2d(x, W, b, stride=2, padding=1),
    ),
    R(
        "im2col",
        lambda x: F.im2col(x, 3, stride=1, pad=1, to_matrix=False),
        lambda x: numpy_refs.np_windows(x, 3, 1, 1),
        (((2, 2, 4, 4),),),
    ),
    R(
        "col2im",
        lambda col: F.col2im(col, (2, 2, 4, 4), 3, stride=1, pad=1, to_matrix=False),
        numpy_refs.np_col2im,
        (((2, 2, 3, 3, 4, 4),),),
    ),
    R(
        "pooling",
        lambda x: F.pooling(x, 2, stride=2),
        lambda x: numpy_refs.np_windows(x, 2, 2, 0).max(axis=(2, 3)),
        (((2, 2, 4, 4),),),
        torch_op=lambda x: TF.max_pool2d(x, 2, stride=2),
    ),
    R(
        "average_pooling",
        lambda x: F.average_pooling(x, 2, stride=2),
        lambda x: numpy_refs.np_windows(x, 2, 2, 0).mean(axis=(2, 3)),
        (((2, 2, 4, 4),),),
        torch_op=lambda x: TF.avg_pool2d(x, 2, stride=2),
    ),
    R(
        "conv2d_grad_w",
        lambda x, gy: F.conv2d_grad_w(x, gy, 3, stride=2, pad=1),
        lambda x, gy: np.einsum("ncijhw,nohw->ocij", numpy_refs.np_windows(x, 3, 2, 1), gy),
        (((2, 2, 5, 5), (2, 3, 3, 3)),),
    ),
    R(
        "get_item_grad",
        lambda gy: F.get_item_grad(gy, np.array([0, 0, 2, 0]), (3, 4)),
        numpy_refs.np_get_item_grad,
        (((4, 4),),),
    ),
    R(
        "pooling_grad",
        lambda gy: dezero.functions_conv.pooling_grad(gy, _fixed_pool()),
        numpy_refs.np_pooling_grad,
        (((2, 2, 2, 2),),),
    ),
    R(
        "pooling_with_indexes",
        lambda x: dezero.functions_conv.pooling_with_indexes(x, _fixed_pool()),
        numpy_refs.np_pooling_with_indexes,
        (((2, 2, 4, 4),),),
    ),
    R(
        "batch_norm",
        _batch_norm,
        numpy_refs.np_batch_norm,
        (((4, 3), (3,), (3,)),),
        domain=((-2, 2), (0.5, 1.5), (-1, 1)),
    ),
    R(
        "accuracy",
        lambda y: F.accuracy(y, _labels(y)),
        lambda y: np.mean(y.argmax(axis=1) == _labels(y)),
        (((6, 3),),),
        differentiable=False,
    ),
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
