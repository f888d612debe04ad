"""Standalone reproducers of the accuracy findings: one script per root cause, in the engine's
own API, that a maintainer can run without this project.

A finding (`validation.depth_report.root_causes`) is a chain family, dtype and set of
backends whose gradient is far off the best backend's and the rounding floor. Its script
imports only numpy and that engine, rebuilds the smallest case the sweep flagged (its
shallowest depth), prints the engine's gradient next to the exact one (hard-coded here from
the project's reference: mpmath duals, or the longdouble tape for `mlp`) and exits 1 while
the error is still a finding (above the floor, the 8x and the 16 ULP of the best backend),
0 once it is not. Backends that share a cause share a script, written in the first of
`validation.depth_report.SCRIPT_ENGINES` among them: numpy for the numpy-kernel group
(dezero and autograd compute with the same numpy calls, in the same order).

The chain is written out by tracing one layer (or the `random` program) through a namespace
that records op names (`_trace`), then spelling each op the way the backend does
(`bench.workloads.ops` spellings); `numpy` gets its reverse pass written out from
NUMPY_VJPS, which a test holds bit for bit to the registry's `np_vjp`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from bench.workloads.chains import make_chain
from bench.workloads.ops import OPS
from validation import fingerprints, numpy_exp
from validation.depth_report import (
    FINDING_FACTOR,
    FINDING_ULP,
    engine_grad_rows,
    root_causes,
    script_engine,
    script_name,
)
from validation.reference.chains import reference as chain_reference

# numpy's reverse pass, as the numpy backend runs it (`np_vjp` of bench.workloads.ops): the
# cotangent of each input, from the output's (gy), the inputs (a, b) and the output (y).
NUMPY_VJPS = {
    "square": ("2 * {a} * {gy}",),
    "exp": ("{gy} * {y}",),
    "log": ("{gy} / {a}",),
    "sin": ("{gy} * np.cos({a})",),
    "cos": ("-{gy} * np.sin({a})",),
    "tanh": ("{gy} * (1 - {y} * {y})",),
    "sigmoid": ("{gy} * {y} * (1 - {y})",),
    "neg": ("-{gy}",),
    "add": ("{gy}", "{gy}"),
    "mul": ("{gy} * {b}", "{gy} * {a}"),
}
NUMPY_FORWARD = {"sigmoid": "lambda a: 1 / (1 + np.exp(-a))", "neg": "np.negative"}
GENERATED = (
    "# Written by `python -m bench tables` (validation/reproducers.py) from results/accuracy.csv.\n"
    "# ruff: noqa\n"
)
SINGLE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
}
_PREFIX = {  # the spelling's module path -> the name the script imports it as
    "torch.": "torch.",
    "jax.numpy.": "jnp.",
    "jax.nn.": "jax.nn.",
    "autograd.numpy.": "anp.",
    "autograd.scipy.special.": "autograd.scipy.special.",
}


@dataclass(frozen=True)
class Reproducer:
    """One finding's script: where it goes and its text."""

    name: str  # file name, e.g. 'torch-tanh-float64.py'
    engine: str
    backends: tuple
    text: str


@dataclass(frozen=True)
class Case:
    """A finding's smallest case (its `from_depth`) as the sweep measured it."""

    depth: int
    error_ulp: float  # the worst of the cause's backends
    best_backend: str
    best_ulp: float
    floor_ulp: float

    @property
    def threshold_ulp(self) -> float:
        """The error above which the case is still a finding (`validation.depth_report`)."""
        return max(self.floor_ulp, FINDING_FACTOR * self.best_ulp, self.best_ulp + FINDING_ULP)


