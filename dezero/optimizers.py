"""dezero.optimizers: update rules (SGD, MomentumSGD, AdaGrad, AdaDelta, Adam) and hooks.

`setup(model)` binds the target; `update()` runs each hook on the parameters that have
a gradient, then `update_one` on each, in place on `param.data`.
"""

import math

from dezero import cuda


class Optimizer:
    def __init__(self):
        self.target = None
        self.hooks = []

    def setup(self, target):
        self.target = target
        return self

    def update(self):
        params = [p for p in self.target.params() if p.grad is not None]
        if self.hooks:
            for hook in self.hooks:
                hook(params)
            params = [p for p in params if p.grad is not None]  # FreezeParam clears some
        update_one = self.update_one
        for param in params:
            update_one(param)

    def update_one(self, param):
        raise NotImplementedError(f"{type(self).__name__} does not define update_one")

    def add_hook(self, f):
        self.hooks.append(f)


class _Stateful(Optimizer):
    """Per-parameter state arrays, keyed by the Parameter's id, created as zeros."""

    def __init__(self):
        super().__init__()
        self._state = {}

    def state(self, param, name):
        key = (id(param), name)
        if key not in self._state:
            self._state[key] = cuda.get_array_module(param.data).zeros_like(param.data)
        return self._state[key]


# =============================================================================
# Update rules
# =============================================================================
class SGD(Optimizer):
    def __init__(self, lr=0.01):
        super().__init__()
        self.lr = lr

    def update_one(self, param):
        param.data -= self.lr * param.grad.data


class MomentumSGD(_Stateful):
    """v <- momentum v - lr g; param <- param + v."""

    def __init__(self, lr=0.01, momentum=0.9):
        super().__init__()
        self.lr, self.momentum = lr, momentum

    def update_one(self, param):
        v = self.state(param, "v")
        v *= self.momentum
        v -= self.lr * param.grad.data
        param.data += v


class AdaGrad(_Stateful):
    """h <- h + g^2; param <- param - lr g / (sqrt(h) + eps)."""

    def __init__(self, lr=0.001, eps=1e-8):
        super().__init__()
        self.lr, self.eps = lr, eps

    def update_one(self, param):
        xp = cuda.get_array_module(param.data)
        g = param.grad.data
        h = self.state(param, "h")
        h += g * g
        param.data -= self.lr * g / (xp.sqrt(h) + self.eps)


class AdaDelta(_Stateful):
    """Running averages of g^2 and of the step^2 set the step size (no learning rate)."""

    def __init__(self, rho=0.95, eps=1e-6):
        super().__init__()
        self.rho, self.eps = rho, eps

    def update_one(self, param):
        xp = cuda.get_array_module(param.data)
        g = param.grad.data
        msg, msdx = self.state(param, "msg"), self.state(param, "msdx")
        msg *= self.rho
        msg += (1 - self.rho) * g * g
        dx = xp.sqrt((msdx + self.eps) / (msg + self.eps)) * g
        msdx *= self.rho
        msdx += (1 - self.rho) * dx * dx
        param.data -= dx


class Adam(_Stateful):
    """Adam with the bias correction folded into the step size `lr` (the book's form:
    eps is added to sqrt(v) before the correction, so it differs from torch's by eps terms)."""

    def __init__(self, alpha=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__()
        self.t = 0
        self.alpha, self.beta1, self.beta2, self.eps = alpha, beta1, beta2, eps

    def update(self, *args, **kwargs):
        self.t += 1
        super().update(*args, **kwargs)

    @property
    def lr(self):
        fix1 = 1.0 - math.pow(self.beta1, self.t)
        fix2 = 1.0 - math.pow(self.beta2, self.t)
        return self.alpha * math.sqrt(fix2) / fix1

    def update_one(self, param):
        xp = cuda.get_array_module(param.data)
        g = param.grad.data
        m, v = self.state(param, "m"), self.state(param, "v")
        m += (1 - self.beta1) * (g - m)
        v += (1 - self.beta2) * (g * g - v)
        param.data -= self.lr * m / (xp.sqrt(v) + self.eps)


# =============================================================================
# Hooks: called with the list of parameters that have gradients, before the update
# =============================================================================
class WeightDecay:
    """L2 penalty: g <- g + rate * param."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, params):
        for param in params:
            param.grad.data += self.rate * param.data


class ClipGrad:
    """Rescale every gradient by one factor so that their joint L2 norm is at most max_norm."""

    def __init__(self, max_norm):
        self.max_norm = max_norm

    def __call__(self, params):
        grads = [p.grad.data for p in params]
        norm = math.sqrt(sum(float((g * g).sum()) for g in grads))
        factor = self.max_norm / (norm + 1e-6)  # 1e-6: no division by zero for zero gradients
        if factor >= 1:
            return
        for g in grads:
            g *= factor


class FreezeParam:
    """Keep some parameters fixed: their gradients are dropped before the update.

    Takes Layers (all their parameters) or single Parameters.
    """

    def __init__(self, *targets):
        self.frozen = [p for t in targets for p in (t.params() if hasattr(t, "params") else (t,))]

    def __call__(self, params):
        for param in self.frozen:
            param.grad = None


__all__ = [
    "SGD", "AdaDelta", "AdaGrad", "Adam", "ClipGrad", "FreezeParam", "MomentumSGD",
    "Optimizer", "WeightDecay",
]  # fmt: skip
