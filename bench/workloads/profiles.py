"""Profiles: what a run measures (benchmark grid, budget, accuracy grid), the cost model and
the time budget that decides skips. The one place `run`, `--quick`, `--full`, `accuracy`,
`check` and `baseline` read their grids from.

Select a profile with DEZERO_BENCH_PROFILE=quick|default|full (default: `default`) and
the dtype with DEZERO_BENCH_DTYPE=float64|float32 (default: float64).
Plain `pytest` (benchmarks disabled) always uses `ci`: a tiny benchmark grid that runs every
benchmark body once as a correctness test, and the accuracy gate's grid.

A family's shape (fixed depth, elementwise, batch, ops and params per layer) comes from its
`bench.workloads.chains.Family` record, never from its name.

Every case is estimated before anything is built: seconds per call = op_count x
(per-op overhead + elements per op x per-element cost) [+ matmul flops per layer], from a
table measured on the 2-core reference machine (sin chain, float64, one thread). A case
whose call, compile or graph memory exceeds the profile's budget is skipped with the
estimate in the reason, never silently. `plan()` lists the whole grid with estimates.
"""

import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from bench.files.inputs import UsageError
from bench.workloads.chains import FAMILIES

PROFILE_ENV = "DEZERO_BENCH_PROFILE"
DTYPE_ENV = "DEZERO_BENCH_DTYPE"
DTYPES = {"float64": np.float64, "float32": np.float32}
PASSES = ("forward", "backward")
# The profile plain `pytest` uses, and the accuracy gate's grid (`bench check`, `bench baseline`)
CI = "ci"


@dataclass(frozen=True)
class AccuracyGrid:
    """The accuracy sweep's grid. Elementwise families run at width 1 over `depths` and at
    `width` over `wide_depths`; matrix families (not elementwise) at `matrix_width` over
    `wide_depths`; a fixed-depth family once per width, at depth 1."""

    depths: tuple[int, ...]
    wide_depths: tuple[int, ...]
    width: int
    matrix_width: int
    # Deepest depth per backend: jax_jit unrolls the chain (compile 29 s at depth 10^4 for one
    # op per layer, ANCHORS; jax_scan covers deep compiled chains) and eager JAX costs ~160 us
    # per op.
    max_depth: Mapping[str, int] = field(default_factory=dict)
    fd_max_depth: int = 10_000  # deepest scalar chain the central difference is run on
    # Longest chain, in ops (depth x the family's ops per layer), in the grid at all: the exact
    # reference costs ~25 us per op in mpmath. The default allows 1.2 million, the 12-op
    # `twist` layer at depth 10^5 (minutes of reference per dtype on 2 cores), so every
    # scalar family reaches 10^5. `max_ops_per_backend` caps single backends the same way
    # (JAX eager traces every op: ~160 us each). jax_jit unrolls the chain, and XLA's compile
    # is not linear in it: over 2 minutes per compile for logcosh/twist at depth 1000, and
    # over 8 minutes for twist at depth 100 (1,200 ops) and width 64, so it stops at 1,000 ops.
    max_ops: float = math.inf
    max_ops_per_backend: Mapping[str, int] = field(default_factory=dict)
    dtypes: tuple[str, ...] = ("float64", "float32")


@dataclass(frozen=True)
class Profile:
    """One benchmark grid, its budget, and the accuracy grid run alongside it."""

    name: str
    depths: tuple[int, ...]
    widths: tuple[int, ...]  # elementwise families
    matrix_widths: tuple[int, ...]  # families that are not elementwise (mlp)
    max_call_seconds: float  # skip a case whose single call is estimated above this
    max_compile_seconds: float  # skip a jit case whose compile is estimated above this
    max_graph_bytes: float  # skip a case whose recorded graph is estimated above this
    seconds_per_case: float  # timed rounds are sized to fill about this much
    memory_depth: int  # depth of the scalar sin chain whose graph memory is measured
    accuracy: AccuracyGrid
    min_rounds: int = 3  # a median needs a few samples, even for the slowest case
    max_rounds: int = 20
    # Deepest unrolled jax_jit chain over many elements. XLA fuses such a chain into one loop
    # nest whose compile depends on the ops, far beyond COSTS' model: 16-84 s per case at
    # depth 1,000 and width 1,000 (tanh, sin_exp, diamond), 187 s of the default run's
    # benchmarks. jax_scan times those depths compiled; scalar chains keep depth 1,000.
    jit_wide_max_depth: int = 1000
    # A GradBench evaluation whose one call is measured above this is not timed
    # (bench.workloads.workload_costs): the run's rows say why.
    max_workload_call_seconds: float = math.inf
    # The families a timed run times (None: every timed family) and the deepest depth it
    # times at a width over 1 (None: every depth): the cost of a run is chosen here.
    timed_families: tuple[str, ...] | None = None
    wide_max_depth: int | None = None


