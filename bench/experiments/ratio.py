"""The headline ratios, in one run: `python -m bench.experiments.ratio`.

1. Scalar sin chain at depths 10 .. 10**6, forward + backward: dezero vs torch eager vs
   the numpy tape, µs per op (median of interleaved samples, so machine noise hits all
   three alike), and dezero's spread: its cost per op at 10**6 over its cost at 10**3.
2. Bytes per graph node for dezero at depth 100,000 (`bench.timing.memory`).
3. Sin chain, width 10**6, depth 10, forward + backward: dezero vs the numpy tape, time
   and tracemalloc peak memory of one call.

The cyclic garbage collector stays enabled and untouched, as users have it: its cost
per op grows with the number of live objects, which is what the depth table shows.
"""

import argparse
import statistics
import time
import tracemalloc

import pandas as pd

from bench.backends import BACKENDS
from bench.machine import configure
from bench.timing.memory import graph_bytes_per_node
from bench.workloads.chains import make_chain

DEPTHS = (10, 100, 1000, 10**4, 10**5, 10**6)
SPREAD = (1000, 10**6)  # flat means cost per op at the deep end / at the shallow end ~ 1
# torch costs ~6 µs/op, so a 10**6 chain is several seconds a call; dezero alone runs there.
MAX_DEPTH = {"torch": 10**5, "numpy": 10**5}
OPS_PER_SAMPLE = 20_000  # shallow chains are called in a loop so a sample is not timer noise


def interleaved_medians(
    runs: dict, repeats: int, number: int = 1, warmup: bool = True, clock=time.perf_counter
) -> dict[str, float]:
    """Median seconds per call for each callable, sampling them round-robin `repeats` times
    (each sample `number` calls) after one warm-up call each (`warmup=False`: the caller
    has already called each). `clock=time.process_time` counts this process's CPU time
    only, which a busy shared machine disturbs less than wall time."""
    samples = {name: [] for name in runs}
    for run in runs.values() if warmup else ():
        run()
    for _ in range(repeats):
        for name, run in runs.items():
            start = clock()
            for _ in range(number):
                run()
            samples[name].append((clock() - start) / number)
    return {name: statistics.median(times) for name, times in samples.items()}


def peak_bytes(run) -> int:
    """tracemalloc peak of one call above what was allocated before it."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        run()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def _backward_runs(chain, names):
    runs = {}
    for name in names:
        prepared = BACKENDS[name].prepare(chain)
        runs[name] = lambda p=prepared: p.value_and_grad(*p.inputs)
    return runs


def depth_table(depths=DEPTHS, repeats: int = 9) -> pd.DataFrame:
    """Long form: one row per (depth, backend) with the median µs per op, forward + backward."""
    names = [n for n in ("dezero", "torch", "numpy") if BACKENDS[n].available()[0]]
    rows = []
    for depth in depths:
        chain = make_chain("sin", depth, 1)
        here = [n for n in names if depth <= MAX_DEPTH.get(n, depth)]
        number = max(1, OPS_PER_SAMPLE // chain.op_count)
        # A 10**6 chain is seconds a call: fewer samples keep the whole run to minutes.
        samples = repeats if depth < 10**6 else 3
        times = interleaved_medians(_backward_runs(chain, here), samples, number)
        rows += [
            {"depth": depth, "backend": n, "us_per_op": t * 1e6 / chain.op_count}
            for n, t in times.items()
        ]
    return pd.DataFrame(rows)


def ratio_view(table: pd.DataFrame) -> pd.DataFrame:
    """Depth x backend µs/op, plus dezero/torch and dezero/numpy ratio columns."""
    wide = table.pivot(index="depth", columns="backend", values="us_per_op")
    for peer in ("torch", "numpy"):
        if peer in wide:
            wide[f"dezero/{peer}"] = wide["dezero"] / wide[peer]
    return wide


def wide_ratio(repeats: int = 7) -> dict[str, float]:
    """Width 10**6, depth 10: dezero vs the numpy tape, time (median) and peak memory."""
    wide = make_chain("sin", 10, 10**6)
    runs = _backward_runs(wide, ("dezero", "numpy"))
    times = interleaved_medians(runs, repeats)
    peaks = {name: peak_bytes(run) for name, run in runs.items()}
    out = {f"wide_ms_{n}": t * 1e3 for n, t in times.items()}
    out.update({f"wide_peak_mb_{n}": b / 1e6 for n, b in peaks.items()})
    out["wide_dezero_over_numpy_time"] = times["dezero"] / times["numpy"]
    out["wide_dezero_over_numpy_peak"] = peaks["dezero"] / peaks["numpy"]
    return out


def main(argv=None):
    configure()  # threads, device and allocator, before anything is timed
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9, help="timed samples per backend")
    parser.add_argument("--depths", type=int, nargs="+", default=list(DEPTHS))
    parser.add_argument("--memory-depth", type=int, default=100_000)
    args = parser.parse_args(argv)
    if any(d < 1 for d in args.depths) or args.repeats < 1 or args.memory_depth < 1:
        parser.exit(
            2, "bench.experiments.ratio: --depths, --repeats and --memory-depth must be >= 1\n"
        )

    table = ratio_view(depth_table(args.depths, args.repeats))
    print("sin chain, width 1, float64, fwd + bwd, µs per op (interleaved medians, GC on):")
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))
    low, high = SPREAD
    if low in table.index and high in table.index:
        spread = table.loc[high, "dezero"] / table.loc[low, "dezero"]
        print(f"dezero spread, depth {high} / depth {low}: {spread:.2f}x per op")

    per_node = graph_bytes_per_node("dezero", args.memory_depth)
    print(f"dezero graph memory, sin depth {args.memory_depth}: "
          f"{per_node:.0f} bytes per node (tracemalloc)")  # fmt: skip

    r = wide_ratio(max(5, args.repeats // 2 + 1))
    print("sin chain, depth 10, width 1e6, forward + backward:")
    for name in ("dezero", "numpy"):
        ms, mb = r[f"wide_ms_{name}"], r[f"wide_peak_mb_{name}"]
        print(f"  {name:7s} {ms:8.1f} ms   peak {mb:7.1f} MB")
    print(f"  dezero / numpy: time {r['wide_dezero_over_numpy_time']:.2f}x, "
          f"peak memory {r['wide_dezero_over_numpy_peak']:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
