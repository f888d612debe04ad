"""Variable, Function and the reverse sweep: the engine of dezero.

A Function records its inputs and (weakly) its outputs; `Variable.backward` walks
that graph in decreasing generation order with an explicit work list, so depth is
limited by memory, never by the Python stack.

Built-in functions define their derivative once, as `vjp(m, gy, *xs, y)`, where `m`
is an op namespace. The sweep passes `m = dezero.array_ops` and raw ndarrays (fast,
no graph) or, under `create_graph=True`, `m = dezero.functions` and Variables, so the
same line that gives the gradient also records it for higher derivatives.
"""

import contextlib
import gc
import itertools
import operator
import sys
import weakref

import numpy as np

from dezero import array_ops, cuda

# The op namespace that records a graph (dezero.functions): `create_graph=True` hands it to
# every vjp, and Variable's shape methods call it. core cannot import the functions built
# on it without an import cycle, so the package's setup_variable() sets it, once, at import.
graph_ops = None


class Config:
    """Global switches: record graphs (`enable_backprop`) and training mode (`train`)."""

    enable_backprop = True
    train = True


@contextlib.contextmanager
def using_config(name, value):
    if not hasattr(Config, name):
        raise AttributeError(f"unknown config {name!r}; expected one of: enable_backprop, train")
    old_value = getattr(Config, name)
    setattr(Config, name, value)
    try:
        yield
    finally:
        setattr(Config, name, old_value)


def no_grad():
    return using_config("enable_backprop", False)


def test_mode():
    return using_config("train", False)


# Keep pytest from collecting `test_mode` when a test module imports it.
test_mode.__test__ = False


class Variable:
    # `_creator` is read through the `creator` property, which also hands the creator a
    # weak reference back to this output when it was recorded without one (see Function).
    #
    # An op recorded by `record_unary` (sin, exp, ...: stateless, one input) keeps no
    # Function at all: `_creator` holds its class and `_input` its input, and `creator`
    # builds the Function on first read. One GC-tracked object per op instead of two
    # halves the collector's work while a deep graph is built (and 48 bytes a node);
    # `_input` is None whenever `_creator` is a Function or None. When that input is
    # itself such an op's output that nothing else holds, `_input` is the `_Stretch`
    # that keeps the chain below as arrays (see record_unary).
    __slots__ = ("data", "name", "grad", "_creator", "_input", "generation", "__weakref__")
    # Make `ndarray op Variable` defer to Variable's reflected operators.
    __array_ufunc__ = None
    __array_priority__ = 200

    def __init__(self, data, name=None):
        # The CuPy test runs only after the numpy one fails: no cost on the CPU path.
        if data is not None and not isinstance(data, np.ndarray) and not cuda.is_array(data):
            raise TypeError(
                f"Variable data must be a numpy ndarray or None, got {type(data).__name__}"
            )
        self.data = data
        self.name = name
        self.grad = None
        self._creator = None
        self._input = None
        self.generation = 0

    @property
    def creator(self):
        f = self._creator
        x = self._input
        if x is not None:  # recorded without a Function (record_unary): make it now, once
            if type(x) is _Stretch:
                x = _input_of(self)
            f = _new_object(f)
            f._inputs = x
            f._outputs = weakref.ref(self)
            f.generation = self.generation - 1
            self._creator = f
            self._input = None
        elif f is not None and f._outputs is None:
            f._outputs = weakref.ref(self)
        return f

    @creator.setter
    def creator(self, func):
        self._creator = func
        self._input = None

    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return self.data.size

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def T(self):
        return graph_ops.transpose(self)

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        if self.data is None:
            return "variable(None)"
        body = str(self.data).replace("\n", "\n" + " " * 9)
        return f"variable({body})"

    # --- device placement (dezero.cuda; CuPy optional) ---
    def to_cpu(self):
        if self.data is not None:
            self.data = cuda.as_numpy(self.data)

    def to_gpu(self):
        if self.data is not None:
            self.data = cuda.as_cupy(self.data)

    def set_creator(self, func):
        self._creator = func
        self._input = None
        self.generation = func.generation + 1

    def cleargrad(self):
        self.grad = None

    def unchain(self):
        self._creator = None
        self._input = None

    def _creator_inputs(self):
        x = self._input
        if type(x) is _Stretch:
            return self.creator.inputs  # the input becomes a Variable again, linked to self
        if x is not None:
            return (x,)
        return () if self._creator is None else self._creator.inputs

    def unchain_backward(self):
        """Cut every edge above this variable, iteratively (graphs can be 10^6 deep).

        A variable already cut has no creator, so each is visited once without a `seen` set."""
        stack = [self._creator_inputs()]
        while stack:
            for x in stack.pop():
                if x._creator is not None:
                    s = x._input
                    if type(s) is _Stretch:  # its nodes are reachable through x alone: they die
                        stack.append((s.anchor,))
                    else:
                        stack.append(x._creator_inputs())
                    x.unchain()

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = shape[0]
        return graph_ops.reshape(self, shape)

    def transpose(self, *axes):
        if len(axes) == 0:
            axes = None
        elif len(axes) == 1 and isinstance(axes[0], (tuple, list)) or axes == (None,):
            axes = axes[0]
        return graph_ops.transpose(self, axes)

    def sum(self, axis=None, keepdims=False):
        return graph_ops.sum(self, axis, keepdims)

    def __getitem__(self, slices):
        return graph_ops.get_item(self, slices)

    def backward(self, retain_grad=False, create_graph=False):
        if self.data is None:
            raise ValueError("cannot backpropagate from a Variable whose data is None")
        if self.grad is None:
            self.grad = Variable(_ones_like(self.data))
        if self._creator is None:
            return
        seed = self.grad if create_graph else self.grad.data
        if retain_grad:
            self.grad = None  # the sweep stores the seed back when it pops it; don't count it twice
        sweep([(self, seed)], create_graph, retain_grad)


