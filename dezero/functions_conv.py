"""Convolution and pooling: conv2d, deconv2d, pooling, average_pooling, im2col, col2im.

Images are (N, C, H, W). A "col" is the stack of every kernel window; `im2col` builds
it and `col2im` is its adjoint (windows summed back into the image). Each derivative
is written once, with `k = _kernels(m)`: array kernels in the fast sweep, this
module's Functions under `create_graph`, so conv2d and deconv2d differentiate through
each other, im2col and col2im likewise, to any order.
"""

import sys
import types

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from dezero import array_ops
from dezero.core import Function, as_variable
from dezero.functions_linalg import linear
from dezero.functions_reduce import max


# =============================================================================
# Sizes
# =============================================================================
def pair(x):
    """An int n means (n, n); a 2-tuple passes through."""
    if isinstance(x, (int, np.integer)):
        return (int(x), int(x))
    if isinstance(x, (tuple, list)) and len(x) == 2:
        return tuple(int(v) for v in x)
    raise ValueError(f"expected an int or a pair of ints, got {x!r}")


def get_conv_outsize(input_size, kernel_size, stride, pad):
    return (input_size + pad * 2 - kernel_size) // stride + 1


def get_deconv_outsize(size, k, s, p):
    return s * (size - 1) + k - 2 * p


# =============================================================================
# Array kernels (no graph)
# =============================================================================
def _windows(x, kernel_size, stride, pad):
    """A strided view (N, C, OH, OW, KH, KW) of every window of the zero-padded x."""
    (KH, KW), (SH, SW), (PH, PW) = kernel_size, stride, pad
    if PH or PW:
        x = np.pad(x, ((0, 0), (0, 0), (PH, PH), (PW, PW)))
    H, W = x.shape[2:]
    if H < KH or W < KW:
        raise ValueError(
            f"kernel {(KH, KW)} is larger than the padded input {(H, W)}; "
            "use a smaller kernel or more padding"
        )
    view = sliding_window_view(x, (KH, KW), axis=(2, 3))
    return view[:, :, ::SH, ::SW]


def im2col_array(x, kernel_size, stride, pad, to_matrix=True):
    """(N, C, KH, KW, OH, OW), or the matrix (N*OH*OW, C*KH*KW) with `to_matrix`."""
    windows = _windows(x, pair(kernel_size), pair(stride), pair(pad))
    if to_matrix:
        N, C, OH, OW, KH, KW = windows.shape
        return windows.transpose(0, 2, 3, 1, 4, 5).reshape(N * OH * OW, C * KH * KW)
    return np.ascontiguousarray(windows.transpose(0, 1, 4, 5, 2, 3))


def col2im_array(col, img_shape, kernel_size, stride, pad, to_matrix=True):
    """Sum every window of `col` back into an image of `img_shape` (im2col's adjoint)."""
    N, C, H, W = img_shape
    (KH, KW), (SH, SW), (PH, PW) = pair(kernel_size), pair(stride), pair(pad)
    OH, OW = get_conv_outsize(H, KH, SH, PH), get_conv_outsize(W, KW, SW, PW)
    if to_matrix:
        col = col.reshape(N, OH, OW, C, KH, KW).transpose(0, 3, 4, 5, 1, 2)
    return _col2im_windows(col, img_shape, (KH, KW), (SH, SW), (PH, PW))


def _col2im_windows(col, img_shape, kernel_size, stride, pad):
    """col indexed [n, c, kh, kw, oh, ow] (any strides) -> image (N, C, H, W)."""
    N, C, H, W = img_shape
    (KH, KW), (SH, SW), (PH, PW) = kernel_size, stride, pad
    OH, OW = col.shape[4:]
    # One extra stride of room so every slice below has exactly OH (OW) elements.
    img = np.zeros((N, C, H + 2 * PH + SH - 1, W + 2 * PW + SW - 1), dtype=col.dtype)
    for j in range(KH):
        for i in range(KW):
            img[:, :, j : j + SH * OH : SH, i : i + SW * OW : SW] += col[:, :, j, i]
    return img[:, :, PH : H + PH, PW : W + PW]


def _im2col_batched(x, kernel_size, stride, pad):
    """(N, C*KH*KW, OH*OW): each image's windows as columns, the layout the batched
    matmuls below want (their outputs come out contiguous and channel-first)."""
    windows = _windows(x, kernel_size, stride, pad)
    N, C, OH, OW, KH, KW = windows.shape
    col = windows.transpose(0, 1, 4, 5, 2, 3).reshape(N, C * KH * KW, OH * OW)
    return col, (OH, OW)


