"""A fourth generation for Python's cyclic collector, so recording a large graph stays flat.

A recorded graph is a few GC-tracked objects per op (Variable, Function, a tuple of
inputs) that die by reference counting, never as cycles, yet each full collection walks
all of them: on an LSTM-like recording the collector's share grows from ~10 % of the
per-op cost at 11k ops to ~70 % at 184k (4.6 vs 14 µs per op, gc on; ~4 µs off), as each
walk misses the cache on a larger heap.

`install()` keeps every generation running, and every object in them collectable, but
moves what survives a middle or full collection into the permanent generation
(`gc.freeze`, which splices lists: O(1)), so full collections walk only what is newer.
Young collections walk objects still in cache; a full one walks a heap that is not
(~1 µs per object measured at 350k objects), which is the growth it removes. The frozen
objects go back (`gc.unfreeze`) before a full collection (a) that the program asked for with
`gc.collect()` (an automatic one starts only with more than threshold2 young
collections counted; a call with fewer is the program's) or (b) once the time since the
last complete collection is `SLACK` times what that one took: full walks then cost at
most ~1/SLACK of the run whatever the heap's size, and a cycle that was old when it
became garbage waits at most that long. Cyclic garbage made since the last full
collection is collected as before.

Importing dezero installs nothing: dezero.core calls `install()` once, when the program
makes its first Variable (the start of its first graph), so a process that imports dezero
without recording a graph keeps Python's collector exactly as it was. After that one
call the policy is the program's: `uninstall()` stops it for good, `install()` (or
`dezero.setup_collector()`) starts it again.
"""

import gc
import time

# A complete collection is due once this many times its own duration has passed.
SLACK = 10.0


class _State:
    __slots__ = ("frozen", "due", "started", "installed")

    def __init__(self):
        self.frozen = False  # whether objects of ours are in the permanent generation
        self.due = 0.0  # perf_counter time from which a complete collection may run
        self.started = None  # perf_counter time of the complete collection in progress
        self.installed = False


_state = _State()


def _on_collection(phase, info):
    generation = info["generation"]
    if generation == 0:
        return
    state = _state
    if phase == "start":
        if generation == 2:
            now = time.perf_counter()
            asked = gc.get_count()[2] <= gc.get_threshold()[2]
            if state.frozen and (asked or now >= state.due):
                gc.unfreeze()
                state.frozen = False
            state.started = None if state.frozen else now
        return
    if generation == 2 and state.started is not None:
        # a complete collection ended: the next one may start after SLACK times its length
        now = time.perf_counter()
        state.due = now + SLACK * (now - state.started)
        state.started = None
    gc.freeze()  # what survived a middle or full collection: no full one walks it again
    state.frozen = True


def install():
    """Start the policy (dezero.core calls it at the first Variable). Does nothing where the
    program froze objects itself (gc.freeze): unfreezing would thaw them too."""
    if _state.installed or gc.get_freeze_count():
        return
    gc.callbacks.append(_on_collection)
    _state.installed = True


def uninstall():
    """Stop the policy and give the frozen objects back to the oldest generation."""
    if not _state.installed:
        return
    gc.callbacks.remove(_on_collection)
    if _state.frozen:
        gc.unfreeze()
        _state.frozen = False
    _state.installed = False
