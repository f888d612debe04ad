"""The headline ratios, in one run: `python -m bench.ratio`.

1. Scalar sin chain, depth 1,000, forward + backward: dezero vs torch eager vs the numpy
   tape, per op (median of interleaved repeats, so machine noise hits all three alike).
2. Sin chain, width 10**6, depth 10, forward + backward: dezero vs the numpy tape, time
   and tracemalloc peak memory of one call.
3. Bytes per graph node for dezero at depth 100,000 (`bench.memory`).
"""

import argparse
import statistics
import time
import tracemalloc

import bench  # noqa: F401  (pins threads before numpy/torch load)
from bench.backends import BACKENDS
from bench.chains import make_chain
from bench.memory import graph_bytes_per_node


def interleaved_medians(runs: dict, repeats: int) -> dict[str, float]:
    """Median seconds per callable, calling them round-robin `repeats` times after a warm-up."""
    samples = {name: [] for name in runs}
    for run in runs.values():
        run()
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            samples[name].append(time.perf_counter() - start)
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


def measure(repeats: int = 21, memory_depth: int = 100_000) -> dict[str, float]:
    """Every headline number, as a flat dict (seconds, bytes, ratios)."""
    scalar = make_chain("sin", 1000, 1)
    names = [n for n in ("dezero", "torch", "numpy") if BACKENDS[n].available()[0]]
    times = interleaved_medians(_backward_runs(scalar, names), repeats)
    out = {f"scalar_us_per_op_{n}": t * 1e6 / scalar.op_count for n, t in times.items()}
    if "torch" in times:
        out["scalar_dezero_over_torch"] = times["dezero"] / times["torch"]
    out["scalar_dezero_over_numpy"] = times["dezero"] / times["numpy"]

    wide = make_chain("sin", 10, 10**6)
    runs = _backward_runs(wide, ("dezero", "numpy"))
    times = interleaved_medians(runs, max(5, repeats // 2))
    peaks = {name: peak_bytes(run) for name, run in runs.items()}
    out.update({f"wide_ms_{n}": t * 1e3 for n, t in times.items()})
    out.update({f"wide_peak_mb_{n}": b / 1e6 for n, b in peaks.items()})
    out["wide_dezero_over_numpy_time"] = times["dezero"] / times["numpy"]
    out["wide_dezero_over_numpy_peak"] = peaks["dezero"] / peaks["numpy"]

    out["dezero_graph_bytes_per_node"] = graph_bytes_per_node("dezero", memory_depth)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21, help="timed repeats per backend")
    parser.add_argument("--memory-depth", type=int, default=100_000)
    args = parser.parse_args(argv)
    r = measure(args.repeats, args.memory_depth)
    print("sin chain, depth 1000, width 1, forward + backward (median, interleaved):")
    for name in ("dezero", "torch", "numpy"):
        if f"scalar_us_per_op_{name}" in r:
            print(f"  {name:7s} {r[f'scalar_us_per_op_{name}']:8.3f} us/op")
    if "scalar_dezero_over_torch" in r:
        print(f"  dezero / torch: {r['scalar_dezero_over_torch']:.2f}x per op")
    print(f"  dezero / numpy: {r['scalar_dezero_over_numpy']:.2f}x per op")
    print("sin chain, depth 10, width 1e6, forward + backward:")
    for name in ("dezero", "numpy"):
        ms, mb = r[f"wide_ms_{name}"], r[f"wide_peak_mb_{name}"]
        print(f"  {name:7s} {ms:8.1f} ms   peak {mb:7.1f} MB")
    print(f"  dezero / numpy: time {r['wide_dezero_over_numpy_time']:.2f}x, "
          f"peak memory {r['wide_dezero_over_numpy_peak']:.2f}x")  # fmt: skip
    print(f"dezero graph memory, sin depth {args.memory_depth}: "
          f"{r['dezero_graph_bytes_per_node']:.0f} bytes per node (tracemalloc)")  # fmt: skip


if __name__ == "__main__":
    main()