def smallest_case(accuracy, cause) -> Case:
    """`cause`'s case at its `from_depth`, read off the accuracy table."""
    rows = engine_grad_rows(accuracy, cause.dtype)
    rows = rows[
        (rows["family"] == cause.family)
        & (rows["width"] == cause.width)
        & (rows["depth"] == cause.from_depth)
        & rows["max_abs_ulp"].notna()
    ]
    best = rows.loc[rows["max_abs_ulp"].idxmin()]
    worst = rows[rows["backend"].isin(cause.backends)]["max_abs_ulp"].max()
    return Case(
        int(cause.from_depth), float(worst), str(best["backend"]), float(best["max_abs_ulp"]),
        float(best["floor_ulp"]),
    )  # fmt: skip


class _Sym:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name


class _Tracer:
    """An op namespace that records `(op, arg names, out name)` instead of computing."""

    def __init__(self):
        self.records = []

    def __getattr__(self, op):
        def call(*args):
            out = _Sym(f"v{len(self.records)}")
            self.records.append((op, tuple(a.name for a in args), out.name))
            return out

        return call


def _trace(chain):
    """The chain's repeated step as records over 'h' (and 'W', 'b' for mlp)."""
    tracer = _Tracer()
    if chain.program:
        return None
    if chain.layer is None or chain.lift is not None:
        raise ValueError(f"family {chain.family!r}: no reproducer for a non-repeated chain")
    params = [_Sym(n) for n in ("W", "b")[: chain.params_per_layer]]
    out = chain.layer(tracer, _Sym("h"), *params)
    return tracer.records, out.name


def _spelled(op: str, engine: str) -> str:
    if engine == "numpy":
        return NUMPY_FORWARD.get(op, f"np.{OPS[op].np_forward.__name__}")
    path = OPS[op].spelled(engine.partition("_")[0])
    for prefix, alias in _PREFIX.items():
        if path.startswith(prefix):
            return alias + path.removeprefix(prefix)
    raise ValueError(f"op {op!r}: no import for spelling {path!r}")


