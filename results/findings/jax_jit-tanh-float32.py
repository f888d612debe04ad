"""tanh chain, float32, depth 100: jax_jit's gradient is off the exact one by more than
a correctly rounding engine's error (the rounding floor) and the best engine's.

Found by dezero-bench's accuracy sweep; same roundings (same cause) in: jax_scan.
Exits 1 while the error is above 43.6 ULP of float32, 0 once it is not.
The sweep measured 135.4 ULP here; the best engine, torch, 5.4;
the rounding floor is 14.2 ULP. The error grows with depth: 195,040 ULP at depth 100,000.
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
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

jax.config.update('jax_enable_x64', True)

DEPTH = 100
X = np.float32(float.fromhex('0x1.a4bf0e0000000p-1'))
PARAMS = [()] * DEPTH
# d sum(chain(X)) / dX, exact to the digits shown (the project's reference)
EXACT = np.float64(float.fromhex('0x1.8362771a24750p-9'))
THRESHOLD_ULP = 43.59152483489015
OPS = {
    'tanh': jnp.tanh,
}


def step(h):
    v0 = OPS['tanh'](h)
    return v0


def chain(h, params):
    for _ in range(DEPTH):
        h = step(h)
    return h


gx, _ = jax.jit(jax.grad(lambda x, p: jnp.sum(chain(x, p)), argnums=(0, 1)))(jnp.asarray(X), PARAMS)
got = np.asarray(gx)

ulp = np.spacing(np.abs(EXACT).astype(np.float32)).astype(np.float64)
error_ulp = float(np.max(np.abs(np.asarray(got, np.float64) - EXACT) / ulp))
worst = int(np.argmax(np.abs(np.asarray(got, np.float64) - EXACT) / ulp))
print('jax_jit', jax.__version__)
print('engine gradient:', repr(float(np.ravel(got)[worst])))
print('exact gradient: ', repr(float(np.ravel(EXACT)[worst])))
print(f'error: {error_ulp:,.1f} ULP of float32 (finding above {THRESHOLD_ULP:,.1f})')
sys.exit(1 if error_ulp > THRESHOLD_ULP else 0)