def sweep(seeds, create_graph, retain_grad=False, region=None):
    """Run `_backward` from `seeds` ((Variable, gradient) pairs: ndarrays, or Variables
    under `create_graph`) with the collector paused: the sweep's own allocations (gradient
    Variables with retain_grad or create_graph) would start collections that walk the
    whole live graph. It is paused for this one call and left as the caller had it."""
    global _unwanted
    collecting = gc.isenabled()
    gc.disable()
    if region is not None:
        _unwanted = region.excluded
    try:
        if create_graph:
            with using_config("enable_backprop", True):
                _backward(seeds, graph_ops, retain_grad, region)
        else:
            _backward(seeds, array_ops, retain_grad, region)
    finally:
        _unwanted = _NOTHING
        if collecting:
            gc.enable()


# Variables whose gradient the running sweep was not asked for (see dezero.autodiff):
# `Function.needs_input_grad` reads it, so a vjp skips them as it skips constants.
_NOTHING = frozenset()
_unwanted = _NOTHING


class Parameter(Variable):
    __slots__ = ()


class _Constant(Variable):
    """An array passed straight to a Function (`model(x)` with x an ndarray): data, not a
    variable of the graph. Only the Function holds it, so no one reads its gradient: the
    sweep stores none, and a vjp may skip computing it (`Function.needs_input_grad`), as
    torch does for a tensor without requires_grad. Wrap the array in a Variable to get one."""

    __slots__ = ()


def _constant(obj):
    return _engine_variable(obj if type(obj) is np.ndarray else as_array(obj), cls=_Constant)