def _array(a, dtype) -> str:
    """`a` as Python source that rebuilds it bit for bit (float.hex)."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 0:
        return f"np.{dtype}(float.fromhex({float(a).hex()!r}))"
    flat = ", ".join(f"{float(v).hex()!r}" for v in a.ravel())
    return f"np.array([float.fromhex(v) for v in ({flat},)], np.{dtype}).reshape({a.shape})"


def _ops_table(names, engine) -> str:
    return "OPS = {\n" + "".join(f"    {n!r}: {_spelled(n, engine)},\n" for n in names) + "}\n"


def _step_source(chain, engine) -> str:
    """`def step(h, *p)` (one layer) or the program loop, through OPS."""
    traced = _trace(chain)
    if traced is None:
        return "def step(h, name):\n    return OPS[name](h)\n"
    records, out = traced
    lines = [f"    {o} = OPS[{op!r}]({', '.join(args)})\n" for op, args, o in records]
    args = ", ".join(("h", "W", "b")[: 1 + chain.params_per_layer])
    return f"def step({args}):\n" + "".join(lines) + f"    return {out}\n"


def _op_names(chain) -> list:
    traced = _trace(chain)
    return sorted(set(chain.program) if traced is None else {op for op, _, _ in traced[0]})


def _numpy_backward(chain) -> str:
    """The numpy script's reverse pass over one recorded step, in the numpy tape's order."""
    traced = _trace(chain)
    if traced is None:
        cases = "".join(
            f"    if name == {n!r}:\n"
            f"        return {NUMPY_VJPS[n][0].format(gy='g', a='a', y='y')}\n"
            for n in sorted(set(chain.program))
        )
        return "def back(name, g, a, y):\n" + cases + "    raise KeyError(name)\n"
    records, out = traced
    names = ["h", *(o for _, _, o in records)]
    lines = [f"    {n} = saved[{i}]\n" for i, n in enumerate(names)]
    lines.append(f"    g_{out} = g\n")
    seen = {out}
    for op, args, o in reversed(records):
        a, b = (*args, None)[:2]
        for arg, formula in zip(args, NUMPY_VJPS[op], strict=True):
            term = formula.format(gy=f"g_{o}", a=a, b=b, y=o)
            lines.append(
                f"    g_{arg} = g_{arg} + {term}\n" if arg in seen else f"    g_{arg} = {term}\n"
            )
            seen.add(arg)
    return "def back(saved, g):\n" + "".join(lines) + "    return g_h\n"


def _run_source(chain, engine) -> str:
    """Source that leaves the engine's d sum(chain(X)) / dX in `got` (a numpy array)."""
    program = bool(chain.program)
    loop = "for name in PROGRAM:\n        h = step(h, name)" if program else (
        "for i in range(DEPTH):\n        h = step(h, *params[i])"
        if chain.params_per_layer else "for _ in range(DEPTH):\n        h = step(h)"
    )  # fmt: skip
    forward = f"def chain(h, params):\n    {loop}\n    return h\n\n\n"
    if engine == "torch":
        return forward + (
            "torch.set_num_threads(1)  # the harness pins one thread\n"
            "x = torch.tensor(X, requires_grad=True)\n"
            "tparams = [tuple(torch.tensor(a, requires_grad=True) for a in p) for p in PARAMS]\n"
            "leaves = [x, *(a for p in tparams for a in p)]\n"
            "got = torch.autograd.grad(torch.sum(chain(x, tparams)), leaves)[0].numpy()\n"
        )
    if engine == "autograd":
        return forward + (
            "got = autograd.grad(lambda x, p: anp.sum(chain(x, p)), argnum=0)(X, PARAMS)\n"
        )
    if engine in ("jax", "jax_jit"):
        grad = "jax.grad(lambda x, p: jnp.sum(chain(x, p)), argnums=(0, 1))"
        grad = f"jax.jit({grad})" if engine == "jax_jit" else grad
        return forward + (f"gx, _ = {grad}(jnp.asarray(X), PARAMS)\ngot = np.asarray(gx)\n")
    if engine == "jax_scan":
        if program:
            body = (
                "NAMES = sorted(set(PROGRAM))\n"
                "INDEX = np.array([NAMES.index(n) for n in PROGRAM], np.int32)\n\n\n"
                "def scanned(x, p):\n"
                "    branches = [OPS[n] for n in NAMES]\n"
                "    step = lambda h, i: (jax.lax.switch(i, branches, h), None)\n"
                "    return jax.lax.scan(step, x, INDEX)[0]\n\n\n"
            )
            stacked = "()"
        elif chain.params_per_layer:
            body = (
                "def scanned(x, p):\n"
                "    return jax.lax.scan(lambda h, wb: (step(h, *wb), None), x, p)[0]\n\n\n"
            )
            stacked = "tuple(np.stack([p[k] for p in PARAMS]) for k in range(2))"
        else:
            body = (
                "def scanned(x, p):\n"
                "    return jax.lax.scan(lambda h, _: (step(h), None), x, None, length=DEPTH)[0]\n"
                "\n\n"
            )
            stacked = "()"
        return body + (
            "grad = jax.jit(jax.grad(lambda x, p: jnp.sum(scanned(x, p)), argnums=(0, 1)))\n"
            f"gx, _ = grad(jnp.asarray(X), {stacked})\ngot = np.asarray(gx)\n"
        )
    # numpy: forward saving each step's values, then the reverse pass
    if program:
        return (
            "saved = []\nh = X\nfor name in PROGRAM:\n    y = OPS[name](h)\n"
            "    saved.append((name, h, y))\n    h = y\n"
            "got = np.ones_like(h)\nfor name, a, y in reversed(saved):\n"
            "    got = back(name, got, a, y)\n"
        )
    records, _ = _trace(chain)
    outs = ", ".join(o for _, _, o in records)
    fwd = "".join(f"    {o} = OPS[{op!r}]({', '.join(args)})\n" for op, args, o in records)
    return (
        "saved = []\nh = X\nfor _ in range(DEPTH):\n" + fwd
        + f"    saved.append((h, {outs}))\n    h = {records[-1][2]}\n"
        "got = np.ones_like(h)\nfor values in reversed(saved):\n    got = back(values, got)\n"
    )  # fmt: skip


