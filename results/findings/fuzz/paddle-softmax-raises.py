"""paddle 3.3.1: no second derivative of softmax.

Found by dezero-bench's gradient fuzzer (seed 11, 1000 programs: `python -m bench fuzz
--backends paddle tensorflow mygrad --programs 1000 --seed 11`), shrunk by hypothesis to
this 1-op program. Root cause `softmax-raises`. Kind: stated limitation: paddle's
softmax_grad has no grad op; the error says so and asks to set create_graph=False. Not a
wrong number: the first derivative is right.

Prints the engine's derivative next to the exact one (the project's longdouble reference);
exits 1 while the finding holds, 0 once it does not.
"""

# Written by `python -m bench tables` (validation/fuzz/standalone.py) from
# results/fuzz_findings.csv.
# ruff: noqa
import sys

import numpy as np
import paddle
import paddle.nn.functional as F

ENGINE = 'paddle'
VERSION = paddle.__version__
SECOND = True  # whether the second derivative (H v) is taken too
OPS = {
    'add': paddle.add,
    'mul': paddle.multiply,
    'softmax': lambda x, axis: F.softmax(x, axis=axis),
    'sum': lambda x, axis=None, keepdims=False: paddle.sum(x, axis=axis, keepdim=keepdims),
}
INPUTS = [
    np.array([float.fromhex(v) for v in ('0x1.187f5e7ece140p-1',)], np.float64).reshape((1,)),
]
DIRECTION = [  # v of H v
    np.array([float.fromhex(v) for v in ('0x1.017ed89db8441p-3',)], np.float64).reshape((1,)),
]
# exact, from the project's reference (longdouble tape; H v by the complex step)
EXACT = {
    'grad0': np.array([float.fromhex(v) for v in ('0x0.0p+0',)], np.float64).reshape((1,)),
    'hvp0': np.array([float.fromhex(v) for v in ('0x0.0p+0',)], np.float64).reshape((1,)),
}
# the fuzzer's tolerance: a correctly rounding engine is within it
TOLERANCE = {'grad0': 5.684341886080802e-14, 'hvp0': 1e-10}


def program(v0):
    v1 = OPS['softmax'](v0, axis=0)
    return OPS['sum'](v1)


def derivatives():
    leaves = [paddle.to_tensor(x, stop_gradient=False) for x in INPUTS]
    out = program(*leaves)
    grads = paddle.grad([out], leaves, create_graph=SECOND, allow_unused=True)
    result = {"value": out.numpy()}
    result |= named("grad", [None if g is None else g.numpy() for g in grads])
    if SECOND:
        pairs = [(g, v) for g, v in zip(grads, DIRECTION) if g is not None]
        total = dot([g for g, _ in pairs], [paddle.to_tensor(v) for _, v in pairs])
        hvp = [None] * len(leaves)
        if total is not None and not total.stop_gradient:  # else: a constant gradient
            hvp = paddle.grad([total], leaves, allow_unused=True)
        result |= named("hvp", [None if h is None else h.numpy() for h in hvp])
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
