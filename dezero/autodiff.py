"""Functional derivatives: `grad` (torch.autograd.grad's meaning), `jvp` and `hvp`.

`grad(outputs, inputs)` runs the engine's own sweep (`dezero.sweep`) over a region of the
graph: the Variables that lie on a path from an input to an output. A walk up from the
outputs, which never goes below the lowest input's generation (nothing there can lead to
an input), finds that region and its edges out: `stops`, inputs whose creator leads to no
input (the sweep treats them as leaves), and `excluded`, Variables read by the region that
lead to no input (the sweep drops their gradients, and `Function.needs_input_grad` tells
vjps not to compute them). No `.grad` is read or written, so calls nest freely: with
`create_graph=True` the gradients are recorded and can be differentiated again.

Forward mode is the double-vjp construction: the vjp of f at a cotangent u is linear in
u, so differentiating it with respect to u in the direction of the tangents gives J @ t.
It costs about three reverse sweeps' work and reuses every vjp the engine has, where a
tangent sweep would need a second derivative rule per op.
"""

import operator

import numpy as np

from dezero import core, sweep
from dezero.core import Stretch, Variable

_generation = operator.attrgetter("generation")


class _Region(sweep.Region):
    """The part of the graph `grad` walks, and where the sweep puts the inputs' gradients."""

    __slots__ = ("sink",)

    def __init__(self, stops, excluded, sink, interior):
        # An input with a creator gets its gradient when the sweep pops it, not at the end.
        super().__init__(stops, excluded, self._keep if interior else None)
        self.sink = sink  # input -> its gradient, once the sweep has it

    def _keep(self, y, gy, raw):
        if y in self.sink:
            self.sink[y] = gy

    def collect(self, grads, raw):
        sink = self.sink
        for x in sink:
            gx = grads.get(x)
            if gx is not None:
                sink[x] = gx


def _parents(y):
    """The Variables y's creator reads; a compacted stretch stands for its anchor, which
    decides whether the stretch's anonymous nodes lead to an input."""
    x = y._input
    if x is None:
        creator = y._creator
        if creator is None:
            return ()
        x = creator._inputs
        return x if type(x) is tuple else (x,)
    if type(x) is Stretch:
        return (x.anchor,)
    return (x,)


def _region(outputs, inputs):
    """The region between `outputs` and `inputs` (see the module docstring), and the
    outputs that depend on some input."""
    sink = dict.fromkeys(inputs)
    low = min(map(_generation, sink))
    found = []
    visited = set()
    stack = list(outputs)
    while stack:  # iterative: a graph can be 10**6 deep
        y = stack.pop()
        if y in visited:
            continue
        visited.add(y)
        found.append(y)
        for x in _parents(y):
            if x.generation >= low and x not in visited:
                stack.append(x)
    found.sort(key=_generation)  # an input's generation is below its users'
    needed = set()
    stops = set()
    excluded = set()
    interior = False
    for y in found:
        parents = _parents(y)
        reach = 0
        for x in parents:
            if x in needed:
                reach += 1
        if reach:
            needed.add(y)
            if reach < len(parents):
                excluded.update(x for x in parents if x not in needed)
            interior = interior or y in sink
        elif y in sink:
            needed.add(y)
            if parents:
                stops.add(y)
    region = _Region(stops, excluded, sink, interior)
    return region, [y for y in outputs if y in needed]


def _as_sequence(obj, what):
    items = tuple(obj) if isinstance(obj, (tuple, list)) else (obj,)
    for k, v in enumerate(items):
        if not isinstance(v, Variable):
            raise TypeError(f"{what}[{k}] must be a dezero Variable, got {type(v).__name__}")
    return items


