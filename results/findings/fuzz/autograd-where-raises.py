"""autograd 1.9.1: `where` with a broadcast operand: its gradient keeps the broadcast shape.

Found by dezero-bench's gradient fuzzer (seed 27, 300 programs: `python -m bench fuzz
--backends autograd --programs 300 --seed 27`), shrunk by hypothesis to this 1-op program.
Root cause `where-raises`. Kind: bug: where's vjp does not sum a broadcast operand's
gradient back to the operand's shape (a 0-d operand gets a (1,)-shaped gradient), so
accumulating it raises (or, alone, returns the wrong shape). Every other broadcasting op
unbroadcasts; where is a documented differentiable numpy function.

Prints the engine's derivative next to the exact one (the project's longdouble reference);
exits 1 while the finding holds, 0 once it does not.
"""

# Written by `python -m bench tables` (validation/fuzz/standalone.py) from
# results/fuzz_findings.csv.
# ruff: noqa
import importlib.metadata
import sys

import numpy as np
import autograd
import autograd.numpy as anp
import autograd.scipy.special

def softmax(x, axis):
    """autograd has no softmax: written as its users write it, shifted by the max."""
    e = anp.exp(x - anp.max(x, axis=axis, keepdims=True))
    return e / anp.sum(e, axis=axis, keepdims=True)


def log_softmax(x, axis):
    shifted = x - anp.max(x, axis=axis, keepdims=True)
    return shifted - anp.log(anp.sum(anp.exp(shifted), axis=axis, keepdims=True))


ENGINE = 'autograd'
VERSION = importlib.metadata.version('autograd')
SECOND = False  # whether the second derivative (H v) is taken too
OPS = {
    'add': anp.add,
    'sum': lambda x, axis=None, keepdims=False: anp.sum(x, axis=axis, keepdims=keepdims),
    'where': lambda a, b, mask: anp.where(mask, a, b),
}
INPUTS = [
    np.array([float.fromhex(v) for v in ('0x1.187f5e7ece140p-1',)], np.float64).reshape(()),
    np.array([float.fromhex(v) for v in ('0x1.7497e1b7c6a3cp+0',)], np.float64).reshape((1,)),
]
DIRECTION = [  # v of H v
]
# exact, from the project's reference (longdouble tape; H v by the complex step)
EXACT = {
    'grad0': np.array([float.fromhex(v) for v in ('0x1.0000000000000p+0',)], np.float64).reshape(()),
    'grad1': np.array([float.fromhex(v) for v in ('0x0.0p+0',)], np.float64).reshape((1,)),
}
# the fuzzer's tolerance: a correctly rounding engine is within it
TOLERANCE = {'grad0': 5.684341886080802e-14, 'grad1': 5.684341886080802e-14}


def program(v0, v1):
    v2 = OPS['where'](v1, v0, mask=np.array([False], bool).reshape((1,)))
    return OPS['sum'](v2)


def objective(xs):
    return program(*xs)


def derivatives():
    xs = tuple(INPUTS)
    result = {"value": objective(xs)}
    result |= named("grad", autograd.grad(objective)(xs))
    if SECOND:
        hvp = autograd.grad(lambda xs: dot(autograd.grad(objective)(xs), DIRECTION))(xs)
        result |= named("hvp", hvp)
    return result


def named(prefix, arrays):
    return {f"{prefix}{i}": a for i, a in enumerate(arrays)}


def dot(grads, direction):
    total = None
    for g, v in zip(grads, direction):
        term = OPS["sum"](OPS["mul"](g, v))
        total = term if total is None else OPS["add"](total, term)
    return total


print(ENGINE, VERSION)
try:
    got = derivatives()
except Exception as error:  # the finding, when it is that the engine raises
    print(f"{ENGINE} raises {type(error).__name__}: {str(error)[:300]}")
    print("finding holds")
    sys.exit(1)
if "total" in EXACT:  # a tie: each gradient is a convention, only their total is not
    for name in sorted(got):
        if name.startswith("grad"):
            print(f"{name} {ENGINE}:", repr(np.asarray(got[name], np.float64).tolist()))
    print("(the derivative along both inputs together is their total)")
    grads = [0.0 if g is None else g for n, g in got.items() if n.startswith("grad")]
    got["total"] = sum(np.sum(np.asarray(g, np.float64)) for g in grads)
problems = []
for name, want in EXACT.items():
    # an input the objective does not reach: no gradient, which is a zero one
    have = got.get(name)
    have = np.zeros_like(want) if have is None else np.asarray(have, dtype=np.float64)
    print(f"{name} {ENGINE}:", repr(have.tolist()))
    print(f"{name} exact: ", repr(want.tolist()))
    if have.shape != want.shape:
        problems.append(f"{name} has shape {have.shape}, exact {want.shape}")
    elif not np.all(np.isfinite(have)):
        problems.append(f"{name} is not finite")
    elif np.max(np.abs(have - want), initial=0.0) > TOLERANCE[name]:
        error = np.max(np.abs(have - want))
        problems.append(f"{name} is {error:.3g} off, beyond {TOLERANCE[name]:.3g}")
print("finding holds: " + "; ".join(problems) if problems else "fixed in this version")
sys.exit(1 if problems else 0)
