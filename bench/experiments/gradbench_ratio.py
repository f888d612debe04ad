"""GradBench's evaluations, dezero against torch eager.

`python -m bench.experiments.gradbench_ratio [--quick]`:

Every workload of bench.workloads.gradbench at GradBench's default sizes (`--quick`: one
small size each), float64, one thread (BLAS pools via threadpoolctl, torch's via
set_num_threads), the cyclic collector on as users have it. Per case: one call per engine
(its warm-up, and the outputs compared), then interleaved samples and their medians
(bench.experiments.ratio.interleaved_medians), timed in process CPU time: with one thread
that is the call's own time, and another process on a shared core does not add to it.
`grad_rel_diff` is the largest, over the outputs, of max|dezero - torch| / max|torch|.

Then the nested quadratic (bench.experiments.nested_ratio) at T = 400, and the LSTM
objective recorded without its backward: µs per op at ~11k and ~184k ops, and the bytes its
graph holds per op (dezero by tracemalloc, torch by RSS growth; bench.timing.memory).

Arrays over 32 MB (gmm and kmeans at their largest) are mmapped afresh on every call, by
both engines; numpy asks the kernel for huge pages there and torch does not, so those rows
move with the machine's supply of huge pages (2-3x between runs on a busy machine).
NUMPY_MADVISE_HUGEPAGE=0 in the environment puts both on 4 KB pages.
"""

import argparse
import gc
import os
import sys
import time

import numpy as np
import pandas as pd

from bench.backends.workloads import prepare_workload, workload_ops
from bench.experiments.ratio import interleaved_medians
from bench.machine import configure
from bench.timing.memory import held_bytes
from bench.workloads.gradbench import WORKLOADS, lstm_inputs
from bench.workloads.gradbench.lstm import lstm

ENGINES = ("dezero", "torch")

# dezero / torch targets: GradBench's workloads, kmeans and ode, the nested ones.
TARGETS = {"kmeans": 1.3, "ode": 1.3, "saddle": 2.0, "particle": 2.0, "nested quadratic": 2.0}
DEFAULT_TARGET = 1.0
SAMPLE_SECONDS = 0.05  # fast cases are called in a loop so a sample is not timer noise
SLOW_SECONDS = 1.0  # a call slower than this gets at most `slow_samples` (3; 1 with --quick)
RECORDING_OPS = (11_000, 184_000)
LSTM_RECORD_LAYERS = 2


def rel_diff(ours, theirs) -> float:
    """Largest, over the output arrays, of max|ours - theirs| / max|theirs|."""
    worst = 0.0
    for a, b in zip(ours, theirs, strict=True):
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        scale = max(float(np.max(np.abs(b))), np.finfo(np.float64).tiny)
        worst = max(worst, float(np.max(np.abs(a - b))) / scale)
    return worst


def case_runs(workload, size, engines=ENGINES):
    """One callable per engine, inputs converted outside it (bench.backends.workloads)."""
    return {name: prepare_workload(name, workload.name, size).call for name in engines}


def measure(name, label, runs, repeats, slow_samples=3) -> dict:
    """A table row: one call per engine (warm-up and outputs), then interleaved medians."""
    outputs, first = {}, {}
    for engine, run in runs.items():
        start = time.process_time()
        outputs[engine] = run()
        first[engine] = time.process_time() - start
    slowest = max(first.values())
    number = max(1, int(SAMPLE_SECONDS / max(slowest, 1e-9)))
    samples = min(repeats, slow_samples) if slowest > SLOW_SECONDS else repeats
    times = interleaved_medians(runs, samples, number, warmup=False, clock=time.process_time)
    return {
        "workload": name,
        "size": label,
        "dezero_ms": times["dezero"] * 1e3,
        "torch_ms": times["torch"] * 1e3,
        "ratio": times["dezero"] / times["torch"],
        "grad_rel_diff": rel_diff(outputs["dezero"], outputs["torch"]),
        "samples": samples,
    }


def workload_table(names, quick, repeats, engines, log=print) -> pd.DataFrame:
    rows = []
    for name in names:
        workload = WORKLOADS[name]
        for size in workload.quick if quick else workload.sizes:
            runs = case_runs(workload, size, engines)
            row = measure(name, workload.size_label(size), runs, repeats, 1 if quick else 3)
            log(
                f"  {name:<9} {row['size']:<22} {row['ratio']:6.2f}x "
                f"({row['dezero_ms']:.2f} / {row['torch_ms']:.2f} ms)"
            )
            rows.append(row)
    return pd.DataFrame(rows)


def nested_quadratic_row(steps, repeats) -> dict:
    from bench.experiments.nested_ratio import DezeroOps, TorchOps, nested_quadratic

    rng = np.random.default_rng(0)
    w0, p0 = rng.uniform(0.1, 1.0, 10), rng.standard_normal(10)
    engines = {"dezero": DezeroOps(), "torch": TorchOps()}

    def run(name):
        ops = engines[name]
        return [np.asarray(ops.value(nested_quadratic(ops, ops.leaf(w0), ops.leaf(p0), steps)))]

    runs = {name: (lambda name=name: run(name)) for name in engines}
    return measure("nested quadratic", f"T={steps}", runs, repeats)