_IMPORTS = {
    "numpy": "",
    "torch": "import torch  # noqa: E402\n",
    "autograd": (
        "import autograd  # noqa: E402\nimport autograd.numpy as anp  # noqa: E402\n"
        "import autograd.scipy.special  # noqa: E402\n"
    ),
    "jax": (
        "import jax  # noqa: E402\nimport jax.numpy as jnp  # noqa: E402\n\n"
        "jax.config.update('jax_enable_x64', True)\n"
    ),
}


def _params_source(chain, dtype) -> str:
    """PARAMS: per-layer (W, b) pairs, hard-coded when small, else rebuilt with numpy's
    seeded generator and QR as the harness does, checked against a hash of their bytes."""
    if not chain.params_per_layer:
        return "PARAMS = [()] * DEPTH\n" if not chain.program else "PARAMS = ()\n"
    params = [np.asarray(p, dtype=dtype) for p in chain.params]
    digest = hashlib.sha256(b"".join(p.tobytes() for p in params)).hexdigest()
    if len(params) <= 2:
        pairs = ", ".join(f"({_array(params[i], dtype)}, {_array(params[i + 1], dtype)})"
                          for i in range(0, len(params), 2))  # fmt: skip
        return f"PARAMS = [{pairs}]\n"
    width = params[0].shape[0]
    return (
        f"rng = np.random.default_rng({chain.seed})\n"
        f"rng.uniform(-1.0, 1.0, size=X.shape)  # the input's draw, as the harness makes it\n"
        "PARAMS = []\nfor _ in range(DEPTH):\n"
        f"    q, r = np.linalg.qr(rng.normal(size=({width}, {width})))\n"
        f"    PARAMS.append(((q * np.sign(np.diag(r))).astype(np.{dtype}), "
        f"np.zeros({width}, np.{dtype})))\n"
        "digest = hashlib.sha256(b''.join(a.tobytes() for p in PARAMS for a in p)).hexdigest()\n"
        f"if digest != {digest!r}:\n"
        "    print('the weights this LAPACK builds differ from the ones the exact gradient "
        "was computed for', file=sys.stderr)\n"
        "    sys.exit(2)  # neither reproduced nor fixed: not comparable\n"
    )