def conv2d_array(x, W, b, stride, pad):
    OC, C, KH, KW = W.shape
    col, (OH, OW) = _im2col_batched(x, (KH, KW), stride, pad)
    y = np.matmul(W.reshape(OC, -1), col)  # (N, OC, OH*OW)
    if b is not None:
        y += b.reshape(-1, 1)
    return y.reshape(len(x), OC, OH, OW)


def deconv2d_array(x, W, b, stride, pad, outsize):
    """Transposed convolution: x (N, C, H, W), W (C, OC, KH, KW) -> (N, OC, OH, OW)."""
    C, OC, KH, KW = W.shape
    N, _, H, Wd = x.shape
    stride, pad = pair(stride), pair(pad)
    if outsize is None:
        outsize = (
            get_deconv_outsize(H, KH, stride[0], pad[0]),
            get_deconv_outsize(Wd, KW, stride[1], pad[1]),
        )
    OH, OW = pair(outsize)
    col = np.matmul(W.reshape(C, -1).T, x.reshape(N, C, H * Wd))  # (N, OC*KH*KW, H*W)
    col = col.reshape(N, OC, KH, KW, H, Wd)
    y = _col2im_windows(col, (N, OC, OH, OW), (KH, KW), stride, pad)
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


def conv2d_grad_w_array(x, gy, kernel_size, stride, pad):
    """dL/dW of conv2d: sum over batch and positions of gy times the input windows."""
    KH, KW = pair(kernel_size)
    col, _ = _im2col_batched(x, (KH, KW), pair(stride), pair(pad))
    N, OC = gy.shape[:2]
    gW = np.matmul(gy.reshape(N, OC, -1), col.transpose(0, 2, 1)).sum(axis=0)
    return gW.reshape(OC, x.shape[1], KH, KW)


def _pool_cols(x, kernel_size, stride, pad):
    windows = _windows(x, pair(kernel_size), pair(stride), pair(pad))
    N, C, OH, OW, KH, KW = windows.shape
    return windows.reshape(N, C, OH, OW, KH * KW)


def pooling_grad_array(gy, pool):
    """Route gy to each window's argmax, then sum the windows back into the image."""
    N, C, OH, OW = gy.shape
    KH, KW = pair(pool.kernel_size)
    gcol = np.zeros((N, C, OH, OW, KH * KW), dtype=gy.dtype)
    np.put_along_axis(gcol, pool.indexes[..., None], gy[..., None], axis=4)
    gcol = gcol.reshape(N, C, OH, OW, KH, KW).transpose(0, 1, 4, 5, 2, 3)
    return _col2im_windows(gcol, pool.x_shape, (KH, KW), pair(pool.stride), pair(pool.pad))


def pooling_with_indexes_array(x, pool):
    cols = _pool_cols(x, pool.kernel_size, pool.stride, pool.pad)
    return np.take_along_axis(cols, pool.indexes[..., None], axis=4)[..., 0]


# =============================================================================
# Functions
# =============================================================================
class Conv2d(Function):
    __slots__ = ("stride", "pad")

    def __init__(self, stride=1, pad=0):
        self.stride, self.pad = pair(stride), pair(pad)

    def forward(self, x, W, b=None):
        _check_conv(x, W, "conv2d", W.shape[1])
        return conv2d_array(x, W, b, self.stride, self.pad)

    def vjp(self, m, gy, x, W, *b_and_y):
        k = _kernels(m)
        gx = None  # an input batch given as an array: its gradient (a col2im) is never read
        if self.needs_input_grad(0):
            gx = k.deconv2d(gy, W, None, self.stride, self.pad, x.shape[2:])
        gW = k.conv2d_grad_w(x, gy, W.shape[2:], self.stride, self.pad)
        return gx, gW, m.sum(gy, axis=(0, 2, 3))


