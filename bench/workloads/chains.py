"""Chain families: every benchmarked computation, written once as a function of an op namespace.

A chain never calls numpy (or any framework) itself: `Chain.apply(ops, x, *params)` only
calls `ops.<name>`, so the same definition runs in dezero, numpy, torch, jax, autograd,
an mpmath dual-number namespace, or numpy at longdouble. The scalar objective every
backend differentiates is `sum(apply(...))`, with respect to `x` and every param.

Families, their inputs (uniform on `Chain.domain` from `seed`) and why they stay finite
at any depth (checked up to 10**6):

- `seed`: square -> exp -> square at x = 0.5, the book's example (3 ops; the requested
  depth is ignored and recorded as 1). d/dx = 3.297442541400256.
- `sin`, `tanh`: one op per layer on [-3, 3]; both contract to 0 like sqrt(3/n), so
  values stay bounded and gradients decay polynomially.
- `sin_exp`: x -> sin(exp(x)) on [-3, 3]; after one layer x is in [-1, 1], so exp never
  exceeds e; the map settles on an attracting 2-cycle (Lyapunov exponent about -0.78), so
  its gradient underflows to 0 past depth ~900 in float64: the one family kept for that,
  the case where no float64 engine can be judged (the tables say `underflow`).
- `gauss`: x -> x * exp(-x**2) on [-3, 3] (the Gaussian's derivative shape; a plain
  exp(-x**2), whose attracting fixed point 0.6529 has slope -0.85, makes gradients
  underflow past depth ~4500). Here |x| <= 0.43 after one layer and the fixed point 0 has
  slope exactly 1: x_n ~ 1/sqrt(2n) and the gradient decays like n**-1.5, not
  geometrically (about 1e-9 at depth 10**6).
- `diamond`: x -> sin(x) * cos(x) on [-3, 3]; both branches read the same input, so the
  graph fans out at every layer (breaks path-enumerating backward passes).
- `mlp`: 32 rows of `width` features through `depth` layers tanh(x @ W + b), at the edge of
  chaos: W a seeded random orthogonal matrix, b = 0. tanh keeps activations in [-1, 1];
  an orthogonal W preserves norms and tanh only shrinks them, slowly near 0, so the
  activations decay like n**-0.5 and the gradient polynomially (Gaussian W ~ N(0, 1/width)
  with b ~ N(0, 0.1**2), the ordered phase, makes it underflow by depth 10**4).
- `random`: a seeded sequence of unary registry ops on [-2, 2], each op drawn only
  among those whose `domain` contains the current value interval (tracked with
  `image`); tanh and neg accept every real, so a choice always exists. A drawn op that
  could take a value past 10 in magnitude, or any input element's gradient out of
  [1e-30, 1e30], is redrawn among the ops that fit (neg, slope 1, always does), so the
  gradient stays representable at any depth, where the plain draw (sigmoid's slope is at
  most 1/4) underflowed by depth 10**4 and its values reached 1e8.

To add a family: write its builder (returning a `Chain`) and add one `Family` record to
`FAMILIES`. The benchmark grid, the cost model and the accuracy grid (`bench.workloads.profiles`)
read the record; `bench/test_structure.py` checks it against the builder.
"""

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from bench.workloads.ops import UNARY_ELEMENTWISE

MLP_BATCH = 32


@dataclass(frozen=True)
class Chain:
    """One benchmarked computation: inputs, parameters and the body that maps them.

    `layer(ops, h, *layer_params)` is the repeated block (None when the chain is not a
    repetition of one block, e.g. `seed` and `random`), so scan-style backends can loop
    over it; `program` names the op sequence of a `random` chain.
    """

    family: str
    depth: int
    width: int
    seed: int
    x: np.ndarray = field(repr=False)
    params: tuple[np.ndarray, ...] = field(repr=False)
    op_count: int
    elementwise: bool
    domain: tuple[float, float]
    body: Callable = field(repr=False, compare=False)
    layer: Callable | None = field(default=None, repr=False, compare=False)
    params_per_layer: int = 0
    program: tuple[str, ...] = field(default=(), repr=False)
    # A layer whose state is not the input itself (`twist` carries a pair): `lift(ops, x)`
    # makes the first state and `readout(ops, h)` the output, both without calling an op.
    lift: Callable | None = field(default=None, repr=False, compare=False)
    readout: Callable | None = field(default=None, repr=False, compare=False)

    def apply(self, ops, x, *params):
        """The chain output for input `x` and `params`, computed only through `ops`."""
        return self.body(ops, x, params)

    @property
    def label(self) -> str:
        """Readable id, e.g. 'sin-d1000-w1'."""
        return f"{self.family}-d{self.depth}-w{self.width}"