def _backward(seeds, m, retain_grad, region=None):
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
    compacted stretch of such ops (`_Stretch`) is run from its arrays when nothing else
    is in flight, in the order the sweep would take them; otherwise each of its nodes
    gets a Variable for the sweep's dict and work list (linked in, with `retain_grad`).

    Without a `region` every leaf reached keeps its gradient in `.grad` (the book's
    backward). With one (`dezero.grad`), the sweep does not go past `region.stops`, drops
    gradients into `region.excluded`, and leaves `.grad` alone: the gradients of
    `region.sink`'s Variables are put in the sink.
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
                    gxs = _backward_multi_output(f, grads, keep, raw)
                    if gxs is None:
                        continue
                    x = None
                elif type(x) is tuple or not raw or vjp is None:
                    gy = grads.pop(y)
                    if keep is not None:
                        keep(y, gy, raw)
                    inputs = x if type(x) is tuple else (x,)  # f.inputs, without the call
                    if vjp is None:
                        if f._outputs is None:  # a book-style backward may read self.outputs
                            f._outputs = weakref.ref(y)
                        gxs = _call_backward(f, (gy,), raw)
                    elif not raw:
                        gxs = f.vjp(m, gy, *inputs, y)
                    else:
                        gxs = f.vjp(m, gy, *map(_data_of, inputs), y.data)
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
                yd = y.data
                while True:
                    if type(x) is _Stretch:
                        if retain_grad:
                            x = y.creator._inputs  # its gradient is kept: it gets its Variable back
                        elif not chase:
                            x = _input_of(y)  # a stand-in for the grads dict and the work list
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
                        break
                    grads[x] = gx
                    if creator is not None and x not in stops:
                        g = _schedule(x, creator, pending, seen)
                        if chase and g is not None:  # the chase stopped at an op it cannot take
                            generation = g
                    break
                continue
            if type(gxs) is not tuple:
                gxs = (gxs,)
            for x, gx in zip(inputs, gxs):
                if gx is None or type(x) is _Constant or x in excluded:
                    continue
                if gx.shape != x.data.shape:  # broadcasting's adjoint, once for every op
                    gx = m.sum_to(gx, x.data.shape)
                previous = grads.get(x)
                if previous is not None:
                    grads[x] = previous + gx
                    continue
                grads[x] = gx
                creator = x._creator
                if creator is not None and x not in stops:
                    _schedule(x, creator, pending, seen)
    if region is not None:
        region.collect(grads, raw)
        return
    for x, gx in grads.items():
        _store_grad(x, gx, raw)


def _ones_like(data):
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
        gx = _grad_variable(x, gx)
    if x.grad is None:
        x.grad = gx
    else:
        x.grad = x.grad + gx


def _grad_variable(x, gx):
    """The Variable a fast sweep's gradient array for x is handed out in: x's dtype, and
    writable (a broadcast view from sum/broadcast_to is copied)."""
    dtype = x.data.dtype
    if type(gx) is not np.ndarray or gx.dtype is not dtype:  # skip a no-op asarray
        # a float x keeps its precision; an integer or bool x takes the gradient's own
        # dtype (sin's is float), as under create_graph: its dtype would truncate it
        gx = np.asarray(gx, dtype=dtype if dtype.kind in "fc" else None)
    if not gx.flags.writeable:
        gx = gx.copy()
    return _engine_variable(gx)


def _backward_multi_output(f, grads, keep, raw):
    """Outputs that got no gradient pass zeros (None once freed); None if none got any."""
    ys = [ref() for ref in f._outputs]
    gys = [grads.pop(y, None) if y is not None else None for y in ys]
    if all(gy is None for gy in gys):
        return None
    for i, (y, gy) in enumerate(zip(ys, gys)):
        if gy is None and y is not None:
            zeros = np.zeros_like(y.data)
            gys[i] = zeros if raw else Variable(zeros)
        elif gy is not None and keep is not None:
            keep(y, gy, raw)
    if f.vjp is not None:
        raise TypeError(f"{type(f).__name__}: vjp supports single-output functions only")
    return _call_backward(f, gys, raw)


def _call_backward(f, gys, raw):
    """Run a user-defined (book-style) `backward`, which takes and returns Variables."""
    if not raw:
        return f.backward(*gys)
    with using_config("enable_backprop", False):
        gxs = f.backward(*[Variable(np.asarray(gy)) for gy in gys])
    if type(gxs) is not tuple:
        gxs = (gxs,)
    return tuple(None if gx is None else as_variable(gx).data for gx in gxs)


def as_array(x, dtype=None):
    """Scalars become 0-d arrays (of `dtype` if given); ndarrays pass through."""
    if isinstance(x, np.ndarray):
        return x
    return np.asarray(x, dtype=dtype)


