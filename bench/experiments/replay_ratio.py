"""Replay against its peers, in one run: `python -m bench.experiments.replay_ratio`.

1. Scalar sin chain, float64, forward + backward, µs per op at each depth: hand-written
   numpy, dezero eager, dezero_replay, PyTorch eager and jax_jit (interleaved medians, so
   machine noise hits all alike), with dezero_replay's ratio to each.
2. One-off costs per depth: dezero_replay's trace seconds over one eager forward + backward
   (the issue's target: <= 2x), beside jax_jit's compile seconds. The trace is the median
   of fresh traces in the warm process, like the eager call it is divided by (the first
   trace, shown beside it, also pays the process's cold start, which eager's untimed
   warm-up call absorbs).
3. Sin chain, width 10**6, depth 10: dezero_replay vs each peer in time, and vs numpy in
   tracemalloc peak (which sees numpy's allocations only).

Targets: replay <= 2x numpy per op at depths 10**3 and 10**4; <= 1.0x
numpy at width 10**6 with a peak no higher; trace <= 2x one eager forward + backward.
"""

import argparse
import statistics

import pandas as pd

from bench.backends import BACKENDS
from bench.experiments.ratio import OPS_PER_SAMPLE, interleaved_medians, peak_bytes
from bench.machine import configure
from bench.workloads.chains import make_chain

SUBJECT = "dezero_replay"
PEERS = ("numpy", "dezero", "torch", "jax_jit")
DEPTHS = (10, 100, 1000, 10**4, 10**5)
# jax_jit unrolls the chain: compile 0.8 s at depth 10**3, 29 s at 10**4 (ANCHORS).
# torch costs ~6 µs/op; at 10**5 its samples would dominate the run.
MAX_DEPTH = {"jax_jit": 1000, "torch": 10**4}


def depth_table(
    depths=DEPTHS, repeats: int = 9, max_depth=MAX_DEPTH, backends=(SUBJECT, *PEERS)
) -> pd.DataFrame:
    """Long form, one row per (depth, backend): median µs per op (forward + backward), the
    backend's one-off seconds (the median trace, or the compile; NaN for eager backends) and
    its first call's (the first trace)."""
    names = [n for n in backends if BACKENDS[n].available()[0]]
    rows = []
    for depth in depths:
        chain = make_chain("sin", depth, 1)
        prepared = {
            n: BACKENDS[n].prepare(chain) for n in names if depth <= max_depth.get(n, depth)
        }
        runs = {n: (lambda p=p: p.value_and_grad(*p.inputs)) for n, p in prepared.items()}
        number = max(1, OPS_PER_SAMPLE // chain.op_count)
        times = interleaved_medians(runs, repeats, number)  # the warm-up call traces/compiles
        for n, t in times.items():
            first = prepared[n].compile_seconds.get("backward", float("nan"))
            once = trace_seconds(chain, repeats) if n == SUBJECT else first
            rows.append(
                {
                    "depth": depth,
                    "backend": n,
                    "us_per_op": t * 1e6 / chain.op_count,
                    "call_s": t,
                    "one_off_s": once,
                    "first_s": first,
                }
            )
    return pd.DataFrame(rows)


def trace_seconds(chain, repeats: int) -> float:
    """Median seconds of `repeats` traces of the chain's forward + backward, each by a
    freshly prepared dezero_replay."""
    samples = []
    for _ in range(repeats):
        prepared = BACKENDS[SUBJECT].prepare(chain)
        prepared.value_and_grad(*prepared.inputs)
        samples.append(prepared.compile_seconds["backward"])
    return statistics.median(samples)


def ratio_view(table: pd.DataFrame) -> pd.DataFrame:
    """Depth x backend µs/op, then dezero_replay's ratio to each peer, then one-off costs."""
    wide = table.pivot(index="depth", columns="backend", values="us_per_op")
    wide = wide[[n for n in (SUBJECT, *PEERS) if n in wide]]
    for peer in PEERS:
        if peer in wide:
            wide[f"replay/{peer}"] = wide[SUBJECT] / wide[peer]
    call = table.pivot(index="depth", columns="backend", values="call_s")
    once = table.pivot(index="depth", columns="backend", values="one_off_s")
    wide["trace_s"] = once[SUBJECT]
    if "first_s" in table:
        first = table.pivot(index="depth", columns="backend", values="first_s")
        wide["first_trace_s"] = first[SUBJECT]
    if "dezero" in call:
        wide["trace/eager_call"] = once[SUBJECT] / call["dezero"]
    if "jax_jit" in once:
        wide["jax_jit_compile_s"] = once["jax_jit"]
    return wide


# tracemalloc sees numpy's allocations, not torch's or XLA's: peaks only for these.
NUMPY_BACKED = (SUBJECT, "numpy", "dezero")


def wide_ratio(repeats: int = 7, width: int = 10**6, backends=(SUBJECT, *PEERS)) -> dict:
    """Width 10**6, depth 10: each backend's median time (ms), dezero_replay's ratio to each,
    and the tracemalloc peak (MB) of the numpy-backed ones."""
    chain = make_chain("sin", 10, width)
    names = [n for n in backends if BACKENDS[n].available()[0]]
    prepared = {n: BACKENDS[n].prepare(chain) for n in names}
    runs = {n: (lambda p=p: p.value_and_grad(*p.inputs)) for n, p in prepared.items()}
    times = interleaved_medians(runs, repeats)
    peaks = {n: peak_bytes(runs[n]) for n in NUMPY_BACKED if n in runs}
    out = {f"ms_{n}": t * 1e3 for n, t in times.items()}
    out |= {f"peak_mb_{n}": b / 1e6 for n, b in peaks.items()}
    out |= {f"replay/{n}_time": times[SUBJECT] / t for n, t in times.items() if n != SUBJECT}
    out["replay/numpy_peak"] = peaks[SUBJECT] / peaks["numpy"]
    return out


def main(argv=None):
    configure()  # threads, device and allocator, before anything is timed
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9, help="timed samples per backend")
    parser.add_argument("--depths", type=int, nargs="+", default=list(DEPTHS))
    parser.add_argument("--jit-max-depth", type=int, default=MAX_DEPTH["jax_jit"])
    parser.add_argument("--width", type=int, default=10**6, help="width of the wide case")
    args = parser.parse_args(argv)
    if min(args.depths) < 1 or args.repeats < 1 or args.width < 1:
        parser.exit(
            2, "bench.experiments.replay_ratio: --depths, --repeats and --width must be >= 1\n"
        )

    limits = MAX_DEPTH | {"jax_jit": args.jit_max_depth}
    table = ratio_view(depth_table(args.depths, args.repeats, limits))
    print("sin chain, width 1, float64, fwd + bwd, µs per op (interleaved medians):")
    print(table.to_string(float_format=lambda v: f"{v:.3g}"))

    r = wide_ratio(max(5, args.repeats // 2 + 1), args.width)
    print(f"sin chain, depth 10, width {args.width:.0e}, forward + backward:")
    for name in (SUBJECT, *PEERS):
        if f"ms_{name}" in r:
            peak = r.get(f"peak_mb_{name}")
            tail = "" if peak is None else f"   peak {peak:7.1f} MB"
            ratio = "" if name == SUBJECT else f"   replay / {name} {r[f'replay/{name}_time']:.2f}x"
            print(f"  {name:14s} {r[f'ms_{name}']:8.1f} ms{tail}{ratio}")
    print(f"  replay / numpy peak memory {r['replay/numpy_peak']:.2f}x")


if __name__ == "__main__":
    main()