def count_torch_nodes(y) -> int:
    """Distinct autograd nodes behind `y`, leaves' accumulators excluded (no recursion)."""
    seen, stack = set(), [y.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        stack.extend(next_fn for next_fn, _ in node.next_functions)
    return sum(1 for node in seen if type(node).__name__ != "AccumulateGrad")


def _record_lstm(ops, params, consts):
    leaves = [ops.leaf(p) for p in params]
    return lstm(ops, *leaves, **consts)


def recording_table(repeats, engines, targets=RECORDING_OPS) -> pd.DataFrame:
    """The LSTM objective recorded (forward with a graph, no backward): µs per op at each
    target op count, and graph bytes per op at the largest. Ops are torch's autograd
    nodes; dezero records the same program."""
    probe = lstm_inputs({"l": LSTM_RECORD_LAYERS, "c": 65})
    per_step = count_torch_nodes(_record_lstm(engines["torch"], *probe)) / 64
    rows = []
    for target in targets:
        size = {"l": LSTM_RECORD_LAYERS, "c": int(round(target / per_step)) + 1}
        params, consts = lstm_inputs(size)
        ops_count = count_torch_nodes(_record_lstm(engines["torch"], params, consts))
        runs = {
            n: (lambda e=e, p=params, c=consts: _record_lstm(e, p, c)) for n, e in engines.items()
        }
        samples = repeats if target < 50_000 else max(3, repeats // 2)
        times = interleaved_medians(runs, samples, clock=time.process_time)
        for name, seconds in times.items():
            rows.append(
                {"engine": name, "ops": ops_count, "chars": size["c"],
                 "us_per_op": seconds * 1e6 / ops_count, "bytes_per_op": np.nan,
                 "memory_method": ""}
            )  # fmt: skip
    for name, method in (("dezero", "tracemalloc"), ("torch", "rss")):
        grown, graph = held_bytes(lambda n=name: runs[n](), method)
        del graph
        rows[-2 if name == "dezero" else -1] |= {
            "bytes_per_op": grown / ops_count,
            "memory_method": method,
        }
    return pd.DataFrame(rows)


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per workload: worst and median ratio, its target, and whether the worst meets it."""
    grouped = table.groupby("workload", sort=False)
    view = pd.DataFrame(
        {
            "cases": grouped.size(),
            "worst_ratio": grouped["ratio"].max(),
            "median_ratio": grouped["ratio"].median(),
            "max_grad_rel_diff": grouped["grad_rel_diff"].max(),
        }
    )
    view["target"] = [TARGETS.get(w, DEFAULT_TARGET) for w in view.index]
    view["met"] = view["worst_ratio"] <= view["target"]
    return view


def main(argv=None):
    prog = "python -m bench.experiments.gradbench_ratio"
    parser = argparse.ArgumentParser(prog=prog, description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one small size per workload")
    parser.add_argument("--repeats", type=int, default=5, help="samples per case (default 5)")
    parser.add_argument("--workloads", nargs="+", default=list(WORKLOADS), metavar="NAME",
                        help=f"some of: {' '.join(WORKLOADS)} (default all)")  # fmt: skip
    parser.add_argument("--no-recording", action="store_true",
                        help="skip the nested quadratic and the LSTM recording rows")  # fmt: skip
    args = parser.parse_args(argv)
    configure()  # threads, device and allocator, before anything is timed
    unknown = [w for w in args.workloads if w not in WORKLOADS]
    if unknown:
        parser.exit(2, f"bench.experiments.gradbench_ratio: unknown --workloads {unknown}; "
                       f"known: {' '.join(WORKLOADS)}\n")  # fmt: skip
    if args.repeats < 1:
        parser.exit(
            2, f"bench.experiments.gradbench_ratio: --repeats must be >= 1, got {args.repeats}\n"
        )

    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    engines = {name: workload_ops(name) for name in ENGINES}
    pd.set_option("display.width", 200)
    with threadpool_limits(1):
        collector = "on" if gc.isenabled() else "OFF"
        hugepages = os.environ.get("NUMPY_MADVISE_HUGEPAGE", "unset (numpy's default, on)")
        print(f"GradBench workloads, dezero / torch eager {torch.__version__}, float64, "
              f"1 thread, collector {collector}, CPU-time medians, "
              f"NUMPY_MADVISE_HUGEPAGE {hugepages}:")  # fmt: skip
        table = workload_table(args.workloads, args.quick, args.repeats, engines)
        if not args.no_recording:
            table.loc[len(table)] = nested_quadratic_row(100 if args.quick else 400, args.repeats)
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
        print(summary(table).to_string(float_format=lambda v: f"{v:.3g}"))
        if not args.no_recording:
            targets = (2_000, 8_000) if args.quick else RECORDING_OPS
            rec = recording_table(args.repeats, engines, targets)
            print("LSTM objective recorded (forward with graph, no backward):")
            print(rec.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
            dz = rec[rec.engine == "dezero"].us_per_op.to_numpy()
            print(f"dezero per op at {targets[1]} / at {targets[0]} ops: {dz[1] / dz[0]:.2f}x")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