def _seed(y, gy, k, create_graph):
    """The gradient an output starts from: ones like it (as backward does) or `gy`."""
    if gy is None:
        gy = sweep.ones_like(y.data)
    elif isinstance(gy, Variable):
        gy = gy if create_graph else gy.data
    else:
        gy = core.as_array(gy, dtype=y.data.dtype)
    data = gy.data if isinstance(gy, Variable) else gy
    if data.shape != y.data.shape:
        raise ValueError(
            f"grad_outputs[{k}] has shape {data.shape}; output {k} has shape {y.data.shape}"
        )
    if create_graph and not isinstance(gy, Variable):
        gy = Variable(gy)
    return gy


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    create_graph=False,
    retain_graph=None,
    allow_unused=False,
):
    """Gradients of the outputs (summed, each weighted by its `grad_outputs` entry, ones by
    default) with respect to each input, as a tuple of Variables, with
    torch.autograd.grad's meaning. No `.grad` is read or written. With `create_graph` the
    gradients are recorded, so they can be differentiated again. An input the outputs do
    not depend on raises, or gets None with `allow_unused=True`. `retain_graph` is
    accepted for torch's signature: dezero's sweep never frees the graph."""
    outputs = _as_sequence(outputs, "outputs")
    inputs = _as_sequence(inputs, "inputs")
    if not outputs or not inputs:
        raise ValueError("grad needs at least one output and one input")
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    elif not isinstance(grad_outputs, (tuple, list)):
        grad_outputs = (grad_outputs,)
    if len(grad_outputs) != len(outputs):
        raise ValueError(
            f"grad_outputs has {len(grad_outputs)} entries for {len(outputs)} output(s)"
        )
    for k, y in enumerate(outputs):
        if y.data is None:
            raise ValueError(f"outputs[{k}] has no data (None)")
    seeds = [_seed(y, gy, k, create_graph) for k, (y, gy) in enumerate(zip(outputs, grad_outputs))]
    region, used = _region(outputs, inputs)
    used = set(used)
    seeds = [(y, gy) for y, gy in zip(outputs, seeds) if y in used]
    if seeds:
        sweep.sweep(seeds, create_graph, region=region)
    result = []
    for k, x in enumerate(inputs):
        gx = region.sink[x]
        if gx is None:
            if not allow_unused:
                raise ValueError(
                    f"inputs[{k}] was not used to compute the outputs, so it has no "
                    "gradient; pass allow_unused=True to get None for it"
                )
        elif create_graph:
            gx = core.as_variable(gx)
        else:
            gx = sweep.grad_variable(x, gx.data if isinstance(gx, Variable) else gx)
        result.append(gx)
    return tuple(result)


def _as_inputs(values, what):
    items = tuple(values) if isinstance(values, (tuple, list)) else (values,)
    out = []
    for k, v in enumerate(items):
        if isinstance(v, Variable):
            out.append(v)
        elif isinstance(v, np.ndarray):
            out.append(Variable(v))
        else:
            raise TypeError(
                f"{what}[{k}] must be a numpy ndarray or a Variable, got {type(v).__name__}"
            )
    return tuple(out)


def _outputs_of(ys):
    outs = tuple(ys) if isinstance(ys, (tuple, list)) else (ys,)
    for k, y in enumerate(outs):
        if not isinstance(y, Variable):
            raise TypeError(f"f must return Variables; output {k} is {type(y).__name__}")
    return outs


def _like(ys, values):
    """values shaped as f's result: a tuple when f returned a sequence."""
    return tuple(values) if isinstance(ys, (tuple, list)) else values[0]


def _second_pass(gs, vs, wrt, create_graph):
    """d(sum of g * v)/d(wrt) over the gradients g that exist: the second half of jvp (wrt the
    dummy cotangents) and of hvp (wrt the primals); zeros where no path reaches."""
    pairs = [(g, v) for g, v in zip(gs, vs) if g is not None]
    out = (None,) * len(wrt)
    if pairs:
        out = grad(
            [g for g, _ in pairs],
            wrt,
            grad_outputs=[v for _, v in pairs],
            create_graph=create_graph,
            allow_unused=True,
        )
    return tuple(Variable(np.zeros_like(w.data)) if o is None else o for w, o in zip(wrt, out))


def jvp(f, primals, tangents, create_graph=False):
    """(f(*primals), J @ tangents), each shaped as f's result, like torch.func.jvp.
    primals and tangents are tuples of arrays or Variables, tangents shaped as primals."""
    xs = _as_inputs(primals, "primals")
    ts = _as_inputs(tangents, "tangents")
    if len(ts) != len(xs):
        raise ValueError(f"jvp got {len(ts)} tangent(s) for {len(xs)} primal(s)")
    for k, (x, t) in enumerate(zip(xs, ts)):
        if t.shape != x.shape:
            raise ValueError(f"tangents[{k}] has shape {t.shape}; primals[{k}] has {x.shape}")
    ys = f(*xs)
    outs = _outputs_of(ys)
    us = tuple(Variable(np.zeros_like(y.data)) for y in outs)
    gs = grad(outs, xs, grad_outputs=us, create_graph=True, allow_unused=True)
    return ys, _like(ys, _second_pass(gs, ts, us, create_graph))


def hvp(f, primals, v, create_graph=False):
    """(f(*primals), H @ v) for a scalar f, as torch.autograd.functional.hvp returns them:
    reverse over reverse, since the Hessian is symmetric."""
    xs = _as_inputs(primals, "primals")
    vs = _as_inputs(v, "v")
    if len(vs) != len(xs):
        raise ValueError(f"hvp got {len(vs)} vector(s) for {len(xs)} primal(s)")
    y = f(*xs)
    if not isinstance(y, Variable) or y.data.size != 1:
        raise ValueError("hvp needs f to return a single-element Variable")
    gs = grad(y, xs, create_graph=True, allow_unused=True)
    return y, _second_pass(gs, vs, xs, create_graph)
