"""Where dezero's time per op goes, by depth: `python -m bench.experiments.op_cost`.

For a scalar float64 sin chain, with the cyclic garbage collector enabled as users have
it: forward, backward and freeing the graph (µs per op, medians), the part of each that
the collector took (timed with `gc.callbacks`), how many collections of each generation
one call started, and what one recorded op allocates (GC-tracked objects, bytes).
"""

import argparse
import gc
import statistics
import time
import tracemalloc

import numpy as np

import dezero.functions as F
from bench.machine import configure
from dezero import Variable

DEPTHS = (1000, 10**4, 10**5, 10**6)
PHASES = ("forward", "backward", "free")


class CollectorClock:
    """Seconds spent in collections and collections per generation, via gc.callbacks."""

    def __init__(self):
        self.seconds = 0.0
        self.counts = [0, 0, 0]
        self._started = 0.0

    def __call__(self, phase, info):
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started
            self.counts[info["generation"]] += 1

    def __enter__(self):
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc):
        gc.callbacks.remove(self)


def one_call(depth: int, clock: CollectorClock) -> dict[str, float]:
    """Seconds of each phase of one forward + backward + free, and the collector's share."""
    out = {}
    x = Variable(np.array(0.5))
    marks = [time.perf_counter()]
    gc_marks = [clock.seconds]
    y = x
    for _ in range(depth):
        y = F.sin(y)
    marks.append(time.perf_counter())
    gc_marks.append(clock.seconds)
    y.backward()
    marks.append(time.perf_counter())
    gc_marks.append(clock.seconds)
    del y
    marks.append(time.perf_counter())
    gc_marks.append(clock.seconds)
    for i, phase in enumerate(PHASES):
        out[phase] = marks[i + 1] - marks[i]
        out[f"gc_{phase}"] = gc_marks[i + 1] - gc_marks[i]
    return out


def allocation_per_op(depth: int = 10**4) -> dict[str, float]:
    """GC-tracked objects and traced bytes that one recorded sin op leaves alive."""
    gc.collect()
    tracked = len(gc.get_objects())
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    y = Variable(np.array(0.5))
    for _ in range(depth):
        y = F.sin(y)
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    objects = len(gc.get_objects()) - tracked
    del y
    return {"tracked_objects": objects / depth, "bytes": grown / depth}


def main(argv=None):
    configure()  # threads, device and allocator, before anything is timed
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depths", type=int, nargs="+", default=list(DEPTHS))
    args = parser.parse_args(argv)
    if any(d < 1 for d in args.depths):
        parser.exit(2, f"bench.experiments.op_cost: --depths must be >= 1, got {args.depths}\n")
    alloc = allocation_per_op()
    print(f"one sin op keeps {alloc['tracked_objects']:.2f} GC-tracked objects and "
          f"{alloc['bytes']:.0f} bytes alive (tracemalloc, depth 10**4)")  # fmt: skip
    print("µs per op (median), collector share in brackets, collections gen0/gen1/gen2 per call:")
    for depth in args.depths:
        samples = max(3, min(25, 200_000 // depth))
        calls, counts = [], []
        with CollectorClock() as clock:
            for _ in range(samples):
                clock.counts = [0, 0, 0]
                calls.append(one_call(depth, clock))
                counts.append(tuple(clock.counts))
        med = {k: statistics.median(c[k] for c in calls) * 1e6 / depth for k in calls[0]}
        cells = "  ".join(f"{p} {med[p]:.2f} ({med['gc_' + p]:.2f})" for p in PHASES)
        total = sum(med[p] for p in PHASES)
        n0, n1, n2 = sorted(counts)[len(counts) // 2]
        print(f"  depth {depth:>8}: {cells}  total {total:.2f}  collections {n0}/{n1}/{n2}")


if __name__ == "__main__":
    main()
