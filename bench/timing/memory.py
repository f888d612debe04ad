"""Graph memory per node: what one recorded op costs an engine while its graph is alive.

Two methods, chosen by where the engine allocates:
- `tracemalloc` (dezero, numpy tape): every Python object and every numpy buffer
  (numpy reports its data allocations to tracemalloc) created while recording.
- `rss` (torch): tracemalloc cannot see C++ allocations, so the resident-set growth
  read from /proc/self/statm, after `malloc_trim(0)` has returned freed heap pages to
  the OS so earlier runs do not hide the growth. Page-granular: use depth >= 10**4.
"""

import ctypes
import gc
import os
import tracemalloc

from bench.backends import BACKENDS
from bench.workloads.chains import make_chain

METHODS = {"dezero": "tracemalloc", "numpy": "tracemalloc", "torch": "rss"}


def rss_bytes() -> int:
    """Resident set size of this process, from /proc/self/statm (Linux only)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _trim_heap():
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: RSS may then under-count
        pass


def held_bytes(record, method: str):
    """Bytes that `record()`'s result holds while alive, measured by `method` ("tracemalloc"
    or "rss", see the module docstring); returns (bytes, result) so the caller decides when
    the result dies."""
    if method == "tracemalloc":
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            result = record()
            grown = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
    elif method == "rss":
        _trim_heap()
        before = rss_bytes()
        result = record()
        grown = rss_bytes() - before
    else:
        raise ValueError(f"memory method must be 'tracemalloc' or 'rss', got {method!r}")
    return grown, result


def graph_bytes_per_node(backend: str, depth: int, family: str = "sin", width: int = 1) -> float:
    """Bytes the recorded graph of a `family` chain holds per op, measured by METHODS[backend]."""
    if backend not in METHODS:
        raise ValueError(f"no graph-memory method for backend {backend!r}; known: {list(METHODS)}")
    chain = make_chain(family, depth, width)
    prepared = BACKENDS[backend].prepare(chain)
    x, params = prepared.inputs
    grown, graph = held_bytes(lambda: prepared.record(x, params), METHODS[backend])
    del graph
    return grown / chain.op_count
