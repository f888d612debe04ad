"""Record once, replay many: `tape = dezero.trace(f, *example_arrays)`.

`trace` runs `f` once in the normal engine (Variables in, a Variable out), then flattens
the graph it built into two lists of steps over numbered slots: forward steps (which
`forward` to call, which slots it reads and writes) and backward steps (which `vjp`, in
the order the eager sweep would run them, and whether each gradient starts or adds to its
input's slot). `tape.forward(*arrays)` and `tape.value_and_grad(*arrays)` then re-run only
the array work: no Variable or Function is created, so a call costs the numpy work plus
one loop iteration per op.

Same numbers: replay calls the same `forward` and `vjp(array_ops, gy, *xs, y)` of the
same Function instances, converts outputs as `Function.__call__` does, applies the
broadcast adjoint (`sum_to`) where the sweep did and adds gradients in the sweep's order,
so values and gradients are bitwise identical to eager dezero.

What is frozen at trace time (as with `torch.jit.trace`):
- Python control flow. A branch on data (`if x.data > 0:`), a loop count or a scalar taken
  from an array (`x * x.data.max()`) is decided once, by the example arrays; replay runs
  the recorded ops whatever the new arrays hold.
- Constants. A leaf the graph reads that is not an argument (a scalar operand, a Parameter
  closed over) is read from its Variable on every replay, so an optimizer's update is
  seen, but it gets no gradient; gradients are returned for the arguments only.
- Shapes and dtypes: every replay must pass arrays of the traced shapes and dtypes.

What is refused at trace time, because replay could not reproduce it:
- f drawing from numpy's global random generator (`F.dropout` in training): replay would
  reuse one mask forever. Trace under `dezero.test_mode()`, or pass the mask as an argument.
  (This also refuses a Function drawing inside its own `forward`, which replay would redraw
  correctly: the check cannot tell the two apart. Draws from a private `Generator` outside
  any `forward` cannot be seen at all: they are frozen like any constant.)
- A constant or a Function attribute that is an argument's array or an intermediate's
  (`Variable(t.data)`, indices `t.data` in `x[..., t.data]`): it would stay the
  example's. A copy computed from such data outside dezero's ops cannot be seen; don't.
- A Function's `vjp` with several outputs (the eager engine refuses it too).

Functions written the book's way (`backward` on Variables, no `vjp`) replay correctly:
before each such `backward`, replay puts the new arrays into the Variables its `inputs`
and `outputs` refer to, so `self.inputs[0].data` reads the current values. State a
Function stores in `forward` (a mask, batch statistics) is fresh too: replay calls every
recorded `forward` again, in an order consistent with the graph (ops the output does not
depend on are not run; a `forward` reading `Config.train` reads it at replay). Only those
book-style steps make Variables during replay. A `vjp` must take its arrays from its
arguments: replay detaches built-in-style Functions from their `inputs` (the tape keeps no
trace-time arrays), so one reading `self.inputs` fails loudly instead of reading stale data.
Only first derivatives are replayed (no `create_graph`).
"""

import gc
import operator

import numpy as np

from dezero import global_rng, sweep
from dezero.compaction import no_compaction
from dezero.core import Constant, Function, Stretch, Variable, using_config
from dezero.tape import Tape, argument_names

_ndarray = np.ndarray
_object_new = object.__new__


def trace(f, *example_arrays):
    """Run `f(*Variables)` once and record it as a `Tape` (see the module docstring)."""
    for k, a in enumerate(example_arrays):
        if not isinstance(a, _ndarray):
            name = argument_names(f, len(example_arrays))[k]
            raise TypeError(f"argument {name!r} must be a numpy ndarray, got {type(a).__name__}")
    args = [Variable(a) for a in example_arrays]
    rng_before = global_rng.state()
    collecting = gc.isenabled()
    gc.disable()  # recording allocates an object or two per op; the engine does the same
    try:
        with using_config("enable_backprop", True), no_compaction():
            output = f(*args)
        if not isinstance(output, Variable):
            raise TypeError(
                f"the traced function must return a Variable, got {type(output).__name__}"
            )
        if global_rng.state() != rng_before:
            raise ValueError(
                "the traced function draws from numpy's global random generator (dropout?); "
                "replay would freeze those draws: trace under dezero.test_mode() or pass "
                "the random array as an argument"
            )
        return _record(f, args, output)
    finally:
        if collecting:
            gc.enable()