def _repeat(layer, depth, params_per_layer=0, lift=None, readout=None):
    """The body applying `layer` `depth` times, feeding each layer its slice of params."""
    if lift is not None:

        def body(ops, x, params):
            h = lift(ops, x)
            for _ in range(depth):
                h = layer(ops, h)
            return readout(ops, h)

    elif params_per_layer == 0:

        def body(ops, h, params):
            for _ in range(depth):
                h = layer(ops, h)
            return h

    else:

        def body(ops, h, params):
            for i in range(0, depth * params_per_layer, params_per_layer):
                h = layer(ops, h, *params[i : i + params_per_layer])
            return h

    return body


def _sample(domain, width, seed):
    rng = np.random.default_rng(seed)
    shape = () if width == 1 else (width,)
    return rng.uniform(*domain, size=shape)


def _check_size(family, depth, width):
    if not (isinstance(depth, int) and depth >= 1):
        raise ValueError(f"{family}: depth must be a positive int, got {depth!r}")
    if not (isinstance(width, int) and width >= 1):
        raise ValueError(f"{family}: width must be a positive int, got {width!r}")


def _block_family(name, layer, ops_per_layer, domain=(-3.0, 3.0), lift=None, readout=None):
    """A family that repeats the elementwise `layer` `depth` times."""

    def build(depth, width, seed=0):
        _check_size(name, depth, width)
        return Chain(
            family=name, depth=depth, width=width, seed=seed,
            x=_sample(domain, width, seed), params=(),
            op_count=ops_per_layer * depth, elementwise=True, domain=domain,
            body=_repeat(layer, depth, 0, lift, readout), layer=layer,
            lift=lift, readout=readout,
        )  # fmt: skip

    build.__doc__ = f"The `{name}` chain ({ops_per_layer} op(s) per layer)."
    return build


def _seed_body(ops, x, params):
    return ops.square(ops.exp(ops.square(x)))


def seed_chain(depth=1, width=1, seed=0):
    """The book's square -> exp -> square at x = 0.5; `depth` is ignored (always 1)."""
    _check_size("seed", depth, width)
    x = np.full(() if width == 1 else (width,), 0.5)
    return Chain(
        family="seed", depth=1, width=width, seed=seed, x=x, params=(), op_count=3,
        elementwise=True, domain=(0.5, 0.5), body=_seed_body,
    )  # fmt: skip


def _mlp_layer(ops, h, W, b):
    return ops.tanh(ops.add(ops.matmul(h, W), b))


def mlp_chain(depth, width, seed=0):
    """A (32, width) batch through `depth` layers tanh(h @ W + b): W seeded random orthogonal
    (QR of a Gaussian matrix, signs fixed so it is Haar-distributed), b = 0."""
    _check_size("mlp", depth, width)
    rng = np.random.default_rng(seed)
    domain = (-1.0, 1.0)
    x = rng.uniform(*domain, size=(MLP_BATCH, width))
    params = []
    for _ in range(depth):
        q, r = np.linalg.qr(rng.normal(size=(width, width)))
        params.append(q * np.sign(np.diag(r)))
        params.append(np.zeros(width))
    return Chain(
        family="mlp", depth=depth, width=width, seed=seed, x=x, params=tuple(params),
        op_count=3 * depth, elementwise=False, domain=domain,
        body=_repeat(_mlp_layer, depth, 2), layer=_mlp_layer, params_per_layer=2,
    )  # fmt: skip


RANDOM_GRAD_RANGE = (1e-30, 1e30)  # |d h / d x| of every input element, after every op
RANDOM_BOUND = 10.0  # |value| after every op, for every input in the domain


