"""Benchmark grids, the per-backend cost model, and the time budget that decides skips.

Select a profile with DEZERO_BENCH_PROFILE=quick|default|full (default: `default`) and
the dtype with DEZERO_BENCH_DTYPE=float64|float32 (default: float64).
Plain `pytest` (benchmarks disabled) always uses `smoke`, a tiny grid that runs every
benchmark body once as a correctness test.

Every case is estimated before anything is built: seconds per call = op_count x
(per-op overhead + elements per op x per-element cost) [+ matmul flops for mlp], from a
table measured on the 2-core reference machine (sin chain, float64, one thread). A case
whose call, compile or graph memory exceeds the profile's budget is skipped with the
estimate in the reason, never silently. `plan()` lists the whole grid with estimates.
"""

import os
from dataclasses import dataclass
from functools import cache

import numpy as np

from bench.chains import FAMILIES, MLP_BATCH, make_chain

PROFILE_ENV = "DEZERO_BENCH_PROFILE"
DTYPE_ENV = "DEZERO_BENCH_DTYPE"
DTYPES = {"float64": np.float64, "float32": np.float32}
PASSES = ("forward", "backward")


@dataclass(frozen=True)
class Profile:
    """One benchmark grid and its budget."""

    name: str
    depths: tuple[int, ...]
    widths: tuple[int, ...]  # elementwise families
    mlp_widths: tuple[int, ...]
    max_call_seconds: float  # skip a case whose single call is estimated above this
    max_compile_seconds: float  # skip a jit case whose compile is estimated above this
    max_graph_bytes: float  # skip a case whose recorded graph is estimated above this
    seconds_per_case: float  # timed rounds are sized to fill about this much
    min_rounds: int = 3  # a median needs a few samples, even for the slowest case
    max_rounds: int = 20


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("smoke", (1, 10), (1, 7), (4,), 5.0, 5.0, 1e9, 0.0, 1, 1),
        Profile("quick", (1, 10, 100), (1, 1000), (16,), 0.3, 1.0, 1e9, 0.05),
        Profile("default", (1, 10, 100, 1000, 10000, 100000), (1, 1000, 10**6), (16, 128),
                0.6, 2.5, 3e9, 0.1),
        Profile("full", (1, 10, 100, 1000, 10000, 100000), (1, 1000, 10**6), (16, 256),
                10.0, 30.0, 8e9, 1.0),
    )
}  # fmt: skip


def active_profile(benchmarks_enabled: bool = True) -> Profile:
    """`smoke` when benchmarks are disabled, else the profile named by DEZERO_BENCH_PROFILE."""
    if not benchmarks_enabled:
        return PROFILES["smoke"]
    name = os.environ.get(PROFILE_ENV, "default")
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(
            f"{PROFILE_ENV}={name!r} is not a profile; choose one of "
            f"{', '.join(p for p in PROFILES if p != 'smoke')}"
        ) from None


def active_dtype():
    """The numpy dtype named by DEZERO_BENCH_DTYPE (float64 unless float32 is asked for)."""
    name = os.environ.get(DTYPE_ENV, "float64")
    if name not in DTYPES:
        raise ValueError(f"{DTYPE_ENV} must be one of {list(DTYPES)}, got {name!r}")
    return DTYPES[name]


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
    "torch": Cost(1.5, 7.0, 5.0, 18.0),
    "jax": Cost(8.0, 250.0, 10.0, 28.0),
    "jax_jit": Cost(0.1, 0.3, 11.0, 26.0, compile_s_per_op2=2.5e-7, compile_s=0.05),
    "jax_scan": Cost(0.1, 0.3, 11.0, 26.0, compile_s=0.1),
    # autograd differentiates a tuple of inputs through per-element getitems whose
    # gradients rebuild the whole tuple: mlp at depth 1,000 (2,001 inputs) pays ~3.3 s.
    "autograd": Cost(1.2, 8.0, 10.0, 22.0, leaf_pair_us=0.85),
}
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
        return _ops_per_layer(self.family) * self.depth

    @property
    def elements(self) -> int:
        """Elements each op touches (a 32-row batch for mlp)."""
        return self.width * (MLP_BATCH if self.family == "mlp" else 1)


@cache
def _ops_per_layer(family: str) -> int:
    return make_chain(family, 1, 1).op_count


def call_seconds(case: Case) -> float:
    """Estimated seconds of one timed call of `case`."""
    cost = COSTS[case.backend]
    backward = case.pass_ == "backward"
    per_op = (cost.backward_us * 1e-6 + case.elements * cost.backward_ns * 1e-9 if backward
              else cost.forward_us * 1e-6 + case.elements * cost.forward_ns * 1e-9)  # fmt: skip
    seconds = case.op_count * per_op
    if backward:
        leaves = 1 + (2 * case.depth if case.family == "mlp" else 0)
        seconds += cost.leaf_pair_us * 1e-6 * leaves**2
    if case.family == "mlp":  # one (32, w) @ (w, w) per layer; backward does three
        flops = 2 * MLP_BATCH * case.width**2 * case.depth * (3 if backward else 1)
        seconds += flops / FLOPS_PER_SECOND
    return seconds


def compile_seconds(case: Case) -> float:
    """Estimated seconds to compile `case` (0 for eager backends)."""
    cost = COSTS[case.backend]
    factor = 4.0 if case.pass_ == "backward" else 1.0
    return factor * (cost.compile_s + cost.compile_s_per_op2 * case.op_count**2)


def graph_bytes(case: Case, itemsize: int = 8) -> float:
    """Estimated peak bytes: each op's input, output and gradient, plus mlp weights."""
    saved = 3 if case.pass_ == "backward" else 2
    weights = case.depth * (case.width**2 + case.width) if case.family == "mlp" else 0
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


def cases(profile: Profile, backends) -> list[Case]:
    """Every case of `profile`, ordered so each group's backends run back to back."""
    out = []
    for family in FAMILIES:
        widths = profile.mlp_widths if family == "mlp" else profile.widths
        depths = (1,) if family == "seed" else profile.depths
        for width in widths:
            for depth in depths:
                for pass_ in PASSES:
                    out.extend(Case(family, depth, width, pass_, b) for b in backends)
    return out


def plan(profile: Profile, backends) -> list[tuple[Case, str | None, float]]:
    """(case, skip reason, estimated seconds including warm-up and compile) per case."""
    rows = []
    for case in cases(profile, backends):
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


if __name__ == "__main__":
    from bench.backends import BACKENDS

    chosen = active_profile()
    rows = plan(chosen, list(BACKENDS))
    ran = [r for r in rows if r[1] is None]
    print(f"profile {chosen.name}: {len(rows)} cases, {len(ran)} run, "
          f"{len(rows) - len(ran)} skipped, estimated {sum(r[2] for r in ran):.0f} s")  # fmt: skip
