"""Variable, Function, Parameter and Config: the model dezero records graphs with.

A Function records its inputs and (weakly) its outputs; a Variable its creator and its
generation (one above its creator's), which is all the reverse sweep (dezero.sweep) needs
to order the graph. Built-in functions define their derivative once, as
`vjp(m, gy, *xs, y)`, where `m` is an op namespace: `dezero.array_ops` on raw ndarrays in
the fast sweep, `dezero.functions` on Variables under `create_graph=True`, so the same
line that gives the gradient also records it for higher derivatives.

core imports nothing built on it. `dezero.setup_variable()` installs what lives above:
Variable's operators and `backward` (the sweep), and the namespace `graph_ops`.
"""

import contextlib
import itertools
import operator
import sys
import weakref

import numpy as np

from dezero import collector, cuda

# The op namespace that records a graph (dezero.functions): `create_graph=True` hands it to
# every vjp, and Variable's shape methods call it. dezero.setup_variable() sets it.
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

# The collector policy (dezero.collector) starts with the first Variable made, the start of
# the program's first graph, not at import: importing dezero changes nothing process-wide.
# After that, one test of this flag per Variable(); the engine's own hot paths make their
# Variables without __init__.
_collector_pending = True


def _start_collector():
    global _collector_pending
    _collector_pending = False
    collector.install()


class Variable:
    # `backward` and the arithmetic operators are installed by dezero.setup_variable(), from
    # dezero.sweep and dezero.arithmetic.
    #
    # `_creator` is read through the `creator` property, which also hands the creator a
    # weak reference back to this output when it was recorded without one (see Function).
    #
    # An op recorded by `record_unary` (sin, exp, ...: stateless, one input) keeps no
    # Function at all: `_creator` holds its class and `_input` its input, and `creator`
    # builds the Function on first read. One GC-tracked object per op instead of two
    # halves the collector's work while a deep graph is built (and 48 bytes a node);
    # `_input` is None whenever `_creator` is a Function or None. When that input is
    # itself such an op's output that nothing else holds, `_input` is the `Stretch`
    # that keeps the chain below as arrays (see record_unary).
    __slots__ = ("data", "name", "grad", "_creator", "_input", "generation", "__weakref__")
    # Make `ndarray op Variable` defer to Variable's reflected operators.
    __array_ufunc__ = None
    __array_priority__ = 200

    def __init__(self, data, name=None):
        if _collector_pending:
            _start_collector()
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
            if type(x) is Stretch:
                x = input_of(self)
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
        if type(x) is Stretch:
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
                    if type(s) is Stretch:  # its nodes are reachable through x alone: they die
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


class Parameter(Variable):
    __slots__ = ()


class Constant(Variable):
    """An array passed straight to a Function (`model(x)` with x an ndarray): data, not a
    variable of the graph. Only the Function holds it, so no one reads its gradient: the
    sweep stores none, and a vjp may skip computing it (`Function.needs_input_grad`), as
    torch does for a tensor without requires_grad. Wrap the array in a Variable to get one."""

    __slots__ = ()


def _constant(obj):
    return engine_variable(obj if type(obj) is np.ndarray else as_array(obj), cls=Constant)


class _RunningSweep:
    """What the running sweep tells the vjps it calls: `unwanted`, the Variables whose
    gradient it was not asked for (dezero.grad). dezero.sweep sets it for one run;
    `Function.needs_input_grad` reads it, so a vjp skips them as it skips constants."""

    __slots__ = ("unwanted",)

    def __init__(self):
        self.unwanted = frozenset()


running_sweep = _RunningSweep()


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
data_of = operator.attrgetter("data")
_VARIABLE_TYPES = itertools.repeat(Variable)  # map(isinstance, inputs, this): no Python frame


def engine_variable(data, creator=None, input=None, generation=0, cls=Variable):
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
        ys = self.forward(*map(data_of, inputs))
        if type(ys) is not tuple and len(inputs) > 1:
            return self._record_one(inputs, ys if type(ys) is np.ndarray else as_array(ys), held)
        return self._record(inputs, ys if type(ys) is tuple else (ys,), held)

    def _record_one(self, inputs, y, held):
        """`_record` for several inputs and one ndarray output (linear, add, matmul, a
        loss), without its lists and max(): most ops a training step records."""
        if not Config.enable_backprop:
            return engine_variable(y)
        generation = 0
        for x in inputs:
            if x.generation > generation:
                generation = x.generation
        self.generation = generation
        output = engine_variable(y, self, None, generation + 1)
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
        """False when input i is an array the engine wrapped (`Constant`), or a Variable the
        running `dezero.grad` does not need: a vjp may then return None for it instead of
        computing a gradient no one can read."""
        x = self._inputs
        if type(x) is tuple:
            x = x[i]
        return type(x) is not Constant and x not in running_sweep.unwanted  # x None: a replay copy

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


class Stretch:
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


def input_of(y):
    """A new Variable for the input of y, whose `_input` is a Stretch (y is not changed)."""
    s = y._input
    k = y.generation - 1 - s.generation0
    return engine_variable(s.datas[k], s.ops[k], s if k else s.anchor, y.generation - 1)
