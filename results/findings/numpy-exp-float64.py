"""numpy's float64 exp near 0 is not correctly rounded on AVX-512 CPUs: for arguments
in [-1e-05, -1e-07] it returns the lower neighbour of the correctly rounded result about
10 % of the time (mean error about -0.1 ULP, always low), where glibc's exp (math.exp) is
correctly rounded. Over a chain the bias adds up: engines that compute with numpy (dezero,
autograd, a numpy tape) inherit it; torch and XLA (jax) use their own kernels.

Exits 1 while more than 1% of the sample is wrongly rounded, 0 once it is not.
Found by dezero-bench (validation/numpy_exp.py); imports numpy and mpmath only.
"""

# Written by `python -m bench tables` (validation/numpy_exp.py).
# ruff: noqa

import math
import sys

import mpmath
import numpy as np

mpmath.mp.prec = 113
LO, HI = -1e-05, -1e-07
SAMPLES = 20000
WRONG_FRACTION = 0.01
WITNESS = float.fromhex('-0x1.ce4ea5e8cf661p-19')
WITNESS_EXACT = '0.9999965555487358647435376'
WITNESS_ROUNDED = float.fromhex('0x1.ffff8c6c63915p-1')


def ulp_errors(results, xs):
    """Signed errors of `results` against the exact exp of `xs`, in ULPs of the exact value."""
    out = []
    for got, x in zip(results, xs):
        exact = mpmath.exp(mpmath.mpf(float(x)))
        out.append(float((mpmath.mpf(float(got)) - exact) / math.ulp(float(exact))))
    return np.array(out)


def cpu_target():
    simd = np.__config__.CONFIG.get("SIMD Extensions", {})
    return "baseline " + " ".join(simd.get("baseline", [])) + "; found " + " ".join(
        simd.get("found", [])
    )


rng = np.random.default_rng(0)
xs = -np.exp(rng.uniform(math.log(-HI), math.log(-LO), SAMPLES))
correct = np.array([float(mpmath.exp(mpmath.mpf(float(x)))) for x in xs])
for name, results in (("numpy.exp", np.exp(xs)), ("math.exp", [math.exp(x) for x in xs])):
    errors = ulp_errors(results, xs)
    wrong = float(np.mean(np.asarray(results) != correct))
    print(
        f"{name:9} mean {errors.mean():+.4f} ULP, max |{np.abs(errors).max():.3f}| ULP, "
        f"wrongly rounded {wrong:.2%}"
    )
    if name == "numpy.exp":
        numpy_wrong = wrong
print(f"arguments: {SAMPLES} log-uniform in [{LO:g}, {HI:g}]")
print("numpy", np.__version__, "CPU target:", cpu_target())
print(f"exp({WITNESS!r}): numpy {np.exp(WITNESS)!r}, math {math.exp(WITNESS)!r}")
print(f"   exact {WITNESS_EXACT}, correctly rounded {WITNESS_ROUNDED!r}")
sys.exit(1 if numpy_wrong > WRONG_FRACTION else 0)