class Deconv2d(Function):
    __slots__ = ("stride", "pad", "outsize")

    def __init__(self, stride=1, pad=0, outsize=None):
        self.stride, self.pad, self.outsize = pair(stride), pair(pad), outsize

    def forward(self, x, W, b=None):
        _check_conv(x, W, "deconv2d", W.shape[0])
        return deconv2d_array(x, W, b, self.stride, self.pad, self.outsize)

    def vjp(self, m, gy, x, W, *b_and_y):
        k = _kernels(m)
        gx = k.conv2d(gy, W, None, self.stride, self.pad) if self.needs_input_grad(0) else None
        gW = k.conv2d_grad_w(gy, x, W.shape[2:], self.stride, self.pad)
        return gx, gW, m.sum(gy, axis=(0, 2, 3))


class Conv2dGradW(Function):
    __slots__ = ("kernel_size", "stride", "pad")

    def __init__(self, kernel_size, stride, pad):
        self.kernel_size, self.stride, self.pad = pair(kernel_size), pair(stride), pair(pad)

    def forward(self, x, gy):
        return conv2d_grad_w_array(x, gy, self.kernel_size, self.stride, self.pad)

    def vjp(self, m, ggW, x, gy, y):
        k = _kernels(m)
        gx = k.deconv2d(gy, ggW, None, self.stride, self.pad, x.shape[2:])
        ggy = k.conv2d(x, ggW, None, self.stride, self.pad)
        return gx, ggy


class Im2col(Function):
    __slots__ = ("kernel_size", "stride", "pad", "to_matrix")

    def __init__(self, kernel_size, stride, pad, to_matrix):
        self.kernel_size, self.stride, self.pad = pair(kernel_size), pair(stride), pair(pad)
        self.to_matrix = to_matrix

    def forward(self, x):
        return im2col_array(x, self.kernel_size, self.stride, self.pad, self.to_matrix)

    def vjp(self, m, gy, x, y):
        args = (self.kernel_size, self.stride, self.pad, self.to_matrix)
        return _kernels(m).col2im(gy, x.shape, *args)


class Col2im(Function):
    __slots__ = ("input_shape", "kernel_size", "stride", "pad", "to_matrix")

    def __init__(self, input_shape, kernel_size, stride, pad, to_matrix):
        self.input_shape = tuple(input_shape)
        self.kernel_size, self.stride, self.pad = pair(kernel_size), pair(stride), pair(pad)
        self.to_matrix = to_matrix

    def forward(self, col):
        args = (self.kernel_size, self.stride, self.pad, self.to_matrix)
        return col2im_array(col, self.input_shape, *args)

    def vjp(self, m, gy, col, y):
        return _kernels(m).im2col(gy, self.kernel_size, self.stride, self.pad, self.to_matrix)


class Pooling(Function):
    """Max pooling; zero padding, as the book's im2col pads (torch pads with -inf)."""

    __slots__ = ("kernel_size", "stride", "pad", "indexes", "x_shape")

    def __init__(self, kernel_size, stride=1, pad=0):
        self.kernel_size, self.stride, self.pad = pair(kernel_size), pair(stride), pair(pad)

    def forward(self, x):
        self.x_shape = x.shape
        cols = _pool_cols(x, self.kernel_size, self.stride, self.pad)
        # Ties go to the first maximum in the window, as argmax (and torch) choose.
        self.indexes = cols.argmax(axis=4)
        return np.take_along_axis(cols, self.indexes[..., None], axis=4)[..., 0]

    def vjp(self, m, gy, x, y):
        return _kernels(m).pooling_grad(gy, self)


class PoolingGrad(Function):
    """Pooling's backward as a Function, so max pooling has second derivatives."""

    __slots__ = ("pool",)

    def __init__(self, pool):
        self.pool = pool

    def forward(self, gy):
        return pooling_grad_array(gy, self.pool)

    def vjp(self, m, ggx, gy, y):
        return _kernels(m).pooling_with_indexes(ggx, self.pool)


class PoolingWithIndexes(Function):
    """Picks the elements the forward pooling picked: PoolingGrad's adjoint."""

    __slots__ = ("pool",)

    def __init__(self, pool):
        self.pool = pool

    def forward(self, x):
        return pooling_with_indexes_array(x, self.pool)

    def vjp(self, m, gy, x, y):
        return _kernels(m).pooling_grad(gy, self.pool)


