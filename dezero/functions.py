"""dezero.functions (imported as F): every op of dezero, one Function class and one lowercase
wrapper each, gathered from the modules that define them by family.

Each `vjp(m, gy, *xs, y)` is written with the namespace `m`, so the same line serves the
fast sweep (numpy, `m = dezero.array_ops`) and `create_graph=True` (`m` = this module,
which dezero.setup_variable() installs as core.graph_ops).
"""

# ruff: noqa: F401  (this module re-exports the families' classes and wrappers)
import numpy as np

from dezero.arithmetic import add, div, mul, neg, pow, sub
from dezero.core import Function, Variable, as_variable
from dezero.functions_array import (
    GetItem,
    GetItemGrad,
    Reshape,
    Transpose,
    concatenate,
    expand_dims,
    flatten,
    get_item,
    get_item_grad,
    reshape,
    stack,
    transpose,
)
from dezero.functions_conv import (
    average_pooling,
    col2im,
    conv2d,
    conv2d_grad_w,
    conv2d_simple,
    deconv2d,
    im2col,
    pooling,
    pooling_simple,
)
from dezero.functions_elementwise import (
    Clip,
    Cos,
    Exp,
    LeakyReLU,
    Log,
    ReLU,
    Sigmoid,
    Sin,
    Square,
    Tanh,
    abs,
    clip,
    cos,
    exp,
    leaky_relu,
    log,
    maximum,
    minimum,
    relu,
    sigmoid,
    sin,
    sqrt,
    square,
    tanh,
    where,
)
from dezero.functions_linalg import Linear, MatMul, einsum, linear, matmul, tril, triu
from dezero.functions_nn import batch_norm, embed_id, softmax_cross_entropy_simple, softmax_simple
from dezero.functions_reduce import (
    BroadcastTo,
    Max,
    Min,
    Sum,
    SumTo,
    average,
    broadcast_to,
    max,
    min,
    sum,
    sum_to,
)
from dezero.losses import (
    accuracy,
    dropout,
    log_softmax,
    logsumexp,
    mean_squared_error,
    softmax,
    softmax_cross_entropy,
)

__all__ = [
    "abs",
    "accuracy",
    "add",
    "average",
    "binary_cross_entropy",
    "broadcast_to",
    "clip",
    "concatenate",
    "cos",
    "div",
    "dropout",
    "einsum",
    "exp",
    "expand_dims",
    "flatten",
    "get_item",
    "get_item_grad",
    "leaky_relu",
    "linear",
    "log",
    "log_softmax",
    "logsumexp",
    "matmul",
    "max",
    "maximum",
    "mean_squared_error",
    "min",
    "minimum",
    "mul",
    "neg",
    "pow",
    "relu",
    "reshape",
    "sigmoid",
    "sigmoid_cross_entropy",
    "sin",
    "softmax",
    "softmax_cross_entropy",
    "sqrt",
    "square",
    "stack",
    "sub",
    "sum",
    "sum_to",
    "tanh",
    "transpose",
    "tril",
    "triu",
    "where",
]


# The book's Variable methods beside its operators (its setup_variable installs these four);
# `@` too, as numpy spells matmul. dezero's setup_variable() installs them.
VARIABLE_METHODS = {
    "matmul": matmul,
    "dot": matmul,
    "max": max,
    "min": min,
    "__matmul__": matmul,
    "__rmatmul__": lambda right, left: matmul(left, right),
}


# Losses composed of the functions above.
def sigmoid_cross_entropy(x, t):
    """Mean binary cross-entropy of sigmoid(x) against 0/1 targets t."""
    x, t = as_variable(x), as_variable(t)
    if x.shape != t.shape:
        t = reshape(t, x.shape)
    return binary_cross_entropy(sigmoid(x), t)


def binary_cross_entropy(p, t):
    """Mean of -(t log p + (1 - t) log(1 - p)); p is clipped away from 0 and 1."""
    p, t = as_variable(p), as_variable(t)
    if p.shape != t.shape:
        t = reshape(t, p.shape)
    eps = 1e-7 if p.dtype == np.float32 else 1e-15
    p = clip(p, eps, 1.0 - eps)
    t = Variable(t.data.astype(p.dtype, copy=False))
    log_likelihood = t * log(p) + (1 - t) * log(1 - p)
    return -sum(log_likelihood) / p.data.size
