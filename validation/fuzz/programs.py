"""Random differentiable programs: seeded DAGs over the fuzzed ops, as plain JSON data.

A program is a dict `{"version": 1, "nodes": [...]}`. Each node is either an input,
`{"op": "input", "shape": [...], "values": [...]}` (values flattened, written with `repr`
precision by json so they round-trip exactly), or an op applied to earlier nodes,
`{"op": "sin", "args": [0], "attrs": {...}}`. The objective every backend differentiates is
the sum, over the program's sinks (op nodes nobody consumes), of the sum of their elements,
with respect to every input; so no node is dead code and shrinking a node away changes it.

`programs()` is a hypothesis strategy: hypothesis both generates (seeded) and shrinks, so
a failing program is reduced by hypothesis's own shrinker, never by one written here. Every
draw is ordered so that its simplest value comes first (fewer nodes, the first node as
argument, the first legal op), which is where the shrinker drives it.

Values are kept in each op's domain by interval arithmetic, as the `random` chain family
does with `Op.image`: each node carries an interval containing all its values. Nodes that
can hold exactly equal values (relu's zeros, clip's bounds, repeated indices, `x - x`) are
`tied` (so are softmax outputs over a length-1 axis), and `max`, `clip`, `maximum`,
`minimum` and `abs` (where 0 is possible) are never applied to them: the derivative at a tie
is a convention that frameworks legitimately differ on, not a bug. The numpy-style ops and
their domain edges are drawn by `validation.fuzz.numpy_api_draws`.
"""

from __future__ import annotations

import json
import math

import numpy as np
from hypothesis import strategies as st

from bench.workloads.ops import OPS
from validation.fuzz.intervals import MAGNITUDE, MAX_DIM, Node, Reject, corners, integer, within
from validation.fuzz.numpy_api_draws import NUMPY_API, NumpyApiDraws, numpy_api_legal

VERSION = 1
# Ops in the order the shrinker prefers them (it drives an op choice towards the first).
UNARY = ("neg", "sin", "cos", "tanh", "sigmoid", "exp", "square", "log", "relu", "clip")
BINARY = ("add", "mul", "sub", "div", "matmul")
STRUCTURAL = ("sum", "max", "reshape", "transpose", "get_item", "softmax", "log_softmax")
OP_NAMES = UNARY[:1] + BINARY[:1] + UNARY[1:] + BINARY[1:] + STRUCTURAL + NUMPY_API
ELEMENTWISE_BINARY = ("add", "mul", "sub", "div")
SOFTMAX_DOMAIN = (-30.0, 30.0)  # exp of the inputs must not overflow (no max is subtracted)
SQUARE_DOMAIN = (-1e3, 1e3)  # the registry's (1, 1e4) is for deep chains of squares
DIVISOR_GAP = 0.25  # a divisor's interval stays this far from 0
# The ordinary interval first (the shrinker's choice), then the domain edges: a divisor's,
# near 0 (abs's and maximum's kinks), sqrt near 0, and a spread logsumexp must shift for.
INPUT_INTERVALS = ((-2.0, 2.0), (0.5, 2.0), (-1e-6, 1e-6), (1e-12, 1e-6), (-700.0, 700.0))


CLIP_STEPS = 80
CLIP_FRACTIONS = ((4, 36), (44, 76))  # in steps of 1/80: 0.05-0.45 and 0.55-0.95


def _unary_legal(name, node):
    if name in ("relu", "neg", "tanh", "sigmoid"):
        return name != "sigmoid" or within(node, OPS["sigmoid"].domain)
    if name == "clip":
        return not node.tied and node.hi > node.lo
    if name == "square":
        return within(node, SQUARE_DOMAIN)
    return within(node, OPS[name].domain)


