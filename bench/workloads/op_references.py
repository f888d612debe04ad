"""numpy references for the op table's ops that take more than a line: written by slicing and
plain loops (not by dezero's im2col), and only with operations that also run on complex
inputs, since the gate differentiates them by the complex step (`validation.op_gate`).
"""

import numpy as np

from bench.workloads.ops import expand


def np_log_softmax(x, axis=1):
    x_max = x.max(axis=axis, keepdims=True)
    return x - x_max - np.log(np.exp(x - x_max).sum(axis=axis, keepdims=True))


def np_bce(p, t):
    return -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))


def np_windows(x, k, stride, pad):
    """Every k x k window of the zero-padded x, as (N, C, KH, KW, OH, OW), by plain slicing."""
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    OH, OW = (x.shape[2] - k) // stride + 1, (x.shape[3] - k) // stride + 1
    rows = [
        [x[:, :, i : i + stride * OH : stride, j : j + stride * OW : stride] for j in range(k)]
        for i in range(k)
    ]
    return np.stack([np.stack(row, axis=2) for row in rows], axis=2)


def np_conv2d(x, W, b, stride=2, pad=1):
    y = np.einsum("ncijhw,ocij->nohw", np_windows(x, W.shape[2], stride, pad), W)
    return y + b.reshape(1, -1, 1, 1)


def np_deconv2d(x, W, b, stride=2, pad=1):
    """Each input pixel scatters W's kernel into the output at stride: conv2d's adjoint."""
    N, _, H, Wd = x.shape
    k = W.shape[2]
    OH, OW = stride * (H - 1) + k, stride * (Wd - 1) + k
    y = np.zeros((N, W.shape[1], OH, OW), dtype=np.result_type(x, W))
    for i in range(k):
        for j in range(k):
            y[:, :, i : i + stride * H : stride, j : j + stride * Wd : stride] += np.einsum(
                "nchw,co->nohw", x, W[:, :, i, j]
            )
    return y[:, :, pad : OH - pad, pad : OW - pad] + b.reshape(1, -1, 1, 1)


def np_col2im(col, img_shape=(2, 2, 4, 4), k=3, stride=1, pad=1):
    N, C, H, W = img_shape
    OH, OW = col.shape[4:]
    img = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=col.dtype)
    for i in range(k):
        for j in range(k):
            img[:, :, i : i + stride * OH : stride, j : j + stride * OW : stride] += col[:, :, i, j]
    return img[:, :, pad : pad + H, pad : pad + W]


def np_batch_norm(x, gamma, beta, eps=2e-5):
    """Training mode: each column normalised by the batch's own mean and (biased) variance."""
    mean = x.mean(axis=0)
    var = ((x - mean) ** 2).mean(axis=0)
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


# Second-order helpers gated as functions in their own right: their vjp is what a second
# derivative of get_item, conv2d and pooling runs. Max pooling's helpers route through the
# windows' argmax positions of one fixed input.
POOLED = np.random.default_rng(7).uniform(-2, 2, (2, 2, 4, 4))


def np_argmax_masks():
    """(window offset i, j, mask over the pooled grid) of each window's maximum in POOLED."""
    flat = np_windows(POOLED, 2, 2, 0).reshape(2, 2, 4, 2, 2)
    winner = flat.argmax(axis=2)
    return [(i, j, winner == 2 * i + j) for i in range(2) for j in range(2)]


def np_pooling_grad(gy):
    gx = np.zeros(POOLED.shape, dtype=gy.dtype)
    for i, j, mask in np_argmax_masks():
        gx[:, :, i::2, j::2] += np.where(mask, gy, 0)
    return gx


def np_pooling_with_indexes(x):
    return sum(np.where(mask, x[:, :, i::2, j::2], 0) for i, j, mask in np_argmax_masks())


def np_get_item_grad(gy):
    gx = np.zeros((3, 4), dtype=gy.dtype)
    np.add.at(gx, np.array([0, 0, 2, 0]), gy)
    return gx


# The fuzzed ops' references with their attributes, and their vjps. Selections (max, relu,
# clip) are taken on the real part, so the complex step follows the real computation's branch.
REPEATED = (0, 0, 2, 0)  # get_item's sample index: repeated indices must add up


def max_vjp(gy, x, y, axis=None, keepdims=False):
    # no ties by construction (see validation.fuzz.programs), so one winner per slice
    winners = x.real == expand(y.real, x.shape, axis, keepdims)
    return (expand(gy, x.shape, axis, keepdims) * winners,)


def np_relu(x):
    return x * (x.real > 0)


def relu_vjp(gy, x, y):
    return (gy * (x.real > 0),)


def np_clip(x, lo=-0.5, hi=0.5):
    return np.where(x.real < lo, lo, np.where(x.real > hi, hi, x))


def clip_vjp(gy, x, y, lo=-0.5, hi=0.5):
    return (gy * ((x.real >= lo) & (x.real <= hi)),)


def np_reshape(x, shape=None):
    """x reshaped to `shape` (default: its own shape reversed)."""
    return np.reshape(x, x.shape[::-1] if shape is None else shape)


def reshape_vjp(gy, x, y, shape=None):
    return (np.reshape(gy, x.shape),)


def transpose_vjp(gy, x, y, axes=None):
    return (np.transpose(gy, None if axes is None else np.argsort(axes)),)


def np_get_item(x, index=REPEATED):
    return x[np.asarray(index)]


def get_item_vjp(gy, x, y, index=REPEATED):
    gx = np.zeros(x.shape, dtype=gy.dtype)
    np.add.at(gx, np.asarray(index), gy)  # repeated indices add up
    return (gx,)


def np_softmax(x, axis=1):
    return np.exp(np_log_softmax(x, axis))


def softmax_vjp(gy, x, y, axis=1):
    return (y * (gy - np.sum(gy * y, axis=axis, keepdims=True)),)


def log_softmax_vjp(gy, x, y, axis=1):
    return (gy - np.exp(y) * np.sum(gy, axis=axis, keepdims=True),)