def random_program(depth, seed, x=0.0, domain=(-2.0, 2.0)) -> tuple[str, ...]:
    """A seeded sequence of `depth` unary op names, each legal on the values it receives,
    keeping every value within RANDOM_BOUND and the gradient of every element of `x`
    (inputs in `domain`) within RANDOM_GRAD_RANGE.

    Each step draws an op uniformly among the legal ones (domain holds the interval of all
    values, tracked with `image`); if its image leaves the bound, or if along the float64
    orbit of the inputs it would take some element's log-gradient out of range, the op is
    redrawn among those that fit. neg (slope 1, image the mirror interval) always fits, so
    a choice always exists.
    """
    rng = np.random.default_rng(seed)
    lo, hi = domain
    v = np.array(x, dtype=np.float64).ravel()
    log_grad = np.zeros_like(v)
    bounds = tuple(math.log(bound) for bound in RANDOM_GRAD_RANGE)
    names = []
    with np.errstate(all="ignore"):
        for pick in rng.random(depth):
            legal = [op for op in UNARY_ELEMENTWISE if op.domain[0] <= lo and hi <= op.domain[1]]
            op = legal[int(pick * len(legal))]
            step = _random_step(op, lo, hi, v, log_grad, bounds)
            if step is None:  # redraw among the ops that fit
                steps = [(op, _random_step(op, lo, hi, v, log_grad, bounds)) for op in legal]
                fits = [(op, step) for op, step in steps if step is not None]
                op, step = fits[int(pick * len(fits))]
            v, log_grad = step
            lo, hi = op.image(lo, hi)
            names.append(op.name)
    return tuple(names)


def _random_step(op, lo, hi, v, log_grad, bounds):
    """(values, log-gradients) after `op`, or None if it breaks RANDOM_BOUND or the range."""
    if max(map(abs, op.image(lo, hi))) > RANDOM_BOUND:
        return None
    y = op.np_forward(v)
    after = log_grad + np.log(np.abs(op.np_vjp(1.0, v, y)[0]))
    return (y, after) if bounds[0] <= after.min() and after.max() <= bounds[1] else None


@functools.lru_cache(maxsize=32)
def _random_chain_program(depth, width, seed, domain):
    return random_program(depth, seed, _sample(domain, width, seed), domain)


def _program_body(program):
    def body(ops, h, params):
        table = {name: getattr(ops, name) for name in set(program)}
        for name in program:
            h = table[name](h)
        return h

    return body


def random_chain(depth, width, seed=0):
    """A seeded random sequence of unary registry ops, fixed per (depth, width, seed)."""
    _check_size("random", depth, width)
    domain = (-2.0, 2.0)
    program = _random_chain_program(depth, width, seed, domain)
    return Chain(
        family="random", depth=depth, width=width, seed=seed,
        x=_sample(domain, width, seed), params=(), op_count=depth, elementwise=True,
        domain=domain, body=_program_body(program), program=program,
    )  # fmt: skip


# Families built for depth: maps that neither contract nor expand on average (Lyapunov
# exponent 0), so the exact gradient stays in [1e-100, 1e100] and |values| <= 10 up to depth
# 10**6 (checked with the exact reference in validation/test_depth_families.py).


def _twist_lift(ops, x):
    return (x, x)


def _twist_readout(ops, h):
    return h[0]


def _twist_layer(ops, h):
    """Rotate (u, v) by the angle u**2 + v**2: a twist map, norm-preserving."""
    u, v = h
    angle = ops.add(ops.mul(u, u), ops.mul(v, v))
    c, s = ops.cos(angle), ops.sin(angle)
    return ops.add(ops.mul(u, c), ops.neg(ops.mul(v, s))), ops.add(ops.mul(u, s), ops.mul(v, c))


def twist_chain(depth, width, seed=0):
    """`twist`: the pair (u, v) = (x, x) rotated `depth` times by the angle r**2 = u**2 + v**2;
    the output is u.

    Why it stays in range: a rotation preserves r exactly, so |u|, |v| <= r = sqrt(2)|x| <= 4.3
    on [-3, 3], and the angle after n layers is theta_0 + n r**2. The map is a twist (the
    angle depends on the conserved radius, not on the phase), so its Jacobian has both
    eigenvalues 1: d u_n / d x = r' cos(.) - r sin(.) n d(r**2)/dx grows at most linearly,
    |grad| <= 4.3 + 4 r**2 |x| n ~ 3e8 at n = 10**6 (and >= 1e-100 except at the isolated
    x where the phase's derivative vanishes). It is ill-conditioned on purpose: rounding moves
    r by a random walk, and the phase error that follows grows like n**1.5 eps, which is what
    the rounding floor in the tables measures.
    """
    return _block_family("twist", _twist_layer, 12, lift=_twist_lift, readout=_twist_readout)(
        depth, width, seed
    )