def reproducer(cause, case: Case, exact_grad) -> Reproducer:
    """The script for one root cause (a row of `root_causes`) at its smallest `case`, given
    the exact gradient d sum(chain(x)) / dx there (longdouble)."""
    engine = script_engine(cause)
    dtype = cause.dtype
    chain = make_chain(cause.family, int(cause.from_depth), int(cause.width))
    x = np.asarray(chain.x, dtype=dtype)
    module = engine.partition("_")[0]
    names = _op_names(chain)
    threshold = case.threshold_ulp
    others = ", ".join(b for b in cause.backends if b != engine) or "none"
    exact = np.asarray(exact_grad, dtype=np.float64)
    text = (
        f'"""{cause.family} chain, {dtype}, depth {chain.depth}: {engine}\'s gradient is off the '
        "exact one by more than\na correctly rounding engine's error (the rounding floor) and "
        f"the best engine's.\n\nFound by dezero-bench's accuracy sweep; same roundings (same "
        f"cause) in: {others}.\nExits 1 while the error is above {threshold:,.1f} ULP of "
        f"{dtype}, 0 once it is not.\n"
        f"The sweep measured {case.error_ulp:,.1f} ULP here; the best engine, "
        f"{case.best_backend}, {case.best_ulp:,.1f};\nthe rounding floor is "
        f"{case.floor_ulp:,.1f} ULP. The error grows with depth: "
        f"{float(cause.error_ulp):,.0f} ULP at depth {int(cause.depth):,}.\n"
        '"""\n\n'
        + GENERATED
        + ("import hashlib\n" if len(chain.params) > 2 else "")
        + "import os\nimport sys\n\n"
        + "# one thread everywhere, as the sweep ran: a threaded reduction rounds differently\n"
        + "".join(f"os.environ.setdefault({k!r}, {v!r})\n" for k, v in SINGLE_THREAD.items())
        + "\nimport numpy as np  # noqa: E402\n"
        + _IMPORTS[module]
        + f"\nDEPTH = {chain.depth}\n"
        + (f"PROGRAM = {tuple(chain.program)!r}\n" if chain.program else "")
        + f"X = {_array(x, dtype)}\n"
        + _params_source(chain, dtype)
        + "# d sum(chain(X)) / dX, exact to the digits shown (the project's reference)\n"
        + f"EXACT = {_array(exact, 'float64')}\n"
        + f"THRESHOLD_ULP = {threshold!r}\n"
        + _ops_table(names, engine)
        + "\n\n"
        + _step_source(chain, engine)
        + "\n\n"
        + (_numpy_backward(chain) + "\n\n" if engine == "numpy" else "")
        + _run_source(chain, engine)
        + f"\nulp = np.spacing(np.abs(EXACT).astype(np.{dtype})).astype(np.float64)\n"
        "error_ulp = float(np.max(np.abs(np.asarray(got, np.float64) - EXACT) / ulp))\n"
        "worst = int(np.argmax(np.abs(np.asarray(got, np.float64) - EXACT) / ulp))\n"
        f"print('{engine}', {_version_expr(module)})\n"
        "print('engine gradient:', repr(float(np.ravel(got)[worst])))\n"
        "print('exact gradient: ', repr(float(np.ravel(EXACT)[worst])))\n"
        f"print(f'error: {{error_ulp:,.1f}} ULP of {dtype} (finding above "
        "{THRESHOLD_ULP:,.1f})')\n"
        "sys.exit(1 if error_ulp > THRESHOLD_ULP else 0)\n"
    )
    return Reproducer(script_name(cause), engine, tuple(cause.backends), text)


def _version_expr(module: str) -> str:
    return {"numpy": "np.__version__", "torch": "torch.__version__", "jax": "jax.__version__",
            "autograd": "'autograd'"}[module]  # fmt: skip


def exact_gradient(cause):
    """d sum(chain(x)) / dx of `cause`'s smallest case, from the project's reference."""

    ref = chain_reference(cause.family, int(cause.from_depth), int(cause.width), 0, cause.dtype)
    return ref.grads[0]


def exact_key(cause) -> str:
    """What decides `exact_gradient(cause)`: the case, and the chain and reference code with
    the platform they round on (`validation.fingerprints`). Equal keys, equal gradients, so a
    saved one can stand in for the seconds of mpmath a deep case costs."""
    code = fingerprints.code_digest("validation.reference.chains", "bench.workloads.chains")
    case = cause.family, int(cause.from_depth), int(cause.width), cause.dtype
    return fingerprints.digest("exact-gradient", *case, code, fingerprints.platform_digest())


def reproducers(accuracy, exact=exact_gradient) -> list[Reproducer]:
    """One script per root cause of `accuracy`'s findings (those with a `script_name`), and
    numpy's exp near 0 (`validation.numpy_exp`) when there are findings at all. `exact(cause)`
    gives a cause's exact gradient (a caller may reuse saved ones, keyed by `exact_key`)."""
    causes = root_causes(accuracy)
    if causes.empty:
        return []
    scripts = [
        reproducer(cause, smallest_case(accuracy, cause), exact(cause))
        for cause in causes.itertuples(index=False)
        if script_name(cause)
    ]
    # the kernel finding beside them (REPORT's Findings lists it after the chains)
    kernel = Reproducer(
        numpy_exp.SCRIPT_NAME, "numpy", numpy_exp.NUMPY_ENGINES, numpy_exp.script_text()
    )
    return [*scripts, kernel]