_WIDE_DEPTHS = (1, 10, 100, 1000, 10_000)
# The default run times one family per shape of graph, so that `make results` with every
# accuracy row reused stays near 5 minutes on 2 cores: `sin` (a chain, the reference), `diamond`
# (fan-out and fan-in at every layer) and `mlp` (matmul layers), plus the one-op `seed`. The
# other elementwise families repeat per-op costs these show (the timing of all seven took 7
# minutes); `--full` or `--families NAME` times them. Wide chains stop at depth 1,000 there:
# depth 10,000 at width 1,000 repeats the per-element cost that depth 1,000 and width 10**6
# show, at a minute and a half of the run.
DEFAULT_TIMED_FAMILIES = ("seed", "sin", "diamond", "mlp")
# `ci` never skips over budget (every body runs once, as a test). `quick` keeps the accuracy
# grid to depth 100 so `run --quick` stays under 2 minutes on 2 cores. `default` is the grid
# the committed tables show: scalar chains to depth 100,000, wide ones and mlp to 10,000;
# jax_jit stops at 1,000 (the unrolled chain's compile takes 29 s at 10,000; jax_scan covers
# deep compiled chains) and JAX eager at 10,000 (~160 us per op). `full` takes scalar chains
# to depth 10**6 in dezero, numpy, torch and jax_scan (autograd stops at 10**5); its exact
# reference streams (forward mode, one mpmath pair per element alive at a time).
PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile(CI, (1, 10), (1, 7), (4,), math.inf, math.inf, math.inf, 0.0, 1000,
                AccuracyGrid((1, 10, 100, 1000), (1, 10, 100), 16, 8,
                             MappingProxyType({"jax_jit": 100}), 1000),
                min_rounds=1, max_rounds=1),
        Profile("quick", (1, 10, 100), (1, 1000), (16,), 0.3, 1.0, 1e9, 0.05, 10_000,
                AccuracyGrid((1, 10, 100), (1, 10, 100), 16, 8,
                             MappingProxyType({"jax_jit": 100}), 100),
                max_workload_call_seconds=5.0),
        Profile("default", (1, 10, 100, 1000, 10000, 100000), (1, 1000, 10**6), (16, 128),
                0.6, 2.5, 3e9, 0.1, 100_000,
                AccuracyGrid((*_WIDE_DEPTHS, 100_000), _WIDE_DEPTHS, 64, 16,
                             MappingProxyType({"jax_jit": 1000, "jax": 10_000}), 10_000,
                             max_ops=1_200_000,
                             max_ops_per_backend=MappingProxyType({"jax": 30_000,
                                                                "jax_jit": 1_000})),
                jit_wide_max_depth=100, max_workload_call_seconds=5.0,
                timed_families=DEFAULT_TIMED_FAMILIES, wide_max_depth=1000),
        Profile("full", (1, 10, 100, 1000, 10000, 100000), (1, 1000, 10**6), (16, 256),
                10.0, 30.0, 8e9, 1.0, 100_000,
                AccuracyGrid((*_WIDE_DEPTHS, 100_000, 1_000_000), _WIDE_DEPTHS, 64, 16,
                             MappingProxyType({"jax_jit": 1000, "jax": 10_000,
                                               "autograd": 100_000}), 10_000,
                             max_ops_per_backend=MappingProxyType({"jax_jit": 1_000}))),
    )
}  # fmt: skip