def _logcosh_layer(ops, h):
    return ops.log(ops.add(ops.exp(h), ops.exp(ops.neg(h))))


def logcosh_chain(depth, width, seed=0):
    """`logcosh`: x -> log(exp(x) + exp(-x)), the unstabilised log-sum-exp of (x, -x).

    Why it stays in range: f(x) = log(2 cosh x) > |x|, with f'(x) = tanh(x). With
    y = exp(2 x_n), y_{n+1} ~ y_n + 2, so x_n ~ log(2n) / 2 (7.3 at n = 10**6: exp stays
    below 2e3 inside the layer) and the slope tanh(x_n) ~ 1 - 1/n: the gradient
    prod tanh(x_k) decays like 1/n (about 1e-6 at n = 10**6), never geometrically.
    """
    return _block_family("logcosh", _logcosh_layer, 5)(depth, width, seed)


BALANCED_BOUND = 10.0  # |value| after every op
BALANCED_SLOPES = (0.05, 20.0)  # |f'| allowed at each step: no derivative near 0 or huge


@functools.lru_cache(maxsize=32)
def balanced_program(depth: int, seed: int, x0: float, lo: float, hi: float) -> tuple[str, ...]:
    """A seeded sequence of `depth` unary op names that keeps the gradient at x0 near 1,
    legal for every input in [lo, hi] (which holds x0).

    Walks x0 through the chain in float64, tracking L = log|d h / d x0|, and the interval
    of all inputs with each op's `image` (as `random_program` does). Each step tries the
    unary registry ops from a random start and takes the first whose domain holds the
    interval, whose image stays within BALANCED_BOUND, whose slope at x0 lies in
    BALANCED_SLOPES, and which does not move L away from 0 (past |L| or 0.5); so expanding
    ops (exp, square, log below 1) answer contracting ones (sigmoid, tanh, sin, cos), and
    neg (slope 1) always qualifies.
    """
    rng = np.random.default_rng(seed)
    ops = UNARY_ELEMENTWISE
    low, high = BALANCED_SLOPES
    v, log_grad, names = float(x0), 0.0, []
    with np.errstate(all="ignore"):
        for start in rng.integers(0, len(ops), depth):
            best = None
            for k in range(len(ops)):
                op = ops[(start + k) % len(ops)]
                if not (op.domain[0] <= lo and hi <= op.domain[1]):
                    continue
                image = op.image(lo, hi)
                if not max(abs(image[0]), abs(image[1])) <= BALANCED_BOUND:
                    continue
                y = float(op.np_forward(v))
                slope = abs(float(op.np_vjp(1.0, v, y)[0]))
                if not low <= slope <= high:
                    continue
                after = log_grad + math.log(slope)
                if best is None or abs(after) < abs(best[2]):
                    best = (op, y, after)
                if abs(after) <= max(abs(log_grad), 0.5):
                    best = (op, y, after)
                    break
            op, v, log_grad = best
            lo, hi = op.image(lo, hi)
            # the point x0 itself, evaluated as a point, may round outside the interval
            lo, hi = min(lo, v), max(hi, v)
            names.append(op.name)
    return tuple(names)


