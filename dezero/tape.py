"""A recorded computation, replayed: `Tape.forward` and `Tape.value_and_grad` re-run only
the array work that `dezero.trace` recorded, as two lists of steps over numbered slots.

Each forward step names the `forward` to call and the slots it reads and writes; each
backward step the vjp, in the eager sweep's order, and whether its gradient starts or adds
to its input's slot. No Variable or Function is made (but for book-style steps), so a call
costs the numpy work plus one loop iteration per op. How the steps are found, and what a
trace freezes, is dezero.trace's docstring.
"""

import inspect

import numpy as np

from dezero import array_ops, sweep

_ndarray = np.ndarray
_asarray = np.asarray


class Tape:
    """A recorded computation: replay it with `forward` or `value_and_grad` (see module doc)."""

    def __init__(self, f, specs, size, constants, forward_steps, backward_steps, out):
        self.f = f  # the traced function: its parameter names go into error messages
        self.specs = specs  # (shape, dtype) per argument
        self.size = size  # slots: arguments, constants, then every op's outputs
        self.constants = constants  # [slot, Variable, last array seen, shape, dtype]
        self.forward_steps = forward_steps
        self.backward_steps = backward_steps
        self.out = out

    def __len__(self):
        """Number of recorded ops."""
        return len(self.forward_steps)

    def __repr__(self):
        return f"<dezero.Tape: {len(self.specs)} arguments, {len(self)} ops>"

    @property
    def names(self):
        """The arguments' names, from f's signature (looked up only for error messages)."""
        return argument_names(self.f, len(self.specs))

    def _check(self, arrays):
        if len(arrays) != len(self.specs):
            raise TypeError(
                f"the traced function takes {len(self.specs)} array(s) "
                f"({', '.join(self.names)}), got {len(arrays)}"
            )
        for k, ((shape, dtype), a) in enumerate(zip(self.specs, arrays)):
            if type(a) is not _ndarray or a.shape != shape or a.dtype != dtype:
                _refuse_argument(self.names[k], a, shape, dtype)

    def _run_forward(self, arrays):
        self._check(arrays)
        values = [None] * self.size
        values[: len(arrays)] = arrays
        for constant in self.constants:
            slot, var, last, shape, dtype = constant
            data = var.data
            if data is not last:  # rebound (an optimizer, the user): check it once
                if type(data) is not _ndarray or data.shape != shape or data.dtype != dtype:
                    raise ValueError(
                        f"constant {var.name or 'Variable'} was traced as shape {shape} "
                        f"{dtype}; its data is now {getattr(data, 'shape', type(data))}"
                    )
                constant[2] = data
            values[slot] = data
        for forward, i, o in self.forward_steps:
            if type(i) is int:  # one input, one output: the whole of a chain
                y = forward(values[i])
                values[o] = y if type(y) is _ndarray else _asarray(y)
                continue
            ys = forward(*[values[j] for j in i])
            if type(ys) is not tuple:
                ys = (ys,)
            for slot, y in zip(o, ys):
                if slot is not None:
                    values[slot] = y if type(y) is _ndarray else _asarray(y)
        return values

    def forward(self, *arrays):
        """The traced function's output array for new arguments (no graph is built)."""
        return self._run_forward(arrays)[self.out]

    def value_and_grad(self, *arrays):
        """(output array, gradients of sum(output) w.r.t. each argument), as eager dezero's
        `y.backward()` gives them; an argument the output does not depend on gets zeros."""
        values = self._run_forward(arrays)
        grads = [None] * self.size
        value = values[self.out]
        grads[self.out] = np.ones_like(value)
        m = array_ops
        for vjp, i, o, target in self.backward_steps:
            if type(i) is int:  # hot path: one input, one output, a built-in vjp
                gx = vjp(m, grads[o], values[i], values[o])
                grads[o] = None
                # target: the input's slot, or ~slot when the gradient adds to an earlier one
                if target >= 0:
                    grads[target] = gx
                else:
                    grads[~target] = grads[~target] + gx
                continue
            _general_step(vjp, i, o, target, values, grads)
        out = []
        for slot, (_, dtype) in enumerate(self.specs):
            gx = grads[slot]
            if gx is None:
                out.append(np.zeros_like(values[slot]))
                continue
            gx = np.asarray(gx, dtype=dtype)  # what eager's leaf.grad.data holds
            out.append(gx if gx.flags.writeable else gx.copy())
        return value, tuple(out)


def _refuse_argument(name, a, shape, dtype):
    if type(a) is not _ndarray:
        raise TypeError(f"argument {name!r} must be a numpy ndarray, got {type(a).__name__}")
    raise ValueError(
        f"argument {name!r} has shape {a.shape} and dtype {a.dtype}; "
        f"the trace was recorded for shape {shape} and dtype {dtype}"
    )


def _general_step(vjp, ins, outs, targets, values, grads):
    """Several inputs or outputs, or a book-style backward: the sweep's general branch.

    `vjp` is a bound vjp, or (for a book-style Function) a tuple (function, input
    Variables, output Variables) whose Variables get the replayed arrays first. `outs`
    holds (slot, how the sweep fed it): 'grad', 'zeros' (an output that got no gradient)
    or None (an output freed before the sweep).
    """
    gys = []
    for slot, feed in outs:
        if feed == "grad":
            gys.append(grads[slot])
            grads[slot] = None
        else:
            gys.append(None if feed is None else np.zeros_like(values[slot]))
    if type(vjp) is tuple:
        f, in_vars, out_vars = vjp
        for var, j in zip(in_vars, ins):
            var.data = values[j]
        for var, (slot, _) in zip(out_vars, outs):
            if var is not None:
                var.data = values[slot]
        gxs = sweep.call_backward(f, gys, True)
    else:
        gxs = vjp(array_ops, gys[0], *[values[j] for j in ins], values[outs[0][0]])
    if type(gxs) is not tuple:
        gxs = (gxs,)
    for gx, target in zip(gxs, targets):
        if target is None:  # no gradient, or one the sweep drops (a constant's)
            continue
        slot, shape, add = target
        if shape is not None:
            gx = array_ops.sum_to(gx, shape)
        grads[slot] = grads[slot] + gx if add else gx


def argument_names(f, count):
    """The names of f's first `count` positional parameters, for error messages."""
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        params = []
    names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    star = next((p.name for p in params if p.kind is p.VAR_POSITIONAL), None)
    return [
        names[i] if i < len(names) else f"{star or 'arg'}[{i - len(names)}]" for i in range(count)
    ]
