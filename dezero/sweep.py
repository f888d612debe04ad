"""The reverse sweep: the one schedule that `Variable.backward`, `dezero.grad` and
`dezero.trace` run.

The sweep walks a recorded graph one op at a time in decreasing generation, with an
explicit work list, so depth is limited by memory, never by the Python stack. Its order is
defined here alone: an op runs once every op above it has, ops of one generation in the
order their outputs got their first gradient, and a gradient reaching a Variable twice is
added in that order. `dezero.trace` gets the same order by running this sweep once with a
`recorder` (see `run`), so a tape replays the eager sweep's very sums.
"""

import gc
import weakref

import numpy as np

from dezero import array_ops, core
from dezero.core import (
    Constant,
    Stretch,
    Variable,
    as_variable,
    data_of,
    engine_variable,
    input_of,
    running_sweep,
    using_config,
)

_NOTHING = frozenset()


class Region:
    """The part of the graph a sweep may visit: it does not go past `stops` (treated as
    leaves) and drops gradients into `excluded` (vjps are told not to compute them:
    `Function.needs_input_grad`). `keep(y, gy, raw)`, if set, is called with each gradient
    as it completes; `collect(grads, raw)` gets the gradients left at the end, which a
    region's sweep never stores in `.grad`."""

    __slots__ = ("stops", "excluded", "keep")

    def __init__(self, stops=_NOTHING, excluded=_NOTHING, keep=None):
        self.stops = stops
        self.excluded = excluded
        self.keep = keep

    def collect(self, grads, raw):
        pass


def backward(self, retain_grad=False, create_graph=False):
    """Variable.backward (installed by dezero.setup_variable): gradients of this variable
    with respect to every leaf it depends on, added into each leaf's `.grad`."""
    if self.data is None:
        raise ValueError("cannot backpropagate from a Variable whose data is None")
    if self.grad is None:
        self.grad = Variable(ones_like(self.data))
    if self._creator is None:
        return
    seed = self.grad if create_graph else self.grad.data
    if retain_grad:
        self.grad = None  # the sweep stores the seed back when it pops it; don't count it twice
    sweep([(self, seed)], create_graph, retain_grad)


def sweep(seeds, create_graph, retain_grad=False, region=None, recorder=None):
    """Run the sweep (`run`) from `seeds` ((Variable, gradient) pairs: ndarrays, or
    Variables under `create_graph`) with the collector paused: the sweep's own allocations
    (gradient Variables with retain_grad or create_graph) would start collections that walk
    the whole live graph. It is paused for this one call and left as the caller had it."""
    collecting = gc.isenabled()
    gc.disable()
    if region is not None:
        running_sweep.unwanted = region.excluded
    try:
        if create_graph:
            with using_config("enable_backprop", True):
                run(seeds, core.graph_ops, retain_grad, region)
        else:
            run(seeds, array_ops, retain_grad, region, recorder)
    finally:
        running_sweep.unwanted = _NOTHING
        if collecting:
            gc.enable()