def array_of(x):
    """The ndarray behind x: vjps that build masks run on Variables or on raw arrays."""
    return x.data if isinstance(x, Variable) else x


def as_variable(obj):
    if isinstance(obj, Variable):
        return obj
    return Variable(obj if type(obj) is np.ndarray else as_array(obj))


def _weak_dtype(like):
    """Python/numpy scalars take a floating operand's dtype, so float32 stays float32."""
    dtype = like.data.dtype if isinstance(like, Variable) else getattr(like, "dtype", None)
    return dtype if dtype is not None and dtype.kind in "fc" else None


def _operand(x, like):
    if isinstance(x, (Variable, np.ndarray)):
        return x
    if isinstance(x, (int, float, complex, np.generic)):
        return np.asarray(x, dtype=_weak_dtype(like))
    raise TypeError(
        f"unsupported operand type {type(x).__name__}; expected Variable, ndarray or scalar"
    )


_new_object = object.__new__
# The sweep's and __call__'s `[x.data for x in inputs]` without a comprehension frame.
_data_of = operator.attrgetter("data")
_VARIABLE_TYPES = itertools.repeat(Variable)  # map(isinstance, inputs, this): no Python frame


def _engine_variable(data, creator=None, input=None, generation=0, cls=Variable):
    """Variable(data) (or a subclass's) without __init__'s type check, for an ndarray the
    engine made. The two hottest paths (Function.__call__'s one-input case, record_unary)
    write these slots inline instead: a call costs ~10 % of their op."""
    v = _new_object(cls)
    v.data = data
    v.name = None
    v.grad = None
    v._creator = creator
    v._input = input
    v.generation = generation
    return v


def _ufunc_takes_array_out():
    """numpy >= 2.3: `ufunc(x, out=...)` returns an array even for a 0-d result."""
    try:
        return type(np.negative(np.array(1.0), out=...)) is np.ndarray
    except TypeError:
        return False


_UFUNC_ARRAY_OUT = _ufunc_takes_array_out()
_getrefcount = sys.getrefcount


class _RefProbe:
    def __call__(self):
        return _getrefcount(self)


# References a Function holds inside `__call__` when the caller made it inline, as in
# `Sin()(x)` (the caller's temporary, `self`, getrefcount's argument): measured, not
# assumed, since it is an interpreter detail. One more means someone else holds it.
_INLINE_CALL_REFS = _RefProbe()()


