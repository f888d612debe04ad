"""numpy as an engine: its float64 `exp` near 0, the kernel dezero, autograd and the numpy tape
all compute with, as a finding with its own standalone script (numpy and mpmath only).

numpy dispatches `exp` at run time by CPU: on an AVX-512 CPU (numpy 2.x, the X86_V4 /
AVX512_SKX target) it runs a vectorised polynomial kernel that is not correctly rounded.
For arguments in [-1e-5, -1e-7] (the `gauss` chain's exp(-x**2) past depth ~10**4 takes its
arguments there) it rounds the wrong way about 10 % of the time, always low: a mean error of
-0.1 ULP, a bias that adds up over a chain instead of averaging out. glibc's `exp`
(`math.exp`) is correctly rounded there, and so are torch's and XLA's kernels, so the
finding reaches the numpy-based engines only. The script measures it on a seeded sample
against mpmath and shows one argument where numpy's result is the wrong neighbour.
"""

from __future__ import annotations

SCRIPT_NAME = "numpy-exp-float64.py"
NUMPY_ENGINES = ("dezero", "dezero_replay", "numpy", "autograd")  # compute exp with numpy
ARGUMENTS = (-1e-5, -1e-7)  # log-uniform sample in this range (negative: exp(-x**2))
SAMPLES = 20_000
# More than a correctly rounding kernel's share (0) and glibc's (about 0.01 % at worst)
WRONG_FRACTION = 0.01
# One argument (found on an AVX-512 machine, numpy 2.4.6) where numpy's float64 exp returns
# the lower neighbour of the correctly rounded value: -3.444457196271134e-06.
WITNESS = "-0x1.ce4ea5e8cf661p-19"
WITNESS_EXACT = "0.9999965555487358647435376"  # mpmath, 25 digits
WITNESS_ROUNDED = "0x1.ffff8c6c63915p-1"  # the float64 nearest to it

_SCRIPT = '''"""numpy's float64 exp near 0 is not correctly rounded on AVX-512 CPUs: for arguments
in [{lo:g}, {hi:g}] it returns the lower neighbour of the correctly rounded result about
10 % of the time (mean error about -0.1 ULP, always low), where glibc's exp (math.exp) is
correctly rounded. Over a chain the bias adds up: engines that compute with numpy (dezero,
autograd, a numpy tape) inherit it; torch and XLA (jax) use their own kernels.

Exits 1 while more than {wrong:.0%} of the sample is wrongly rounded, 0 once it is not.
Found by dezero-bench (validation/numpy_exp.py); imports numpy and mpmath only.
"""

# Written by `python -m bench tables` (validation/numpy_exp.py).
# ruff: noqa

import math
import sys

import mpmath
import numpy as np

mpmath.mp.prec = 113
LO, HI = {lo!r}, {hi!r}
SAMPLES = {samples}
WRONG_FRACTION = {wrong!r}
WITNESS = float.fromhex({witness!r})
WITNESS_EXACT = {witness_exact!r}
WITNESS_ROUNDED = float.fromhex({witness_rounded!r})


def ulp_errors(results, xs):
    """Signed errors of `results` against the exact exp of `xs`, in ULPs of the exact value."""
    out = []
    for got, x in zip(results, xs):
        exact = mpmath.exp(mpmath.mpf(float(x)))
        out.append(float((mpmath.mpf(float(got)) - exact) / math.ulp(float(exact))))
    return np.array(out)


def cpu_target():
    simd = np.__config__.CONFIG.get("SIMD Extensions", {{}})
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
        f"{{name:9}} mean {{errors.mean():+.4f}} ULP, max |{{np.abs(errors).max():.3f}}| ULP, "
        f"wrongly rounded {{wrong:.2%}}"
    )
    if name == "numpy.exp":
        numpy_wrong = wrong
print(f"arguments: {{SAMPLES}} log-uniform in [{{LO:g}}, {{HI:g}}]")
print("numpy", np.__version__, "CPU target:", cpu_target())
print(f"exp({{WITNESS!r}}): numpy {{np.exp(WITNESS)!r}}, math {{math.exp(WITNESS)!r}}")
print(f"   exact {{WITNESS_EXACT}}, correctly rounded {{WITNESS_ROUNDED!r}}")
sys.exit(1 if numpy_wrong > WRONG_FRACTION else 0)
'''


def script_text() -> str:
    """The standalone script (numpy and mpmath only)."""
    lo, hi = ARGUMENTS
    return _SCRIPT.format(
        lo=lo,
        hi=hi,
        samples=SAMPLES,
        wrong=WRONG_FRACTION,
        witness=WITNESS,
        witness_exact=WITNESS_EXACT,
        witness_rounded=WITNESS_ROUNDED,
    )
