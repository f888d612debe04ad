"""The exact reference of GradBench's evaluations: their own definitions
(`bench.workloads.gradbench`), run on validation's longdouble tape.

`ReferenceOps` is one more op namespace for the evaluations' `run(ops, params, consts)`: every
op is recorded on a `validation.reference.tape.Tape` over `WORKLOAD_RULES`, at np.longdouble
(64-bit mantissa on x86, 2**11 times finer than float64), or with `digits` at that many
decimal digits in mpmath (object arrays; the check that longdouble is exact enough).

Second derivatives (kmeans' Newton direction, the nested solvers of saddle and particle) are
forward over reverse by a complex step: a gradient taken with `create_graph` becomes one tape
record whose pull-back of v replays the gradient's own records with the point moved by i h v
(h = 2**-300) and sweeps them back; the imaginary part over h is
d/dh grad(f)(x + h v) = H v, with no subtraction, so no cancellation (in longdouble and in
mpmath alike). The tape's rules are written from the derivatives' definitions and the complex
step from calculus: nothing here shares code with dezero or any backend.
"""

from __future__ import annotations

from functools import partial

import mpmath
import numpy as np

from validation.reference.tape import Tape, Value
from validation.reference.workload_rules import WORKLOAD_RULES, imag, real

NESTED = "nested_grad"
STEP = 2.0**-300  # the complex step: its square is far below any precision used here


class Traced(Value):
    """A value on a `ReferenceOps` tape, with Python's operators recording onto it."""

    __slots__ = ("ops",)
    __array_ufunc__ = None  # numpy defers to the reflected operators below

    def __init__(self, value, slot, ops):
        # set here, not through Value.__init__: a nested solver makes 10**5 of these
        self.value, self.slot, self.ops = value, slot, ops

    shape = property(lambda self: self.value.shape)
    ndim = property(lambda self: self.value.ndim)

    def __len__(self):
        return len(self.value)

    def __getitem__(self, index):
        return self.ops.call("getitem", self, index=index)

    def __neg__(self):
        return self.ops.call("neg", self)

    def __pow__(self, p):
        return self.ops.call("pow", self, p=p)


def _binary(name, swap=False):
    def apply(self, other):
        a, b = (other, self) if swap else (self, other)
        return self.ops.call(name, a, b)

    return apply


for _name, _op in (("add", "add"), ("sub", "sub"), ("mul", "mul"), ("truediv", "div")):
    setattr(Traced, f"__{_name}__", _binary(_op))
    setattr(Traced, f"__r{_name}__", _binary(_op, swap=True))


def _pullback(gy, *inputs_and_y, pullback):
    return pullback(gy)