def _record(f_traced, args, output):
    slot = {x: i for i, x in enumerate(args)}
    constants = []
    forward_steps = []
    replay_of = {}  # traced Function -> (forward, vjp) that replay calls
    book_vars = {}  # book-style Function -> (input Variables, output Variables)
    to_check = []  # (array or attribute values, allowed ids, what, reader): see _refuse_alias
    nodes, joins = _topological(output)
    # _schedule needs a gradient's value only where a step's vjp reads it or its sum
    # decides a step (see _schedule). `real` holds the Variables whose gradients it must
    # compute; `lazy` maps the output of every other one-input, one-output op to its
    # backward step (which never depends on values) and its input.
    real = joins
    lazy = {}
    shared = _SHARED
    fixed = set()  # slots no argument reaches: constants, and ops that read only those
    for y in nodes:
        x = y._input
        if x is not None:  # recorded without a Function (compaction.record_unary)
            cls = y._creator
            methods = shared.get(cls) or _class_info(cls)[2]
            if methods is not None:
                i = slot.get(x)
                if i is None:
                    i = _constant(x, slot, constants, to_check, cls.__name__)
                    fixed.add(i)
                o = slot[y] = len(slot)
                if i in fixed:
                    fixed.add(o)
                forward_steps.append((methods[0], i, o))
                if x in real:
                    real.add(y)
                else:
                    lazy[y] = ((methods[1], i, o, i), x)
                continue
            f = y.creator  # a class with state: it gets its Function, as other ops have
        else:
            f = y._creator
        inputs = f._inputs
        if type(inputs) is not tuple and type(f._outputs) is not tuple:
            methods = shared.get(type(f)) or _replay_methods(f, y, to_check)
            replay_of[f] = methods
            i = slot.get(inputs)  # one input, one output: the whole of a chain
            if i is None:
                i = _constant(inputs, slot, constants, to_check, type(f).__name__)
                fixed.add(i)
            o = slot[y] = len(slot)
            if i in fixed:
                fixed.add(o)
            forward_steps.append((methods[0], i, o))
            if methods[1] is None:
                book_vars[f] = ((inputs,), (y,))
                real.add(y)
            elif inputs in real:
                real.add(y)
            else:
                lazy[y] = ((methods[1], i, o, i), inputs)
            continue
        inputs = f.inputs
        in_slots = []
        for x in inputs:
            i = slot.get(x)
            if i is None:
                i = _constant(x, slot, constants, to_check, type(f).__name__)
                fixed.add(i)
            in_slots.append(i)
        # An input no argument reaches gets no gradient: the replayed vjp is told so
        # (Function.needs_input_grad), as eager dezero tells it of a raw array.
        marks = tuple([_CONSTANT if i in fixed else None for i in in_slots])
        if _CONSTANT not in marks:
            marks = None
        methods = (shared.get(type(f)) if marks is None else None) or _replay_methods(
            f, y, to_check, marks
        )
        replay_of[f] = methods
        outs = [ref() for ref in f._outputs] if type(f._outputs) is tuple else [y]
        out_slots = []
        for y in outs:
            if y is not None:
                slot[y] = len(slot)
                real.add(y)
                if marks is not None and None not in marks:
                    fixed.add(slot[y])
            out_slots.append(None if y is None else slot[y])
        forward_steps.append((methods[0], in_slots, out_slots))
        if methods[1] is None:
            book_vars[f] = (inputs, outs)
    if output not in slot:  # f's result depends on no argument
        _constant(output, slot, constants, to_check, "the result")
    if to_check:
        leaves = {id(c[1]) for c in constants}
        traced_ids = {id(x.data) for x in slot if id(x) not in leaves}
        for values, allowed, what, reader in to_check:
            for a in values:
                _refuse_alias(a, traced_ids, what, reader, allowed)
    backward_steps = _schedule(output, slot, replay_of, book_vars, lazy, fixed) if nodes else []
    specs = [(x.data.shape, x.data.dtype) for x in args]
    return Tape(f_traced, specs, len(slot), constants, forward_steps, backward_steps, slot[output])