def _legal_ops(node):
    """Ops that may take `node` as their first argument."""
    ndim = len(node.shape)
    legal = []
    for name in OP_NAMES:
        if name in UNARY:
            ok = _unary_legal(name, node)
        elif name == "matmul":
            ok = ndim in (1, 2)
        elif name in NUMPY_API:
            ok = numpy_api_legal(name, node)
        elif name in ELEMENTWISE_BINARY or name == "reshape":
            ok = True
        elif name == "max":
            ok = not node.tied
        elif name == "transpose":
            ok = ndim >= 2
        elif name in ("softmax", "log_softmax"):
            ok = ndim >= 1 and within(node, SOFTMAX_DOMAIN)
        else:  # sum, get_item
            ok = ndim >= 1 or name == "sum"
        if ok:
            legal.append(name)
    return legal


def _broadcast(a, b):
    return tuple(np.broadcast_shapes(a, b))


def _compatible(name, a, b):
    try:
        shape = _broadcast(a.shape, b.shape)
    except ValueError:
        return False
    if name == "div" and not (b.lo >= DIVISOR_GAP or b.hi <= -DIVISOR_GAP):
        return False
    return len(shape) <= 3


class _Builder(NumpyApiDraws):
    """Draws one program node by node, tracking each node's shape, interval and ties."""

    def __init__(self, draw):
        self.draw = draw
        self.nodes: list[dict] = []
        self.info: list[Node] = []

    def new_input(self, shape, interval=None):
        draw = self.draw
        if interval is None:
            interval = draw(st.sampled_from(INPUT_INTERVALS))
        seed = integer(draw, 0, 2**16)
        values = np.random.default_rng(seed).uniform(*interval, size=shape)
        self.nodes.append({"op": "input", "shape": list(shape), "values": values.ravel().tolist()})
        self.info.append(Node(shape, *interval))
        return len(self.nodes) - 1

    def shape(self, max_ndim=3):
        ndim = self.draw(st.integers(0, max_ndim))
        return tuple(self.draw(st.integers(1, MAX_DIM)) for _ in range(ndim))

    def step(self):
        draw = self.draw
        first = integer(draw, 0, len(self.nodes) - 1)
        legal = [n for n in _legal_ops(self.info[first]) if self._fits(n, self.info[first])]
        name = draw(st.sampled_from(legal))
        build = getattr(self, f"_{name}", None)
        if build is None:
            build = self._binary if name in ELEMENTWISE_BINARY else self._unary
            args, attrs, info = build(name, first)
        else:
            args, attrs, info = build(first)
        self.nodes.append({"op": name, "args": args, "attrs": attrs})
        self.info.append(info)

    def _fits(self, name, node):
        """False where the op's output interval would leave +-MAGNITUDE."""
        if name == "exp":
            return math.exp(node.hi) <= MAGNITUDE
        if name == "square":
            return max(node.lo**2, node.hi**2) <= MAGNITUDE
        if name == "sum":
            return max(abs(node.lo), abs(node.hi)) * math.prod(node.shape) <= MAGNITUDE
        if name in ("mul", "matmul"):  # judged with the operand drawn in `_binary`
            return max(abs(node.lo), abs(node.hi)) ** 2 * MAX_DIM <= MAGNITUDE
        return True

    def _unary(self, name, first):
        a = self.info[first]
        attrs, tied = {}, a.tied
        if name == "clip":
            # the bounds sit 5-45 % and 55-95 % of the way through the input's interval
            u, v = (integer(self.draw, lo, hi) / CLIP_STEPS for lo, hi in CLIP_FRACTIONS)
            lo, hi = a.lo + (a.hi - a.lo) * u, a.lo + (a.hi - a.lo) * v
            attrs, tied = {"lo": lo, "hi": hi}, True
        elif name == "relu":
            lo, hi = max(a.lo, 0.0), max(a.hi, 0.0)
            tied = tied or a.lo < 0
        elif name == "square":
            lo, hi = (0.0 if a.lo < 0 < a.hi else min(a.lo**2, a.hi**2)), max(a.lo**2, a.hi**2)
        else:
            lo, hi = OPS[name].image(a.lo, a.hi)
        return [first], attrs, Node(a.shape, lo, hi, tied)

    def _operand(self, name, first):
        """The second operand: the same node, an earlier compatible node, or a new input."""
        a = self.info[first]
        how = self.draw(st.integers(0, 2))
        if how == 0 and _compatible(name, a, a):
            return first
        if how == 1:
            fits = [i for i, b in enumerate(self.info) if i != first and _compatible(name, a, b)]
            if fits:
                return fits[integer(self.draw, 0, len(fits) - 1)]
        # a new input broadcastable against `a`: leading axes dropped, some axes set to 1
        drop = self.draw(st.integers(0, len(a.shape)))
        shape = tuple(1 if self.draw(st.booleans()) else n for n in a.shape[drop:])
        interval = (0.5, 2.0) if name == "div" else None
        return self.new_input(shape, interval)

    def _binary(self, name, first):
        second = self._operand(name, first)
        a, b = self.info[first], self.info[second]
        if name == "add":
            lo, hi = a.lo + b.lo, a.hi + b.hi
        elif name == "sub":
            lo, hi = a.lo - b.hi, a.hi - b.lo
        elif name == "mul":
            lo, hi = corners(a, b)
        else:
            lo, hi = corners(a, Node((), 1 / b.hi, 1 / b.lo))
        tied = a.tied or b.tied or (first == second and name in ("sub", "div"))
        shape = _broadcast(a.shape, b.shape)
        if max(abs(lo), abs(hi)) > MAGNITUDE:
            raise Reject
        return [first, second], {}, Node(shape, lo, hi, tied)

    def _matmul(self, first):
        a = self.info[first]
        k = a.shape[-1]
        fits = [i for i, b in enumerate(self.info) if len(b.shape) in (1, 2) and b.shape[0] == k]
        if fits and self.draw(st.booleans()):
            second = fits[integer(self.draw, 0, len(fits) - 1)]
        else:  # a matrix, or last numpy's 1-D right operand (a column)
            n = self.draw(st.integers(1, MAX_DIM + 1))
            second = self.new_input((k, n) if n <= MAX_DIM else (k,))
        b = self.info[second]
        lo, hi = corners(a, b)
        shape = np.matmul(np.zeros(a.shape), np.zeros(b.shape)).shape
        if k * max(abs(lo), abs(hi)) > MAGNITUDE:
            raise Reject
        return [first, second], {}, Node(shape, k * lo, k * hi, a.tied or b.tied)

    def _axis(self, a, allow_none=True):
        choices = ([None] if allow_none else []) + list(range(len(a.shape)))
        return self.draw(st.sampled_from(choices))

    def _reduction(self, a):
        """A drawn reduction of node `a`: its attrs (axis, keepdims), how many elements each
        output reduces over, and the output shape."""
        axis = self._axis(a)
        keepdims = self.draw(st.booleans())
        count = math.prod(a.shape) if axis is None else a.shape[axis]
        shape = np.sum(np.zeros(a.shape), axis=axis, keepdims=keepdims).shape
        return {"axis": axis, "keepdims": keepdims}, count, shape

    def _sum(self, first):
        a = self.info[first]
        attrs, count, shape = self._reduction(a)
        return [first], attrs, Node(shape, count * min(a.lo, 0), count * max(a.hi, 0), a.tied)

    def _max(self, first):
        a = self.info[first]
        axis = self._axis(a)
        keepdims = self.draw(st.booleans())
        shape = np.max(np.zeros(a.shape), axis=axis, keepdims=keepdims).shape
        return [first], {"axis": axis, "keepdims": keepdims}, Node(shape, a.lo, a.hi)

    def _reshape(self, first):
        a = self.info[first]
        size = math.prod(a.shape)
        factors = [d for d in range(1, size + 1) if size % d == 0]
        shapes = [(size,), (1, size), (size, 1)] + [(d, size // d) for d in factors]
        shape = self.draw(st.sampled_from(shapes))
        return [first], {"shape": list(shape)}, Node(shape, a.lo, a.hi, a.tied)

    def _transpose(self, first):
        a = self.info[first]
        axes = self.draw(st.permutations(range(len(a.shape))))
        shape = tuple(a.shape[i] for i in axes)
        return [first], {"axes": list(axes)}, Node(shape, a.lo, a.hi, a.tied)

    def _get_item(self, first):
        a = self.info[first]
        index = self.draw(st.lists(st.integers(0, a.shape[0] - 1), min_size=1, max_size=4))
        tied = a.tied or len(set(index)) < len(index)
        info = Node((len(index), *a.shape[1:]), a.lo, a.hi, tied)
        return [first], {"index": index}, info

    def _softmax(self, first):
        a = self.info[first]
        axis = self._axis(a, False)
        # over a length-1 axis every output is exactly 1 (log_softmax: 0): ties
        tied = a.tied or a.shape[axis] == 1
        return [first], {"axis": axis}, Node(a.shape, 0.0, 1.0, tied)

    def _log_softmax(self, first):
        a = self.info[first]
        axis = self._axis(a, False)
        lo = a.lo - a.hi - math.log(a.shape[axis])
        return [first], {"axis": axis}, Node(a.shape, lo, 0.0, a.tied or a.shape[axis] == 1)


@st.composite
def programs(draw, max_nodes: int = 8, max_inputs: int = 3):
    """A hypothesis strategy of random programs (see the module docstring)."""
    builder = _Builder(draw)
    for _ in range(integer(draw, 1, max_inputs)):
        builder.new_input(builder.shape())
    for _ in range(integer(draw, 1, max_nodes)):
        for _attempt in range(4):
            saved = (len(builder.nodes), len(builder.info))
            try:
                builder.step()
                break
            except Reject:
                del builder.nodes[saved[0] :], builder.info[saved[1] :]
    return prune({"version": VERSION, "nodes": builder.nodes})


def prune(program: dict) -> dict:
    """The program without inputs that no op reads (their gradient would be undefined in
    torch, which refuses unused inputs), with node indices renumbered."""
    nodes = program["nodes"]
    used = {i for node in nodes for i in node.get("args", ())}
    keep = [i for i, node in enumerate(nodes) if node["op"] != "input" or i in used]
    if not any(nodes[i]["op"] != "input" for i in keep):
        raise ValueError("a program needs at least one op")
    new_index = {old: new for new, old in enumerate(keep)}
    out = []
    for i in keep:
        node = dict(nodes[i])
        if "args" in node:
            node["args"] = [new_index[a] for a in node["args"]]
        out.append(node)
    return {"version": VERSION, "nodes": out}


def inputs(program: dict) -> list[int]:
    """Indices of the input nodes, in order: the gradient is taken with respect to these."""
    return [i for i, node in enumerate(program["nodes"]) if node["op"] == "input"]


def sinks(program: dict) -> list[int]:
    """Op nodes no other node reads: the objective sums all of them."""
    nodes = program["nodes"]
    used = {i for node in nodes for i in node.get("args", ())}
    return [i for i, node in enumerate(nodes) if node["op"] != "input" and i not in used]


def input_arrays(program: dict, dtype=np.float64) -> list[np.ndarray]:
    """The input values as arrays of `dtype`, in `inputs` order."""
    nodes = program["nodes"]
    return [
        np.asarray(nodes[i]["values"], dtype=dtype).reshape(nodes[i]["shape"])
        for i in inputs(program)
    ]


def op_names(program: dict) -> list[str]:
    """The ops the program applies (with repeats), in node order."""
    return [node["op"] for node in program["nodes"] if node["op"] != "input"]


def evaluate(program: dict, ns, leaves):
    """Run `program` on `leaves` (one per input, in order) through the op namespace `ns`;
    returns the objective: the sum over sinks of `ns.sum(sink)`. Iterative, no recursion.

    `ns` offers `ns.<op>(*args, **attrs)` for every name in OP_NAMES plus `sum(x)`.
    """
    nodes = program["nodes"]
    values: list = [None] * len(nodes)
    leaves = iter(leaves)
    for i, node in enumerate(nodes):
        if node["op"] == "input":
            values[i] = next(leaves)
        else:
            args = [values[a] for a in node["args"]]
            values[i] = getattr(ns, node["op"])(*args, **node.get("attrs", {}))
    total = None
    for i in sinks(program):
        term = ns.sum(values[i])
        total = term if total is None else ns.add(total, term)
    return total


def dumps(program: dict, indent: int | None = 1) -> str:
    """The program as JSON text (floats written with full precision)."""
    return json.dumps(program, indent=indent, sort_keys=True)