def balanced_chain(depth, width, seed=0):
    """`balanced`: a seeded random program of unary ops whose expanding and contracting
    steps balance (see `balanced_program`).

    Why it stays in range: the program is drawn along the float64 orbit of the first input
    element so that log|gradient| returns toward 0 at every step and each step's slope is
    in [0.05, 20]; the gradient at that element therefore stays within a few factors of e
    of 1 and every value within [-10, 10]. Because the drawn orbit's gradient is about 1,
    rounding perturbations are not amplified and the exact orbit shadows the float one.
    Other elements of a wide chain follow the same program (legal and bounded for them too,
    by interval arithmetic) but not the gradient guarantee.
    """
    _check_size("balanced", depth, width)
    domain = (-2.0, 2.0)
    x = _sample(domain, width, seed)
    program = balanced_program(depth, seed, float(np.ravel(x)[0]), float(x.min()), float(x.max()))
    return Chain(
        family="balanced", depth=depth, width=width, seed=seed, x=x, params=(),
        op_count=depth, elementwise=True, domain=domain, body=_program_body(program),
        program=program,
    )  # fmt: skip


@dataclass(frozen=True)
class Family:
    """What is known about a family before building it: the one place grids, the cost model
    and the accuracy sweep read a family's shape from (never its name).

    `fixed_depth`: the computation ignores the requested depth (recorded as depth 1).
    `elementwise`: every op maps each input element to one output element, so widths are
    element counts (the wide grids) and the mpmath dual reference applies.
    `batch`: rows each op processes per unit of width (a matrix family's batch).
    `ops_per_layer`: primitive ops per layer (the chain's op_count is this x depth).
    `repeated_layer`: the chain repeats one `Chain.layer`, so scan-style backends can loop it.
    `params_per_layer`, `param_elements(width)`: parameters each layer adds, and their
    element count, for the leaf count and graph-memory estimates.
    `matmul_flops(width)`: matrix-multiply flops per layer per forward pass.
    """

    name: str
    build: Callable[..., Chain] = field(repr=False)
    ops_per_layer: int
    elementwise: bool = True
    fixed_depth: bool = False
    batch: int = 1
    repeated_layer: bool = True
    params_per_layer: int = 0
    param_elements: Callable[[int], int] = field(default=lambda width: 0, repr=False)
    matmul_flops: Callable[[int], int] = field(default=lambda width: 0, repr=False)
    # False: an accuracy-only family (built for depth), left out of the timing grid: its per-op
    # cost says nothing the sin/tanh chains don't, and jax_jit's compile of `twist` at width
    # 1,000, depth 100 ran past 7 minutes (the cost model expects ~2 s).
    timed: bool = True

    def leaves(self, depth: int) -> int:
        """Inputs the gradient is taken with respect to: x and every parameter."""
        return 1 + self.params_per_layer * depth

    def weight_elements(self, depth: int, width: int) -> int:
        """Parameter elements of the whole chain."""
        return depth * self.param_elements(width)


def _block(name, layer, ops_per_layer):
    return Family(name, _block_family(name, layer, ops_per_layer), ops_per_layer)


FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (
        Family("seed", seed_chain, 3, fixed_depth=True, repeated_layer=False),
        _block("sin", lambda ops, h: ops.sin(h), 1),
        _block("tanh", lambda ops, h: ops.tanh(h), 1),
        _block("sin_exp", lambda ops, h: ops.sin(ops.exp(h)), 2),
        _block("gauss", lambda ops, h: ops.mul(h, ops.exp(ops.neg(ops.square(h)))), 4),
        _block("diamond", lambda ops, h: ops.mul(ops.sin(h), ops.cos(h)), 3),
        Family(
            "mlp", mlp_chain, 3, elementwise=False, batch=MLP_BATCH, params_per_layer=2,
            param_elements=lambda width: width**2 + width,
            matmul_flops=lambda width: 2 * MLP_BATCH * width**2,
        ),
        # repeated_layer=False: each layer is a different op, though jax_scan can still
        # scan the program as a switch over op indices (see `Chain.program`)
        Family("random", random_chain, 1, repeated_layer=False),
        Family("twist", twist_chain, 12, timed=False),
        Family("logcosh", logcosh_chain, 5, timed=False),
        Family("balanced", balanced_chain, 1, repeated_layer=False, timed=False),
    )
}  # fmt: skip


def make_chain(family: str, depth: int, width: int, seed: int = 0) -> Chain:
    """Build the `family` chain of the given depth and width (see the module docstring)."""
    try:
        build = FAMILIES[family].build
    except KeyError:
        raise ValueError(
            f"unknown chain family {family!r}; valid families: {', '.join(FAMILIES)}"
        ) from None
    return build(depth, width, seed)