class Function:
    # `_inputs` is the Variable itself for a single input and `_outputs` one weakref
    # for a single output (each tuple would cost 48 bytes per graph node), else tuples;
    # `inputs` / `outputs` always give the book's sequences.
    #
    # A single-output Function made inline (`Sin()(x)`, every built-in wrapper) can only
    # be reached through its output's `creator`, so its weakref is made there, on first
    # read (`_outputs` is None until then): most graphs never read it, and a weakref is
    # a third garbage-collected object per op (80 bytes, and ~0.4 µs/op of collector
    # time at depth 10**6). A Function someone holds gets its weakref at once.
    __slots__ = ("_inputs", "_outputs", "generation")
    # Built-ins set `vjp`; a subclass that writes its own `backward` (the book's way)
    # gets vjp = None and the sweep calls its `backward` with Variables instead.
    vjp = None
    # A unary elementwise built-in whose forward is one numpy ufunc names it here, and
    # `__call__` calls it with `out=...`, which returns a 0-d array for a 0-d input where
    # the plain call returns a numpy scalar to be wrapped again: the same arithmetic,
    # minus a forward call and an np.asarray (~0.3 µs of a scalar op's ~1.3). A subclass
    # that writes its own `forward` gets ufunc = None; so does numpy before 2.3.
    ufunc = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "backward" in cls.__dict__ and "vjp" not in cls.__dict__:
            cls.vjp = None
        if ("forward" in cls.__dict__ and "ufunc" not in cls.__dict__) or not _UFUNC_ARRAY_OUT:
            cls.ufunc = None

    def __call__(self, *inputs):
        # Fast path for the common case, one Variable in and one array out: this
        # call is most of an op's forward cost, so it avoids generic list building.
        held = _getrefcount(self) > _INLINE_CALL_REFS
        if len(inputs) == 1 and isinstance(inputs[0], Variable):
            x = inputs[0]
            xd = x.data
            ufunc = self.ufunc
            if ufunc is not None and type(xd) is np.ndarray:
                y = ufunc(xd, out=...)
            else:
                y = self.forward(xd)
                if type(y) is not np.ndarray:
                    if type(y) is tuple:
                        return self._record(inputs, y, held)
                    y = np.asarray(y)  # ufuncs return numpy scalars for 0-d input
            # Variable.__init__ inlined: type-call overhead was ~10% of an op's forward.
            output = _new_object(Variable)
            output.data = y
            output.name = None
            output.grad = None
            output._input = None
            if Config.enable_backprop:
                self.generation = generation = x.generation
                output._creator = self
                output.generation = generation + 1
                self._inputs = x
                self._outputs = weakref.ref(output) if held else None
            else:
                output._creator = None
                output.generation = 0
            return output
        if not all(map(isinstance, inputs, _VARIABLE_TYPES)):
            inputs = tuple([x if isinstance(x, Variable) else _constant(x) for x in inputs])
        ys = self.forward(*map(_data_of, inputs))
        if type(ys) is not tuple and len(inputs) > 1:
            return self._record_one(inputs, ys if type(ys) is np.ndarray else as_array(ys), held)
        return self._record(inputs, ys if type(ys) is tuple else (ys,), held)

    def _record_one(self, inputs, y, held):
        """`_record` for several inputs and one ndarray output (linear, add, matmul, a
        loss), without its lists and max(): most ops a training step records."""
        if not Config.enable_backprop:
            return _engine_variable(y)
        generation = 0
        for x in inputs:
            if x.generation > generation:
                generation = x.generation
        self.generation = generation
        output = _engine_variable(y, self, None, generation + 1)
        self._inputs = inputs
        self._outputs = weakref.ref(output) if held else None
        return output

    def _record(self, inputs, ys, held=True):
        outputs = [Variable(y if type(y) is np.ndarray else as_array(y)) for y in ys]
        if Config.enable_backprop:
            self.generation = generation = max([x.generation for x in inputs])
            for output in outputs:
                output._creator = self
                output.generation = generation + 1
            self._inputs = inputs if len(inputs) > 1 else inputs[0]
            if len(outputs) > 1:
                self._outputs = tuple([weakref.ref(output) for output in outputs])
            else:
                self._outputs = weakref.ref(outputs[0]) if held else None
        return outputs if len(outputs) > 1 else outputs[0]

    def needs_input_grad(self, i):
        """False when input i is an array the engine wrapped (`_Constant`), or a Variable the
        running `dezero.grad` does not need: a vjp may then return None for it instead of
        computing a gradient no one can read."""
        x = self._inputs
        if type(x) is tuple:
            x = x[i]
        return type(x) is not _Constant and x not in _unwanted  # x None: a replay copy

    # The book's step-7 code reads `self.input` / `self.output`.
    @property
    def input(self):
        return self.inputs[0]

    @property
    def output(self):
        return self.outputs[0]()

    @property
    def inputs(self):
        inputs = self._inputs
        return inputs if type(inputs) is tuple else (inputs,)

    @property
    def outputs(self):
        refs = self._outputs
        return refs if type(refs) is tuple else (refs,)

    def forward(self, *xs):
        raise NotImplementedError(f"{type(self).__name__} does not define forward")

    def backward(self, *gys):
        """The book's API: gradients of the inputs, as Variables, given the outputs'."""
        if self.vjp is None:
            raise NotImplementedError(f"{type(self).__name__} does not define backward")
        F = graph_ops
        inputs = self.inputs
        gxs = self.vjp(F, *gys, *inputs, self.outputs[0]())
        # A vjp returns gradients at the broadcast shape (the sweep sums them back); do the same.
        if type(gxs) is not tuple:
            return None if gxs is None else F.sum_to(gxs, inputs[0].shape)
        return tuple(None if gx is None else F.sum_to(gx, x.shape) for x, gx in zip(inputs, gxs))