def profile_named(name: str) -> Profile:
    """PROFILES[name], or a ValueError naming the valid profiles."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(
            f"{name!r} is not a profile; choose one of {', '.join(PROFILES)}"
        ) from None


def active_profile(benchmarks_enabled: bool = True) -> Profile:
    """`ci` when benchmarks are disabled, else the profile named by DEZERO_BENCH_PROFILE."""
    if not benchmarks_enabled:
        return PROFILES[CI]
    name = os.environ.get(PROFILE_ENV, "default")
    try:
        return profile_named(name)
    except ValueError as error:
        raise ValueError(f"{PROFILE_ENV}={error}") from None


def active_dtype():
    """The numpy dtype named by DEZERO_BENCH_DTYPE (float64 unless float32 is asked for)."""
    name = os.environ.get(DTYPE_ENV, "float64")
    if name not in DTYPES:
        raise ValueError(f"{DTYPE_ENV} must be one of {list(DTYPES)}, got {name!r}")
    return DTYPES[name]


@dataclass(frozen=True)
class AccuracyCase:
    """One accuracy measurement: a chain configuration at one dtype, every backend."""

    family: str
    depth: int
    width: int
    dtype: str


def accuracy_cases(
    profile: Profile,
    families: Iterable[str] | None = None,
    depths: Iterable[int] | None = None,
    dtypes: Iterable[str] | None = None,
) -> list[AccuracyCase]:
    """The (family, depth, width, dtype) accuracy grid of `profile`; `depths` overrides both
    depth lists, `dtypes` the grid's dtypes."""
    grid = profile.accuracy
    depths = tuple(depths) if depths else None
    dtypes = tuple(dtypes) if dtypes else grid.dtypes
    out = []
    for name in families or FAMILIES:
        family = FAMILIES[name]
        if family.elementwise:
            pairs = [(d, 1) for d in depths or grid.depths]
            pairs += [(d, grid.width) for d in depths or grid.wide_depths]
        else:
            pairs = [(d, grid.matrix_width) for d in depths or grid.wide_depths]
        if family.fixed_depth:  # the same computation at every depth: measure it once
            pairs = list(dict.fromkeys((1, w) for _, w in pairs))
        pairs = [(d, w) for d, w in pairs if d * family.ops_per_layer <= grid.max_ops]
        out += [AccuracyCase(name, d, w, dt) for d, w in pairs for dt in dtypes]
    return out


def check_accuracy_depths(profile: Profile, depths) -> None:
    """A UsageError when a depth is deeper than `profile`'s accuracy grid goes: its reference
    and per-backend limits are sized for those chains (a deeper one would run for hours)."""
    deepest = max(profile.accuracy.depths)
    too_deep = [d for d in depths or () if d > deepest]
    if too_deep:
        full = max(PROFILES["full"].accuracy.depths)
        raise UsageError(
            f"--depths {too_deep[0]}: deeper than profile {profile.name!r}'s accuracy grid "
            f"goes (at most {deepest:,}; --profile full reaches {full:,})"
        )


@dataclass(frozen=True)
class Cost:
    """Per-backend cost: microseconds of overhead per op and nanoseconds per element per op."""

    forward_us: float
    backward_us: float  # forward + backward, per op
    forward_ns: float
    backward_ns: float
    compile_s_per_op2: float = 0.0  # unrolled jit: compile grows like op_count**2
    compile_s: float = 0.0  # fixed compile cost (jit, scan)
    leaf_pair_us: float = 0.0  # backward cost growing like (number of inputs)**2


