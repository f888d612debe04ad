"""Functions the book's layers and early chapters use: batch_norm, embed_id and the
`_simple` (composed, slower) softmax and cross-entropy. dezero.functions re-exports them.
"""

import numpy as np

from dezero.core import Config, Function, as_variable
from dezero.functions_elementwise import clip, exp, log
from dezero.functions_reduce import sum


class BatchNorm(Function):
    """Normalise each channel over the batch (and, for images, over H and W).

    Training uses the batch's statistics and folds them into the running `mean`/`var`
    arrays in place (var unbiased, as torch does); test mode uses the running ones.
    """

    __slots__ = ("mean", "var", "decay", "eps", "inv_std", "batch_mean", "train")

    def __init__(self, mean, var, decay, eps):
        self.mean, self.var, self.decay, self.eps = mean, var, decay, eps

    def forward(self, x, gamma, beta):
        x2 = _channels_last(x, np)
        self.train = Config.train
        if self.train:
            mean, var = x2.mean(axis=0), x2.var(axis=0)
            rows = x2.shape[0]
            unbiased = var * (rows / (rows - 1.0) if rows > 1 else 1.0)
            self.mean *= self.decay
            self.mean += (1 - self.decay) * mean
            self.var *= self.decay
            self.var += (1 - self.decay) * unbiased
        else:
            mean, var = self.mean, self.var
        self.batch_mean = mean.astype(x.dtype, copy=False)
        self.inv_std = (1 / np.sqrt(var + self.eps)).astype(x.dtype, copy=False)
        y = gamma * ((x2 - self.batch_mean) * self.inv_std) + beta
        return _from_channels_last(y, x.shape, np)

    def vjp(self, m, gy, x, gamma, beta, y):
        gy2 = _channels_last(gy, m)
        xc = (_channels_last(x, m) - self.batch_mean) * self.inv_std
        gbeta = m.sum(gy2, axis=0)
        ggamma = m.sum(xc * gy2, axis=0)
        if self.train:
            # The batch statistics depend on x too: remove their share of the gradient.
            rows = gy2.shape[0]
            gy2 = gy2 - (gbeta + xc * ggamma) * (1.0 / rows)
        gx = gy2 * (gamma * self.inv_std)
        return _from_channels_last(gx, x.shape, m), ggamma, gbeta


def _channels_last(x, m):
    """(N, C) stays; (N, C, H, W) becomes (N*H*W, C), so statistics are per channel."""
    if x.ndim == 2:
        return x
    if x.ndim != 4:
        raise ValueError(f"batch_norm expects (N, C) or (N, C, H, W) input, got shape {x.shape}")
    C = x.shape[1]
    return m.reshape(m.transpose(x, (0, 2, 3, 1)), (-1, C))


def _from_channels_last(y, shape, m):
    if len(shape) == 2:
        return y
    N, C, H, W = shape
    return m.transpose(m.reshape(y, (N, H, W, C)), (0, 3, 1, 2))


def batch_norm(x, gamma, beta, mean, var, decay=0.9, eps=2e-5):
    """The book's F.batch_norm; `mean` and `var` are ndarrays updated in place in training."""
    return BatchNorm(mean, var, decay, eps)(x, gamma, beta)


def embed_id(x, W):
    """Rows of W picked by the integer ids in x (gradient: scatter-add into those rows)."""
    return as_variable(W)[x]


def softmax_simple(x, axis=1):
    """softmax composed from exp, sum and div: the book's step-47 version."""
    y = exp(as_variable(x))
    return y / sum(y, axis=axis, keepdims=True)


def softmax_cross_entropy_simple(x, t):
    """Mean -log p[t] composed from softmax_simple, clip, log and indexing."""
    x, t = as_variable(x), as_variable(t)
    N = x.shape[0]
    p = clip(softmax_simple(x), 1e-15, 1.0)
    log_p = log(p)[np.arange(N), t.data]
    return -1 * sum(log_p) / N