def run(seeds, m, retain_grad, region=None, recorder=None):
    """Reverse sweep from `seeds` ((Variable, gradient) pairs), one Function at a time in
    decreasing generation.

    In the fast sweep (`m is array_ops`) vjps get ndarrays; otherwise Variables, and
    the gradient computation is recorded. Gradients live in a dict keyed by Variable
    while in flight; only leaves (and every variable, with `retain_grad`) keep them.

    The work list holds Variables, each standing for its creator: a single-output
    creator is scheduled when its output gets its first gradient (so no `seen` set
    grows with depth), and the sweep knows that output without a weak reference. An op
    recorded without a Function (`record_unary`) is run from its output's `_creator`
    (the class) and `_input`, and gets its Function only under `create_graph`. A
    compacted stretch of such ops (`Stretch`) is run from its arrays when nothing else
    is in flight, in the order the sweep would take them; otherwise each of its nodes
    gets a Variable for the sweep's dict and work list (linked in, with `retain_grad`).

    Without a `region` every leaf reached keeps its gradient in `.grad` (the book's
    backward). With one the sweep keeps inside it (see Region), and leaves `.grad` alone.

    A `recorder` (dezero.trace; fast sweep only) is told every step as it runs, in this
    order. `recorder.hot(y, x, vjp, chase)` comes first for a one-input, one-output op:
    it returns the (y, x, vjp) to run, having taken any steps it can write without their
    values itself (down a chain when `chase` allows, as the chase below would; the vjp it
    returns may then compute nothing); `recorder.chain(y, x, added)` records the step run,
    and `recorder.general(f, y, fed, targets)` any other: `fed` is None for a single
    output, else (output or None if freed, 'grad' | 'zeros' | None) per output; `targets`
    holds, per input, None (no gradient kept) or (x, summed to x's shape, added to an
    earlier gradient).
    """
    raw = m is array_ops
    keep = _store_grad if retain_grad else None  # called with each gradient as it completes
    stops = excluded = _NOTHING
    if region is not None:
        stops = region.stops
        excluded = region.excluded
        keep = region.keep
    grads = {}
    pending = {}
    seen = set()  # multi-output creators already scheduled (reached from any output)
    for y, gy in seeds:
        previous = grads.get(y)
        if previous is not None:
            grads[y] = previous + gy
            continue
        grads[y] = gy
        creator = y._creator
        if creator is not None and y not in stops:
            _schedule(y, creator, pending, seen)
    generation = max(pending) if pending else 0

    while pending:
        ys = pending.pop(generation, None)
        generation -= 1
        if ys is None:
            continue
        for y in ys:
            f = y._creator
            x = y._input
            if x is not None and raw:
                # Recorded without a Function: f is the op's class, stateless, and stands
                # in for `self` in its vjp.
                vjp = f.vjp
            else:
                if x is not None:
                    f = y.creator  # create_graph records with Variables: make the Function
                x = f._inputs
                vjp = type(f).vjp
                if type(f._outputs) is tuple:
                    inputs = f.inputs
                    gxs, fed = _backward_multi_output(f, grads, keep, raw)
                    if gxs is None:
                        continue
                    x = None
                elif type(x) is tuple or not raw or vjp is None:
                    gy = grads.pop(y)
                    fed = None
                    if keep is not None:
                        keep(y, gy, raw)
                    inputs = x if type(x) is tuple else (x,)  # f.inputs, without the call
                    if vjp is None:
                        if f._outputs is None:  # a book-style backward may read self.outputs
                            f._outputs = weakref.ref(y)
                        gxs = call_backward(f, (gy,), raw)
                    elif not raw:
                        gxs = f.vjp(m, gy, *inputs, y)
                    else:
                        gxs = f.vjp(m, gy, *map(data_of, inputs), y.data)
                    x = None
            if x is not None:
                # Hot path of a chain: one input, one output, ndarrays. With nothing else
                # in flight (this y alone, nothing pending) x's gradient is complete once
                # f's vjp gives it, so the sweep goes straight on to x's creator, skipping
                # the grads dict and the work list.
                gy = grads.pop(y)
                if keep is not None:
                    keep(y, gy, raw)
                chase = not pending and len(ys) == 1
                if recorder is not None:
                    y, x, vjp = recorder.hot(y, x, vjp, chase)
                    chase = False
                yd = y.data
                while True:
                    if type(x) is Stretch:
                        if retain_grad:
                            x = y.creator._inputs  # its gradient is kept: it gets its Variable back
                        elif not chase:
                            x = input_of(y)  # a stand-in for the grads dict and the work list
                        else:
                            # Nothing else in flight and no gradient to keep: run the
                            # stretch's ops on its arrays, in the sweep's order, to its anchor.
                            datas = x.datas
                            ops = x.ops
                            k = y.generation - 1 - x.generation0
                            while k >= 0:
                                xd = datas[k]
                                gx = vjp(f, m, gy, xd, yd)
                                gy = gx  # rebinding both, so no older gradient stays alive
                                f = ops[k]
                                vjp = f.vjp
                                yd = xd
                                k -= 1
                            x = x.anchor
                    gx = vjp(f, m, gy, x.data, yd)
                    creator = x._creator
                    if chase and creator is not None and x not in stops:
                        inputs = x._input
                        if inputs is not None:
                            vjp = creator.vjp
                        else:
                            inputs = creator._inputs
                            vjp = type(creator).vjp
                            if type(inputs) is tuple or type(creator._outputs) is tuple:
                                vjp = None
                        if vjp is not None:
                            y = x
                            yd = x.data
                            gy = gx
                            f = creator
                            x = inputs
                            if keep is not None:
                                keep(y, gy, raw)
                            continue
                    previous = grads.get(x)
                    if previous is not None:
                        grads[x] = previous + gx
                        if recorder is not None:
                            recorder.chain(y, x, True)
                        break
                    grads[x] = gx
                    if recorder is not None:
                        recorder.chain(y, x, False)
                    if creator is not None and x not in stops:
                        g = _schedule(x, creator, pending, seen)
                        if chase and g is not None:  # the chase stopped at an op it cannot take
                            generation = g
                    break
                continue
            if type(gxs) is not tuple:
                gxs = (gxs,)
            targets = None if recorder is None else []
            for x, gx in zip(inputs, gxs):
                if gx is None or type(x) is Constant or x in excluded:
                    if targets is not None:
                        targets.append(None)
                    continue
                summed = gx.shape != x.data.shape
                if summed:  # broadcasting's adjoint, once for every op
                    gx = m.sum_to(gx, x.data.shape)
                previous = grads.get(x)
                if targets is not None:
                    targets.append((x, summed, previous is not None))
                if previous is not None:
                    grads[x] = previous + gx
                    continue
                grads[x] = gx
                creator = x._creator
                if creator is not None and x not in stops:
                    _schedule(x, creator, pending, seen)
            if targets is not None:
                recorder.general(f, y, fed, targets)
    if region is not None:
        region.collect(grads, raw)
        return
    for x, gx in grads.items():
        _store_grad(x, gx, raw)