class AveragePooling(Function):
    """Mean over each window; padded zeros count in the mean (torch's count_include_pad)."""

    __slots__ = ("kernel_size", "stride", "pad")

    def __init__(self, kernel_size, stride=1, pad=0):
        self.kernel_size, self.stride, self.pad = pair(kernel_size), pair(stride), pair(pad)

    def forward(self, x):
        return _pool_cols(x, self.kernel_size, self.stride, self.pad).mean(axis=4)

    def vjp(self, m, gy, x, y):
        N, C, OH, OW = gy.shape
        KH, KW = self.kernel_size
        gy = m.reshape(gy * (1.0 / (KH * KW)), (N, C, 1, 1, OH, OW))
        gcol = m.broadcast_to(gy, (N, C, KH, KW, OH, OW))
        return _kernels(m).col2im(gcol, x.shape, self.kernel_size, self.stride, self.pad, False)


def _check_conv(x, W, name, in_channels):
    if x.ndim != 4 or W.ndim != 4 or x.shape[1] != in_channels:
        raise ValueError(
            f"{name} expects x (N, C, H, W) and a 4-d W whose input channels match C, "
            f"got x {x.shape} and W {W.shape}"
        )


# =============================================================================
# Public wrappers
# =============================================================================
def conv2d(x, W, b=None, stride=1, pad=0):
    f = Conv2d(stride, pad)
    return f(x, W) if b is None else f(x, W, b)


def deconv2d(x, W, b=None, stride=1, pad=0, outsize=None):
    f = Deconv2d(stride, pad, outsize)
    return f(x, W) if b is None else f(x, W, b)


def conv2d_grad_w(x, gy, kernel_size, stride=1, pad=0):
    return Conv2dGradW(kernel_size, stride, pad)(x, gy)


def im2col(x, kernel_size, stride=1, pad=0, to_matrix=True):
    return Im2col(kernel_size, stride, pad, to_matrix)(x)


def col2im(x, input_shape, kernel_size, stride=1, pad=0, to_matrix=True):
    return Col2im(input_shape, kernel_size, stride, pad, to_matrix)(x)


def pooling(x, kernel_size, stride=1, pad=0):
    return Pooling(kernel_size, stride, pad)(x)


def average_pooling(x, kernel_size, stride=1, pad=0):
    return AveragePooling(kernel_size, stride, pad)(x)


def pooling_grad(gy, pool):
    return PoolingGrad(pool)(gy)


def pooling_with_indexes(x, pool):
    return PoolingWithIndexes(pool)(x)


def conv2d_simple(x, W, b=None, stride=1, pad=0):
    """conv2d composed from im2col, linear and reshapes: slower, same result."""
    x, W = as_variable(x), as_variable(W)
    N, C, H, Wd = x.shape
    OC, C, KH, KW = W.shape
    (SH, SW), (PH, PW) = pair(stride), pair(pad)
    OH, OW = get_conv_outsize(H, KH, SH, PH), get_conv_outsize(Wd, KW, SW, PW)
    col = im2col(x, (KH, KW), stride, pad, to_matrix=True)
    y = linear(col, W.reshape(OC, -1).transpose(), b)
    return y.reshape(N, OH, OW, OC).transpose(0, 3, 1, 2)


def pooling_simple(x, kernel_size, stride=1, pad=0):
    """Max pooling composed from im2col and max: slower, same result."""
    x = as_variable(x)
    N, C, H, W = x.shape
    (KH, KW), (SH, SW), (PH, PW) = pair(kernel_size), pair(stride), pair(pad)
    OH, OW = get_conv_outsize(H, KH, SH, PH), get_conv_outsize(W, KW, SW, PW)
    col = im2col(x, (KH, KW), stride, pad, to_matrix=True).reshape(-1, KH * KW)
    y = max(col, axis=1)
    return y.reshape(N, OH, OW, C).transpose(0, 3, 1, 2)


_array_kernels = types.SimpleNamespace(
    conv2d=conv2d_array,
    deconv2d=deconv2d_array,
    conv2d_grad_w=conv2d_grad_w_array,
    im2col=im2col_array,
    col2im=col2im_array,
    pooling_grad=pooling_grad_array,
    pooling_with_indexes=pooling_with_indexes_array,
)
_graph_kernels = sys.modules[__name__]


def _kernels(m):
    """The fast sweep's namespace is array_ops: use the array kernels; else the Functions."""
    return _array_kernels if m is array_ops else _graph_kernels


__all__ = [
    "average_pooling",
    "col2im",
    "conv2d",
    "conv2d_grad_w",
    "conv2d_simple",
    "deconv2d",
    "get_conv_outsize",
    "get_deconv_outsize",
    "im2col",
    "pair",
    "pooling",
    "pooling_simple",
]