def _constant(x, slot, constants, to_check, reader):
    """Slot a leaf that is not an argument; replay reads it from its Variable."""
    to_check.append(((x.data,), (), "a constant", reader))
    slot[x] = i = len(slot)
    constants.append([i, x, x.data, x.data.shape, x.data.dtype])
    return i


def _topological(output):
    """The output Variable of every op `output` depends on, one per op, inputs before
    users; and the Variables read more than once (by several ops, or twice by one).

    Found breadth-first from `output`, then sorted by generation (an op's outputs' exceeds
    its inputs'), which is nearly free as the search meets them in decreasing generation.
    An op recorded without a Function (compaction.record_unary) is walked through its output's
    `_creator` (the class) and `_input`, without making the Function `creator` would."""
    if output._creator is None:
        return [], set()
    found = [output]
    visited = {output, output._creator}  # Variables, and Functions (several outputs, copies)
    joins = set()
    consistent = True  # every Function's outputs one generation above it, as the engine sets
    for y in found:  # a list's iterator sees what the loop appends
        inputs = y._input
        if inputs is None:
            inputs = y._creator._inputs
        elif type(inputs) is Stretch:  # made before the trace, compacted: rebuild its nodes
            inputs = y.creator._inputs
        for x in inputs if type(inputs) is tuple else (inputs,):
            if x in visited:
                joins.add(x)
                continue
            visited.add(x)
            c = x._creator
            if c is None:
                continue
            if x._input is None:
                if c in visited:
                    continue
                visited.add(c)
                consistent = consistent and c.generation + 1 == x.generation
            found.append(x)
    found.reverse()
    found.sort(key=_generation if consistent else _generation_of_op)
    return found, joins


_generation = operator.attrgetter("generation")


def _generation_of_op(y):
    return y.generation - 1 if y._input is not None else y._creator.generation


def _aliases(a, traced_ids, allowed=()):
    """Whether `a` is (a view of) a traced array other than those in `allowed`."""
    while isinstance(a, _ndarray):
        if id(a) in allowed:
            return False
        if id(a) in traced_ids:
            return True
        a = a.base
    return False


def _refuse_alias(a, traced_ids, what, reader, allowed=()):
    if _aliases(a, traced_ids, allowed):
        raise ValueError(
            f"{what} read by {reader} is the array of an argument or of an "
            "intermediate result (e.g. Variable(x.data) or x[..., t.data]); replay would "
            "keep the example's values: pass it through dezero ops or as an argument"
        )


# Stands, in a replay copy's `_inputs`, for an input that no argument reaches.
_CONSTANT = _object_new(Constant)
_CLASSES = {}  # Function subclass -> (its slot names, whether it has a __dict__, shared methods)
_SHARED = {}  # stateless Function subclass -> (forward, vjp) of its one shared instance


def _class_info(cls):
    info = _CLASSES.get(cls)
    if info is None:
        names = []
        for k in cls.__mro__:
            slots = getattr(k, "__slots__", ()) if k is not Function else ()
            names += [slots] if isinstance(slots, str) else list(slots)
        names = tuple(n for n in names if not n.startswith("__"))
        has_dict = hasattr(_object_new(cls), "__dict__")
        shared = None
        if not names and not has_dict and cls.vjp is not None:
            # No state at all (Sin, Add, ...): every step of this class can share one instance.
            g = _object_new(cls)
            g._inputs = g._outputs = None
            shared = _SHARED[cls] = (g.forward, g.vjp)
        info = _CLASSES[cls] = (names, has_dict, shared)
    return info


def _replay_methods(f, y, to_check, marks=None):
    """(forward, vjp) replay calls for `f`: for a built-in vjp, those of a copy of f without
    `inputs` and `outputs`, so the tape keeps no trace-time arrays alive and the caller's
    graph (f may read Variables made before the trace) is left as it was. A book-style
    Function keeps its own (vjp None): its `backward` reads them, refreshed on replay."""
    names, has_dict, shared = _class_info(type(f))
    if shared is not None and marks is None:
        return shared
    values = [getattr(f, n) for n in names if hasattr(f, n)]
    if has_dict:
        values += list(f.__dict__.values())
    arrays = [
        a
        for v in values
        for a in (v if isinstance(v, (tuple, list)) else (v,))
        if isinstance(a, _ndarray)
    ]
    if arrays:
        # `self.x = x` or `self.y = y` in forward is refreshed when replay calls forward
        outputs = [r() for r in f._outputs] if type(f._outputs) is tuple else [y]
        own = {id(v.data) for v in (*f.inputs, *outputs) if v is not None}
        to_check.append((arrays, own, f"an attribute of {type(f).__name__}", type(f).__name__))
    if f.vjp is None:
        return f.forward, None
    g = _object_new(type(f))
    for name in names:
        if hasattr(f, name):
            setattr(g, name, getattr(f, name))
    if has_dict:
        g.__dict__.update(f.__dict__)
    g._inputs = marks  # None: every input may need its gradient
    g._outputs = None
    return g.forward, g.vjp