def ones_like(data):
    """The sweep's seed: np.ones_like (a Python function), made directly for a 0-d loss."""
    if type(data) is np.ndarray and data.ndim == 0:
        return np.array(1, dtype=data.dtype)
    return np.ones_like(data)


def _schedule(x, creator, pending, seen):
    """Queue x (standing for its creator) at the creator's generation, a multi-output
    creator once, from whichever output comes first. The generation queued at, or None
    when the creator was already queued."""
    if x._input is not None:
        generation = x.generation - 1
    else:
        if type(creator._outputs) is tuple:
            if creator in seen:
                return None
            seen.add(creator)
        generation = creator.generation
    pending.setdefault(generation, []).append(x)
    return generation


def _store_grad(x, gx, raw):
    if raw:
        gx = grad_variable(x, gx)
    if x.grad is None:
        x.grad = gx
    else:
        x.grad = x.grad + gx


def grad_variable(x, gx):
    """The Variable a fast sweep's gradient array for x is handed out in: x's dtype, and
    writable (a broadcast view from sum/broadcast_to is copied)."""
    dtype = x.data.dtype
    if type(gx) is not np.ndarray or gx.dtype is not dtype:  # skip a no-op asarray
        # a float x keeps its precision; an integer or bool x takes the gradient's own
        # dtype (sin's is float), as under create_graph: its dtype would truncate it
        gx = np.asarray(gx, dtype=dtype if dtype.kind in "fc" else None)
    if not gx.flags.writeable:
        gx = gx.copy()
    return engine_variable(gx)


def _backward_multi_output(f, grads, keep, raw):
    """Outputs that got no gradient pass zeros (None once freed); (None, None) if none got
    any. Also how each output was fed: (output, 'grad' | 'zeros' | None)."""
    ys = [ref() for ref in f._outputs]
    gys = [grads.pop(y, None) if y is not None else None for y in ys]
    if all(gy is None for gy in gys):
        return None, None
    fed = []
    for i, (y, gy) in enumerate(zip(ys, gys)):
        if y is None:
            fed.append((None, None))
        elif gy is None:
            zeros = np.zeros_like(y.data)
            gys[i] = zeros if raw else Variable(zeros)
            fed.append((y, "zeros"))
        else:
            fed.append((y, "grad"))
            if keep is not None:
                keep(y, gy, raw)
    if f.vjp is not None:
        raise TypeError(f"{type(f).__name__}: vjp supports single-output functions only")
    return call_backward(f, gys, raw), fed


def call_backward(f, gys, raw):
    """Run a user-defined (book-style) `backward`, which takes and returns Variables."""
    if not raw:
        return f.backward(*gys)
    with using_config("enable_backprop", False):
        gxs = f.backward(*[Variable(np.asarray(gy)) for gy in gys])
    if type(gxs) is not tuple:
        gxs = (gxs,)
    return tuple(None if gx is None else as_variable(gx).data for gx in gxs)