class ReferenceOps:
    """The evaluations' op namespace over one longdouble (or `digits`-digit mpmath) tape.

    `noise`: a `validation.reference.floor.Rounding` applied to every op's result and gradient
    term (the rounding floor's model; None for the reference itself).
    """

    def __init__(self, noise=None, digits: int | None = None):
        self.digits = digits
        self.second_order = False  # whether a gradient was taken with create_graph
        rules = WORKLOAD_RULES | {NESTED: (None, _pullback)}
        self.tape = Tape(rules, noise, round_backward=noise is not None, value_type=self._traced)
        for name in ("exp", "log", "sqrt", "sigmoid", "tanh", "sin", "cos", "matmul"):
            setattr(self, name, partial(self.call, name))

    def _traced(self, value, slot):
        return Traced(value, slot, self)

    def _array(self, a):
        """`a` in this tape's number type, exactly (every float64 is a longdouble and an mpf)."""
        a = np.asarray(a)
        if self.digits is None:
            return a.astype(np.longdouble) if a.dtype.kind in "biuf" else a
        if a.dtype == object:
            return a
        return np.vectorize(mpmath.mpf, otypes=[object])(a.astype(np.float64))

    def leaf(self, a) -> Traced:
        """A fresh leaf holding `a`'s value (a value on the tape too: a new input)."""
        return self.tape.leaf(self._array(self.value(a)))

    def lift(self, a) -> Traced:
        """`a` on the tape: itself if it is there, else a leaf nothing asks the gradient of."""
        return a if isinstance(a, Traced) else self.leaf(a)

    const = lift

    def inputs(self, params, consts) -> tuple:
        """A case's params and float array constants on the tape, as `prepare_workload`
        converts them for an engine: what an evaluation computes from them outside `ops`
        (ht's 1 - u0 - u1 of a constant us) is then exact too, not rounded to float64."""
        params = [self.const(p) for p in params]
        consts = {
            k: self.const(c) if isinstance(c, np.ndarray) and c.dtype.kind in "fO" else c
            for k, c in consts.items()
        }
        return params, consts

    def value(self, v):
        return v.value if isinstance(v, Traced) else np.asarray(v)

    def call(self, name, *args, **attrs) -> Traced:
        return self.tape.call(name, *[self.lift(a) for a in args], **attrs)

    def reshape(self, x, shape):
        return self.call("reshape", x, shape=tuple(shape))

    def sum(self, x, axis=None):
        return self.call("sum", x, axis=axis)

    def min(self, x, axis=None):
        return self.call("min", x, axis=axis)

    def max(self, x, axis=None):
        return self.call("max", x, axis=axis)

    def logsumexp(self, x, axis=None):
        return self.call("logsumexp", x, axis=axis)

    def concatenate(self, seq, axis=0):
        return self.call("concatenate", *seq, axis=axis)

    def stack(self, seq, axis=0):
        return self.call("stack", *seq, axis=axis)

    def transpose(self, x, axes=None):
        return self.call("transpose", x, axes=None if axes is None else tuple(axes))

    def where(self, condition, a, b):
        return self.call("where", self.value(condition), a, b)

    def less(self, a, b) -> bool:
        """`a < b` as a Python bool, by real parts (a solver's test: the branch it takes is
        part of the program, not something a derivative flows through)."""
        return bool(real(self.value(a)) < real(self.value(b)))  # one element, as bool() asks

    def scan(self, step, carry, xs):
        """`carry = step(carry, rows)` for each row of the arrays xs, a Python loop whose
        every row is a recorded getitem (so gradients reach xs too)."""
        xs = [self.lift(x) for x in xs]
        for i in range(len(xs[0]) if xs else 0):
            carry = step(carry, tuple(x[i] for x in xs))
        return carry

    def grad(self, y, xs, create_graph=False) -> list:
        """d y / d x for each x of `xs`, with torch.autograd.grad's meaning; `create_graph`
        records each gradient so that a later `grad` differentiates it again."""
        y = self.lift(y)
        if create_graph:
            return [self._nested(y, x) for x in xs]
        region = self.tape.region(y, min(x.slot for x in xs))
        grads = self.tape.sweep(region, y)
        return [self.tape.leaf(grads.get(x.slot, np.zeros_like(x.value))) for x in xs]

    def grad_at(self, f, x, create_graph=False):
        """The gradient of f at x (a nested solver's step)."""
        x = self.lift(x)
        return self.grad(f(x), [x], create_graph)[0]

    def value_and_grad(self, f, params) -> tuple:
        """f(*params) and its gradient with respect to each param, as arrays."""
        leaves = [self.leaf(p) for p in params]
        y = self.lift(f(*leaves))
        return self.value(y), [g.value for g in self.grad(y, leaves)]

    def jacfwd(self, f, x):
        """The Jacobian of f at x, one column per entry of x on a last axis (the shape
        forward mode gives), built from its rows: one reverse sweep from each output element.
        Exact like every gradient here; a constant, as `value_and_grad`'s gradients are."""
        x = self.lift(x)
        y = self.lift(f(x))
        flat = self.reshape(y, (-1,))
        rows = [self.grad(flat[i], [x])[0].value for i in range(flat.shape[0])]
        if not rows:
            return self.leaf(np.zeros(y.shape + x.shape, dtype=x.value.dtype))
        return self.leaf(np.reshape(np.stack(rows), y.shape + x.shape))

    def _nested(self, y, x) -> Traced:
        self.second_order = True
        region = self.tape.region(y, x.slot)
        if any(record[0] == NESTED for record in region):
            raise ValueError("the workload reference takes second derivatives, not third")
        node = self.tape.leaf(self.tape.sweep(region, y).get(x.slot, np.zeros_like(x.value)))
        produced = {record[3].slot for record in region}
        inputs = list({a.slot: a for r in region for a in r[1] if a.slot not in produced}.values())
        pullback = partial(self._second_order, region, y, x, inputs)
        self.tape.records.append((NESTED, inputs, {"pullback": pullback}, node))
        return node

    def _second_order(self, region, y, x, inputs, v) -> tuple:
        """v . d grad_x(y) / d input for each input of the gradient's records: by symmetry of
        second derivatives, the derivative along v of the gradient of y at x + i h v."""
        zeros = tuple(np.zeros_like(a.value) for a in inputs)
        if not np.any(v != 0):
            return zeros
        values = {x.slot: x.value + 1j * (STEP * v)}
        noise = self.tape.noise
        for name, args, attrs, node in reversed(region):
            result = self.tape.rules[name][0](*[values.get(a.slot, a.value) for a in args], **attrs)
            values[node.slot] = result if noise is None else noise(np.asarray(result))
        grads = self.tape.sweep(region, y, values)
        return tuple(
            imag(grads[a.slot]) / STEP if a.slot in grads else zero
            for a, zero in zip(inputs, zeros, strict=True)
        )


def run_reference(workload, size, noise=None, digits: int | None = None) -> tuple:
    """`workload.run` at `size` on a fresh reference tape: (its outputs as np.longdouble
    arrays, or with `digits` object arrays of mpmath numbers at that precision; whether it
    took second derivatives)."""
    ops = ReferenceOps(noise, digits)
    if digits is None:
        params, consts = ops.inputs(*workload.inputs(size))
        outputs = [np.asarray(o, dtype=np.longdouble) for o in workload.run(ops, params, consts)]
    else:
        with mpmath.workdps(digits):
            params, consts = ops.inputs(*workload.inputs(size))
            outputs = [np.asarray(o) for o in workload.run(ops, params, consts)]
    return outputs, ops.second_order
