"""mygrad 2.5.0: `maximum` at a tie gives both inputs a zero gradient.

Found by dezero-bench's gradient fuzzer (seed 11, 1000 programs: `python -m bench fuzz
--backends paddle tensorflow mygrad --programs 1000 --seed 11`), shrunk by hypothesis to
this 1-op program. Root cause `maximum-grad-wrong`. Kind: bug: at x0 == x1 the engine sends
the gradient to neither input. Which input gets it at a tie is a convention, but the two
must total 1 (along x0 = x1 = t, maximum is t): a total of 0 is wrong for every convention.

Prints the engine's derivative next to the exact one (the project's longdouble reference);
exits 1 while the finding holds, 0 once it does not.
"""

# Written by `python -m bench tables` (validation/fuzz/standalone.py) from
# results/fuzz_findings.csv.
# ruff: noqa
import sys

import numpy as np
import mygrad as mg
from mygrad.nnet import activations

def tril(x, k):
    """tril as a product with numpy's 0/1 triangle (no tril here): kept elements times 1."""
    return x * np.tril(np.ones(tuple(x.shape)[-2:]), k)


def triu(x, k):
    return x * np.triu(np.ones(tuple(x.shape)[-2:]), k)


def logsumexp(x, axis=None, keepdims=False):
    """mygrad has no logsumexp: log(sum(exp(x - m))) + m, the maximum m held constant."""
    m = np.max(x.data, axis=axis, keepdims=True)
    y = mg.log(mg.sum(mg.exp(x - m), axis=axis, keepdims=keepdims))
    return y + (m if keepdims else np.squeeze(m, axis=axis))


ENGINE = 'mygrad'
VERSION = mg.__version__
SECOND = False  # whether the second derivative (H v) is taken too
OPS = {
    'add': mg.add,
    'maximum': mg.maximum,
    'sum': lambda x, axis=None, keepdims=False: mg.sum(x, axis=axis, keepdims=keepdims),
}
INPUTS = [
    np.array([float.fromhex(v) for v in ('0x1.187f5e7ece140p-1',)], np.float64).reshape(()),
    np.array([float.fromhex(v) for v in ('0x1.187f5e7ece140p-1',)], np.float64).reshape(()),
]
DIRECTION = [  # v of H v
]
# exact, from the project's reference (longdouble tape; H v by the complex step)
EXACT = {
    'total': np.array([float.fromhex(v) for v in ('0x1.0000000000000p+0',)], np.float64).reshape(()),
}
# the fuzzer's tolerance: a correctly rounding engine is within it
TOLERANCE = {'total': 5.802389818621023e-14}


def program(v0, v1):
    v2 = OPS['maximum'](v0, v1)
    return OPS['sum'](v2)


def derivatives():
    leaves = [mg.tensor(x) for x in INPUTS]
    out = program(*leaves)
    out.backward()
    return {"value": out.data} | named("grad", [t.grad for t in leaves])


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
