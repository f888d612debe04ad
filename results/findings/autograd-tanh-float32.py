"""tanh chain, float32, depth 1000: autograd's gradient is off the exact one by more than
a correctly rounding engine's error (the rounding floor) and the best engine's.

Found by dezero-bench's accuracy sweep; same roundings (same cause) in: none.
Exits 1 while the error is above 33.1 ULP of float32, 0 once it is not.
The sweep measured 652.8 ULP here; the best engine, torch, 2.8;
the rounding floor is 33.1 ULP. The error grows with depth: 653 ULP at depth 1,000.
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
import autograd  # noqa: E402
import autograd.numpy as anp  # noqa: E402
import autograd.scipy.special  # noqa: E402

DEPTH = 1000
X = np.float32(float.fromhex('0x1.a4bf0e0000000p-1'))
PARAMS = [()] * DEPTH
# d sum(chain(X)) / dX, exact to the digits shown (the project's reference)
EXACT = np.float64(float.fromhex('0x1.9627279d83c81p-14'))
THRESHOLD_ULP = 33.14884660771804
OPS = {
    'tanh': anp.tanh,
}


def step(h):
    v0 = OPS['tanh'](h)
    return v0


def chain(h, params):
    for _ in range(DEPTH):
        h = step(h)
    return h


got = autograd.grad(lambda x, p: anp.sum(chain(x, p)), argnum=0)(X, PARAMS)

ulp = np.spacing(np.abs(EXACT).astype(np.float32)).astype(np.float64)
error_ulp = float(np.max(np.abs(np.asarray(got, np.float64) - EXACT) / ulp))
worst = int(np.argmax(np.abs(np.asarray(got, np.float64) - EXACT) / ulp))
print('autograd', 'autograd')
print('engine gradient:', repr(float(np.ravel(got)[worst])))
print('exact gradient: ', repr(float(np.ravel(EXACT)[worst])))
print(f'error: {error_ulp:,.1f} ULP of float32 (finding above {THRESHOLD_ULP:,.1f})')
sys.exit(1 if error_ulp > THRESHOLD_ULP else 0)