# Measured with `python -m bench.ratio`-style timing on the reference machine (sin chain
# depth 300 scalar for the overhead, depth 10 width 1e5 for the per-element cost), then
# rounded up. jax eager pays tracing per op in backward, hence its 240 us/op.
COSTS: dict[str, Cost] = {
    "dezero": Cost(2.5, 5.0, 10.0, 25.0),
    "numpy": Cost(0.5, 5.0, 10.0, 25.0),
    # replay runs the numpy work plus one loop step per op; its trace (one recorded eager
    # forward + backward, ~2.5 us/op) is left out of the compile estimate, which is quadratic
    "dezero_replay": Cost(0.5, 5.0, 10.0, 25.0),
    "torch": Cost(1.5, 7.0, 5.0, 18.0),
    "jax": Cost(8.0, 250.0, 10.0, 28.0),
    "jax_jit": Cost(0.1, 0.3, 11.0, 26.0, compile_s_per_op2=2.5e-7, compile_s=0.05),
    "jax_scan": Cost(0.1, 0.3, 11.0, 26.0, compile_s=0.1),
    # autograd differentiates a tuple of inputs through per-element getitems whose
    # gradients rebuild the whole tuple: mlp at depth 1,000 (2,001 inputs) pays ~3.3 s.
    "autograd": Cost(1.2, 8.0, 10.0, 22.0, leaf_pair_us=0.85),
    # engines written elsewhere, measured the same way (sin chain, float64, one thread, a
    # loaded machine, scaled to the rows above): mygrad and paddle pay tens of us per op in
    # backward, TensorFlow's GradientTape ~330 us, and tinygrad (lazy graph rewritten on every
    # call; here on its PYTHON interpreter, which also runs each element in Python: ms per op
    # and ~1-6 ms per element per op, a quick run timed sin at width 1,000 at 6.5 s per call),
    # and it fuses a chain into one kernel whose compile grows superlinearly (~40 s at 100 sins)
    "mygrad": Cost(3.5, 55.0, 10.0, 25.0),
    "paddle": Cost(2.5, 40.0, 5.0, 25.0),
    "tensorflow": Cost(8.0, 340.0, 12.0, 35.0),
    "tinygrad": Cost(6000.0, 25000.0, 2e6, 6e6, compile_s_per_op2=4e-3),
}
# an engine this table does not know (a plugin) is costed as an eager Python engine like dezero
UNKNOWN_ENGINE_COST = COSTS["dezero"]
FLOPS_PER_SECOND = 2e10  # one core, float64 matmul (measured ~3.5e10; kept conservative)
UNROLL_LIMIT = 1000  # jax_jit above this depth: compile grows superlinearly (29 s at 10^4)


@dataclass(frozen=True)
class Case:
    """One benchmark: a chain configuration, a pass and a backend."""

    family: str
    depth: int
    width: int
    pass_: str
    backend: str

    @property
    def group(self) -> str:
        """The work every backend is lined up on, e.g. 'sin-d1000-w1-backward'."""
        return f"{self.family}-d{self.depth}-w{self.width}-{self.pass_}"

    @property
    def id(self) -> str:
        return f"{self.group}-{self.backend}"

    @property
    def op_count(self) -> int:
        return FAMILIES[self.family].ops_per_layer * self.depth

    @property
    def elements(self) -> int:
        """Elements each op touches (width times the family's batch)."""
        return self.width * FAMILIES[self.family].batch


def call_seconds(case: Case) -> float:
    """Estimated seconds of one timed call of `case`."""
    cost = COSTS.get(case.backend, UNKNOWN_ENGINE_COST)
    backward = case.pass_ == "backward"
    per_op = (cost.backward_us * 1e-6 + case.elements * cost.backward_ns * 1e-9 if backward
              else cost.forward_us * 1e-6 + case.elements * cost.forward_ns * 1e-9)  # fmt: skip
    seconds = case.op_count * per_op
    family = FAMILIES[case.family]
    if backward:
        seconds += cost.leaf_pair_us * 1e-6 * family.leaves(case.depth) ** 2
    # backward multiplies by the transposes too: three matmuls per forward one
    flops = family.matmul_flops(case.width) * case.depth * (3 if backward else 1)
    return seconds + flops / FLOPS_PER_SECOND


def compile_seconds(case: Case) -> float:
    """Estimated seconds to compile `case` (0 for eager backends)."""
    cost = COSTS.get(case.backend, UNKNOWN_ENGINE_COST)
    factor = 4.0 if case.pass_ == "backward" else 1.0
    return factor * (cost.compile_s + cost.compile_s_per_op2 * case.op_count**2)


