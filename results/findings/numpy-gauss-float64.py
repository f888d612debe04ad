"""gauss chain, float64, depth 100000: numpy's gradient is off the exact one by more than
a correctly rounding engine's error (the rounding floor) and the best engine's.

Found by dezero-bench's accuracy sweep; same roundings (same cause) in: dezero, dezero_replay, autograd, mygrad.
Exits 1 while the error is above 838.8 ULP of float64, 0 once it is not.
The sweep measured 3,620.9 ULP here; the best engine, torch, 104.9;
the rounding floor is 324.4 ULP. The error grows with depth: 3,621 ULP at depth 100,000.
"""

# Written by `python -m bench tables` (validation/reproducers.py) from results/accuracy.csv.
# ruff: noqa
import os
import sys

# one thread everywhere, as the sweep ran: a threaded reduction rounds differently
os.environ.setdefault('OMP_NUM_THREADS', '1')
os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')
os.environ.setdefault('MKL_NUM_THREADS', '1')
os.environ.setdefault('XLA_FLAGS', '--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1')

import numpy as np  # noqa: E402

DEPTH = 100000
X = np.float64(float.fromhex('0x1.a4bf0dbe351e0p-1'))
PARAMS = [()] * DEPTH
# d sum(chain(X)) / dX, exact to the digits shown (the project's reference)
EXACT = np.float64(float.fromhex('-0x1.755b9a5117b13p-26'))
THRESHOLD_ULP = 838.8359375
OPS = {
    'exp': np.exp,
    'mul': np.multiply,
    'neg': np.negative,
    'square': np.square,
}


def step(h):
    v0 = OPS['square'](h)
    v1 = OPS['neg'](v0)
    v2 = OPS['exp'](v1)
    v3 = OPS['mul'](h, v2)
    return v3


def back(saved, g):
    h = saved[0]
    v0 = saved[1]
    v1 = saved[2]
    v2 = saved[3]
    v3 = saved[4]
    g_v3 = g
    g_h = g_v3 * v2
    g_v2 = g_v3 * h
    g_v1 = g_v2 * v2
    g_v0 = -g_v1
    g_h = g_h + 2 * h * g_v0
    return g_h


saved = []
h = X
for _ in range(DEPTH):
    v0 = OPS['square'](h)
    v1 = OPS['neg'](v0)
    v2 = OPS['exp'](v1)
    v3 = OPS['mul'](h, v2)
    saved.append((h, v0, v1, v2, v3))
    h = v3
got = np.ones_like(h)
for values in reversed(saved):
    got = back(values, got)

ulp = np.spacing(np.abs(EXACT).astype(np.float64)).astype(np.float64)
error_ulp = float(np.max(np.abs(np.asarray(got, np.float64) - EXACT) / ulp))
worst = int(np.argmax(np.abs(np.asarray(got, np.float64) - EXACT) / ulp))
print('numpy', np.__version__)
print('engine gradient:', repr(float(np.ravel(got)[worst])))
print('exact gradient: ', repr(float(np.ravel(EXACT)[worst])))
print(f'error: {error_ulp:,.1f} ULP of float64 (finding above {THRESHOLD_ULP:,.1f})')
sys.exit(1 if error_ulp > THRESHOLD_ULP else 0)