def _schedule(output, slot, replay_of, book_vars, lazy, fixed):
    """The backward steps: the eager sweep (dezero.sweep, fast path, no retain_grad) run
    once on the traced graph, each step recorded as it runs (`_Steps`): same order, same
    sums. Variables no argument reaches (`fixed` slots) are left out, as dezero.grad leaves
    out what leads to no input: the sweep stops there and vjps are told not to compute
    their gradients, which replay does not need.

    The sweep runs the vjps for real where a gradient's value decides a step: which
    gradients are None (an integer label's), where broadcasting is summed, whether a
    gradient starts or adds to its input's slot. Elsewhere (`lazy`: one input, one output,
    an input read by that op alone and whose gradient feeds no such decision) the step is
    known without it: a chain of those costs no vjp here.
    """
    excluded = {x for x, i in slot.items() if i in fixed}
    steps = _Steps(slot, replay_of, book_vars, lazy)
    seeds = [(output, np.ones_like(output.data))]
    region = sweep.Region(excluded, excluded)
    with using_config("enable_backprop", False):
        sweep.sweep(seeds, False, region=region, recorder=steps)
    return steps.steps


def _no_gradient(f, m, gy, x, y):
    """A lazy step's vjp while the schedule runs: nothing downstream reads its value."""
    return None


class _Steps:
    """The sweep's recorder (see dezero.sweep.run): writes each step it is told of as a
    tape step, a one-input, one-output op as (vjp, input slot, output slot, target) with
    target ~slot when the gradient adds to an earlier one, any other as (vjp, input slots,
    outputs, targets) for `_general_step`."""

    __slots__ = ("steps", "slot", "replay_of", "book_vars", "lazy")

    def __init__(self, slot, replay_of, book_vars, lazy):
        self.steps = []
        self.slot = slot
        self.replay_of = replay_of
        self.book_vars = book_vars
        self.lazy = lazy

    def hot(self, y, x, vjp, chase):
        """A lazy step is known without its gradient: run a vjp that computes nothing, and
        with nothing else in flight write the steps of the lazy chain below at once, as
        the eager sweep chases down it (each input read by its op alone: no sums)."""
        lazy = self.lazy
        entry = lazy.get(y)
        if entry is None:
            return y, x, vjp
        if chase:
            append = self.steps.append
            below = lazy.get(x)
            while below is not None:
                append(entry[0])
                y = x
                entry = below
                x = entry[1]
                below = lazy.get(x)
        return y, x, _no_gradient

    def chain(self, y, x, added):
        i = self.slot[x]
        self.steps.append((self._replay_vjp(y), i, self.slot[y], ~i if added else i))

    def _replay_vjp(self, y):
        # a record_unary op runs its class's shared vjp; any other its replay copy's
        if y._input is not None:
            return _SHARED[y._creator][1]
        return self.replay_of[y._creator][1]

    def general(self, f, y, fed, targets):
        slot = self.slot
        vjp = self.replay_of[f][1]
        if vjp is None:  # book-style: replay refreshes its Variables, then calls backward
            in_vars, out_vars = self.book_vars[f]
            vjp = (f, tuple(in_vars), tuple(out_vars))
        if fed is None:
            outs = [(slot[y], "grad")]
        else:
            outs = [(None, None) if v is None else (slot[v], feed) for v, feed in fed]
        kept = [
            None if t is None else (slot[t[0]], t[0].shape if t[1] else None, t[2]) for t in targets
        ]
        self.steps.append((vjp, [slot[x] for x in f.inputs], outs, kept))