def graph_bytes(case: Case, itemsize: int = 8) -> float:
    """Estimated peak bytes: each op's input, output and gradient, plus the parameters."""
    saved = 3 if case.pass_ == "backward" else 2
    weights = FAMILIES[case.family].weight_elements(case.depth, case.width)
    return itemsize * (saved * case.op_count * case.elements + weights)


def skip_reason(case: Case, profile: Profile) -> str | None:
    """Why `case` is over `profile`'s budget (starting with its id), or None when it runs."""
    if case.backend == "jax_jit" and case.depth > UNROLL_LIMIT:
        return (f"{case.id}: jax_jit unrolls {case.op_count} ops and compile grows "
                f"superlinearly (29 s at depth 10,000); jax_scan covers this depth")  # fmt: skip
    budget = f"budget of profile {profile.name!r}"
    seconds = call_seconds(case)
    if seconds > profile.max_call_seconds:
        return (f"{case.id}: estimated {seconds:.3g} s per call > "
                f"{profile.max_call_seconds} s {budget}")  # fmt: skip
    compiling = compile_seconds(case)
    if compiling > profile.max_compile_seconds:
        return (f"{case.id}: estimated compile {compiling:.3g} s > "
                f"{profile.max_compile_seconds} s {budget}")  # fmt: skip
    memory = graph_bytes(case)
    if memory > profile.max_graph_bytes:
        return (f"{case.id}: estimated {memory / 1e9:.3g} GB of graph > "
                f"{profile.max_graph_bytes / 1e9:g} GB {budget}")  # fmt: skip
    wide = FAMILIES[case.family].elementwise and case.elements > 1
    if case.backend == "jax_jit" and wide and case.depth > profile.jit_wide_max_depth:
        return (f"{case.id}: jax_jit unrolls {case.op_count} ops over {case.elements:,} "
                f"elements into one fused loop whose XLA compile took 16-84 s at depth 1,000; "
                f"deeper than {profile.jit_wide_max_depth} is over the {budget}")  # fmt: skip
    return None


def rounds(case: Case, profile: Profile) -> tuple[int, int]:
    """(rounds, iterations) so one case takes about `profile.seconds_per_case`.

    Calls under ~20 us are repeated `iterations` times per round so the timer's
    resolution does not dominate.
    """
    seconds = max(call_seconds(case), 1e-7)
    iterations = max(1, min(100, int(20e-6 / seconds)))
    count = int(profile.seconds_per_case / (seconds * iterations))
    return max(profile.min_rounds, min(profile.max_rounds, count)), iterations


def cases(profile: Profile, backends, families: Iterable[str] | None = None) -> list[Case]:
    """Every case of `profile`, ordered so each group's backends run back to back.
    `families` names the families to time in place of the profile's `timed_families` (a
    user who asks for a family gets it timed at every profile)."""
    wanted = tuple(families or profile.timed_families or FAMILIES)
    out = []
    for name, family in FAMILIES.items():
        if not family.timed or name not in wanted:
            continue
        widths = profile.widths if family.elementwise else profile.matrix_widths
        depths = (1,) if family.fixed_depth else profile.depths
        for width in widths:
            wide = width > 1 and profile.wide_max_depth is not None
            for depth in (d for d in depths if not wide or d <= profile.wide_max_depth):
                for pass_ in PASSES:
                    out.extend(Case(name, depth, width, pass_, b) for b in backends)
    return out


def plan(
    profile: Profile, backends, families: Iterable[str] | None = None
) -> list[tuple[Case, str | None, float]]:
    """(case, skip reason, estimated seconds including warm-up and compile) per case."""
    rows = []
    for case in cases(profile, backends, families):
        reason = skip_reason(case, profile)
        if reason is None:
            count, iterations = rounds(case, profile)
            total = (count * iterations + 1) * call_seconds(case) + compile_seconds(case)
            # chain and input construction: ~30 ns per element, weights included
            total += 3e-8 * graph_bytes(case) / 8 / case.op_count
        else:
            total = 0.0
        rows.append((case, reason, total))
    return rows
