"""Op-table records for the network functions: activations over an axis, losses,
convolution, pooling and normalisation (references by slicing, not dezero's im2col), and
the second-order helpers a derivative of them runs. OPS in bench/workloads/op_table.py lists them
with the rest.
"""

import numpy as np

import dezero
import dezero.functions as F
import dezero.functions_conv
from bench.workloads import op_references as numpy_refs
from bench.workloads.op_record import TF, OpRecord, torch
from bench.workloads.ops import OPS as PRIMITIVES


def _labels(x):
    """Integer class labels for a batch x of shape (N, C), derived from its shape."""
    n, classes = x.shape
    return np.arange(n) % classes


def _targets(p):
    """0/1 targets of p's shape and dtype (p: an ndarray or a Variable)."""
    return (np.arange(int(np.prod(p.shape))).reshape(p.shape) % 2).astype(p.dtype)


def _torch_targets(p):
    return torch.as_tensor(_targets(p.detach().numpy()))


def _batch_norm(x, gamma, beta):
    channels = gamma.shape[0]
    return F.batch_norm(x, gamma, beta, np.zeros(channels, x.dtype), np.ones(channels, x.dtype))


# Max pooling's helpers (PoolingGrad, PoolingWithIndexes: the vjps a second derivative of
# pooling runs) route through the windows' argmax positions of one fixed input.
def _fixed_pool():
    pool = dezero.functions_conv.Pooling(2, 2)
    pool.forward(numpy_refs.POOLED)
    return pool


R = OpRecord
NN_OPS = [
    # activations over an axis, losses
    R(
        "softmax",
        F.softmax,
        numpy_refs.np_softmax,
        (((2, 3),), ((2, 3, 4),)),
        torch_op=lambda x: x.softmax(dim=1),
        vjp=numpy_refs.softmax_vjp,
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
        vjp=numpy_refs.log_softmax_vjp,
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
        lambda x: numpy_refs.np_bce(PRIMITIVES["sigmoid"].np_forward(x), _targets(x)),
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
]
