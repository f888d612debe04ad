"""tinygrad 0.14.0: tanh's second derivative is NaN at large |x|.

Found by dezero-bench's gradient fuzzer (seed 12, 100 programs: `python -m bench fuzz
--backends tinygrad --programs 100 --seed 12`), shrunk by hypothesis to this 1-op program.
Root cause `tanh-hvp-nonfinite`. Kind: bug: the exact second derivative there is 0 (it
underflows); the engine's formula overflows on the way (autograd's vjp is g / cosh(x)**2,
cosh overflowing past |x| = 710; tinygrad writes tanh as 2 sigmoid(2x) - 1 with sigmoid 1 /
(1 + exp(-x)), exp overflowing for large negative x), and differentiating it gives inf / inf
or inf * 0 = NaN. A formula-robustness bug: written through 1 - tanh(x)**2, or exp of -|x|,
it stays finite.

Prints the engine's derivative next to the exact one (the project's longdouble reference);
exits 1 while the finding holds, 0 once it does not.
"""

# Written by `python -m bench tables` (validation/fuzz/standalone.py) from
# results/fuzz_findings.csv.
# ruff: noqa
import importlib.metadata
import shutil
import sys

import numpy as np
from tinygrad import Tensor
from tinygrad.helpers import Context

ENGINE = 'tinygrad'
VERSION = importlib.metadata.version('tinygrad')
SECOND = True  # whether the second derivative (H v) is taken too
OPS = {
    'add': Tensor.add,
    'mul': Tensor.mul,
    'sum': lambda x, axis=None, keepdims=False: x.sum(axis=axis, keepdim=keepdims),
    'tanh': Tensor.tanh,
}
INPUTS = [
    np.array([float.fromhex(v) for v in ('-0x1.adce1f05c13dfp+8',)], np.float64).reshape(()),
]
DIRECTION = [  # v of H v
    np.array([float.fromhex(v) for v in ('0x1.017ed89db8441p-3',)], np.float64).reshape(()),
]
# exact, from the project's reference (longdouble tape; H v by the complex step)
EXACT = {
    'hvp0': np.array([float.fromhex(v) for v in ('0x0.0p+0',)], np.float64).reshape(()),
}
# the fuzzer's tolerance: a correctly rounding engine is within it
TOLERANCE = {'hvp0': 1e-10}


def program(v0):
    v1 = OPS['tanh'](v0)
    return OPS['sum'](v1)


# the device the fuzzer ran on: CPU where clang compiles its kernels, else the PYTHON
# emulator, which then runs the CPU device's polynomial sin/exp/log (TRANSCENDENTAL=2)
DEVICE = "CPU" if shutil.which("clang") else "PYTHON"
CONTEXT = {"DEV": DEVICE, "TRANSCENDENTAL": 2 if DEVICE == "PYTHON" else 1}


def leaf(a):
    return Tensor(np.reshape(a, -1), device=DEVICE).reshape(np.shape(a))


def read(t):
    return (t if t.device is not None else t.clone(DEVICE)).numpy()


def derivatives():
    with Context(**CONTEXT):
        leaves = [leaf(x) for x in INPUTS]
        out = program(*leaves)
        grads = out.gradient(*leaves)
        hvp = dot(grads, [leaf(v) for v in DIRECTION]).gradient(*leaves) if SECOND else []
        Tensor.realize(out, *grads, *hvp)
        return {"value": read(out)} | named("grad", map(read, grads)) | named("hvp", map(read, hvp))


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