class _Stretch:
    """The compacted part of a chain of `record_unary` ops: their outputs' arrays and op
    classes, bottom up, and the Variable they start from (`anchor`).

    A node of the chain that only the next node holds (no name, grad or weak reference)
    has no observable identity, so its Variable is dropped and its array and class are
    appended here: two list slots instead of one more GC-tracked object per op. The
    cyclic collector then sees a constant number of objects however long the chain
    grows, where each of its full collections would walk every Variable. Node `k` has
    generation `generation0 + k`; `creator` makes its Variable again when read.
    """

    __slots__ = ("anchor", "generation0", "datas", "ops")

    def __init__(self, anchor, generation0):
        self.anchor = anchor
        self.generation0 = generation0
        self.datas = []
        self.ops = []


def _input_of(y):
    """A new Variable for the input of y, whose `_input` is a _Stretch (y is not changed)."""
    s = y._input
    k = y.generation - 1 - s.generation0
    return _engine_variable(s.datas[k], s.ops[k], s if k else s.anchor, y.generation - 1)


class _SoleInputProbe:
    __slots__ = ("_input",)

    def refs(self):
        w = self._input
        return _getrefcount(w)


def _sole_input_refs():
    probe = _SoleInputProbe()
    probe._input = object()
    return probe.refs()


# References to `w = x._input` inside record_unary when x holds the only one (x's slot,
# the local, getrefcount's argument): measured, as an interpreter detail.
_SOLE_INPUT_REFS = _sole_input_refs()


@contextlib.contextmanager
def no_compaction():
    """Record every record_unary node as a Variable until the block ends: dezero.trace
    reads every node back at once, and compacting them only to rebuild each one made a
    trace ~15 % slower. Setting the expected reference count to one no count equals
    switches compaction off without a test in record_unary's hot path."""
    global _SOLE_INPUT_REFS
    saved = _SOLE_INPUT_REFS
    _SOLE_INPUT_REFS = -1
    try:
        yield
    finally:
        _SOLE_INPUT_REFS = saved


def record_unary(cls, x):
    """`cls()(x)` for a stateless one-input built-in with a `ufunc` (sin, exp, ...), recorded
    in the output alone: the Function is made only if someone reads `output.creator`, and
    the sweep runs `cls.vjp` with the class standing in for `self`, so `cls` must keep no
    state (no `__init__`, a vjp that never reads self).

    It also compacts x's input, w, when w was recorded here too and x holds the only
    reference to it: w's array and class go into x's `_Stretch`, and w's object, whose
    identity nobody can observe, becomes the output. In `y = F.sin(y)` repeated, every
    node but the last two is compacted: the graph stays a constant number of GC-tracked
    objects, and the forward allocates no GC-tracked object, so it starts no collection."""
    ufunc = cls.ufunc
    if ufunc is None or not isinstance(x, Variable) or type(x.data) is not np.ndarray:
        return cls()(x)
    y = ufunc(x.data, out=...)
    if not Config.enable_backprop:
        output = _new_object(Variable)
        output.data = y
        output.name = None
        output.grad = None
        output._creator = None
        output._input = None
        output.generation = 0
        return output
    w = x._input
    if (
        type(w) is Variable
        and w._input is not None
        and _getrefcount(w) == _SOLE_INPUT_REFS
        and w.grad is None
        and w.name is None
        and w.__weakref__ is None
    ):
        s = w._input
        if type(s) is not _Stretch:
            s = _Stretch(s, w.generation)
        # (w is the last node of its stretch unless a copy.copy of w extended it first)
        if w.generation - s.generation0 == len(s.datas):
            s.datas.append(w.data)
            s.ops.append(w._creator)
            x._input = s
            output = w  # recycled: one allocation and one free fewer per op
            output.data = y
            output._creator = cls
            output._input = x
            output.generation = x.generation + 1
            return output
    output = _new_object(Variable)
    output.data = y
    output.name = None
    output.grad = None
    output._creator = cls
    output._input = x
    output.generation = x.generation + 1
    return output
