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
import weakref

import numpy as np

from dezero import array_ops, cuda


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
    __slots__ = ("data", "name", "grad", "creator", "generation", "__weakref__")
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
        self.creator = None
        self.generation = 0

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
        return dezero.functions.transpose(self)

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
        self.creator = func
        self.generation = func.generation + 1

    def cleargrad(self):
        self.grad = None

    def unchain(self):
        self.creator = None

    def unchain_backward(self):
        """Cut every edge above this variable, iteratively (graphs can be 10^6 deep)."""
        stack = [self.creator] if self.creator is not None else []
        seen = set()
        while stack:
            f = stack.pop()
            if f in seen:
                continue
            seen.add(f)
            for x in f.inputs:
                if x.creator is not None:
                    stack.append(x.creator)
                    x.unchain()

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = shape[0]
        return dezero.functions.reshape(self, shape)

    def transpose(self, *axes):
        if len(axes) == 0:
            axes = None
        elif len(axes) == 1 and isinstance(axes[0], (tuple, list)) or axes == (None,):
            axes = axes[0]
        return dezero.functions.transpose(self, axes)

    def sum(self, axis=None, keepdims=False):
        return dezero.functions.sum(self, axis, keepdims)

    def __getitem__(self, slices):
        return dezero.functions.get_item(self, slices)

    def backward(self, retain_grad=False, create_graph=False):
        if self.data is None:
            raise ValueError("cannot backpropagate from a Variable whose data is None")
        if self.grad is None:
            self.grad = Variable(np.ones_like(self.data))
        if self.creator is None:
            return
        if create_graph:
            with using_config("enable_backprop", True):
                _backward(self, dezero.functions, retain_grad)
        else:
            _backward(self, array_ops, retain_grad)


class Parameter(Variable):
    __slots__ = ()


def _backward(output, m, retain_grad):
    """Reverse sweep from `output`, one Function at a time in decreasing generation.

    In the fast sweep (`m is array_ops`) vjps get ndarrays; otherwise Variables, and
    the gradient computation is recorded. Gradients live in a dict keyed by Variable
    while in flight; only leaves (and every variable, with `retain_grad`) keep them.
    """
    raw = m is array_ops
    grads = {output: output.grad.data if raw else output.grad}
    if retain_grad:
        output.grad = None  # the sweep stores the seed back when it pops it; don't count it twice
    seed_func = output.creator
    pending = {seed_func.generation: [seed_func]}
    seen = {seed_func}

    for generation in range(seed_func.generation, -1, -1):
        funcs = pending.pop(generation, None)
        if funcs is None:
            continue
        for f in funcs:
            inputs = f._inputs
            output_refs = f._outputs
            vjp = f.vjp
            if type(output_refs) is not tuple:
                y = output_refs()
                gy = grads.pop(y, None) if y is not None else None
                if gy is None:
                    continue
                if retain_grad:
                    _store_grad(y, gy, raw)
                if type(inputs) is not tuple and raw and vjp is not None:
                    # Hot path of a chain: one input, one output, ndarrays.
                    x = inputs
                    gx = vjp(m, gy, x.data, y.data)
                    previous = grads.get(x)
                    grads[x] = gx if previous is None else previous + gx
                    creator = x.creator
                    if creator is not None and creator not in seen:
                        seen.add(creator)
                        pending.setdefault(creator.generation, []).append(creator)
                    continue
                inputs = f.inputs
                if vjp is None:
                    gxs = _call_backward(f, (gy,), raw)
                elif not raw:
                    gxs = vjp(m, gy, *inputs, y)
                else:
                    gxs = vjp(m, gy, *[x.data for x in inputs], y.data)
            else:
                inputs = f.inputs
                gxs = _backward_multi_output(f, grads, retain_grad, raw)
                if gxs is None:
                    continue
            if type(gxs) is not tuple:
                gxs = (gxs,)
            for x, gx in zip(inputs, gxs):
                if gx is None:
                    continue
                if gx.shape != x.shape:  # broadcasting's adjoint, once for every op
                    gx = m.sum_to(gx, x.shape)
                previous = grads.get(x)
                grads[x] = gx if previous is None else previous + gx
                creator = x.creator
                if creator is not None and creator not in seen:
                    seen.add(creator)
                    pending.setdefault(creator.generation, []).append(creator)
    for x, gx in grads.items():
        _store_grad(x, gx, raw)


def _store_grad(x, gx, raw):
    if raw:
        gx = np.asarray(gx, dtype=x.data.dtype)
        if not gx.flags.writeable:  # a broadcast view from sum/broadcast_to
            gx = gx.copy()
        gx = Variable(gx)
    if x.grad is None:
        x.grad = gx
    else:
        x.grad = x.grad + gx


def _backward_multi_output(f, grads, retain_grad, raw):
    """Outputs that got no gradient pass zeros (None once freed); None if none got any."""
    ys = [ref() for ref in f._outputs]
    gys = [grads.pop(y, None) if y is not None else None for y in ys]
    if all(gy is None for gy in gys):
        return None
    for i, (y, gy) in enumerate(zip(ys, gys)):
        if gy is None and y is not None:
            zeros = np.zeros_like(y.data)
            gys[i] = zeros if raw else Variable(zeros)
        elif gy is not None and retain_grad:
            _store_grad(y, gy, raw)
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
    return Variable(as_array(obj))


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


class Function:
    # `_inputs` is the Variable itself for a single input and `_outputs` one weakref
    # for a single output (each tuple would cost 48 bytes per graph node), else tuples;
    # `inputs` / `outputs` always give the book's sequences.
    __slots__ = ("_inputs", "_outputs", "generation")
    # Built-ins set `vjp`; a subclass that writes its own `backward` (the book's way)
    # gets vjp = None and the sweep calls its `backward` with Variables instead.
    vjp = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "backward" in cls.__dict__ and "vjp" not in cls.__dict__:
            cls.vjp = None

    def __call__(self, *inputs):
        # Fast path for the common case, one Variable in and one array out: this
        # call is most of an op's forward cost, so it avoids generic list building.
        if len(inputs) == 1 and isinstance(inputs[0], Variable):
            x = inputs[0]
            y = self.forward(x.data)
            if type(y) is not np.ndarray:
                if type(y) is tuple:
                    return self._record(inputs, y)
                y = np.asarray(y)  # ufuncs return numpy scalars for 0-d input
            # Variable.__init__ inlined: type-call overhead was ~10% of an op's forward.
            output = _new_object(Variable)
            output.data = y
            output.name = None
            output.grad = None
            if Config.enable_backprop:
                self.generation = generation = x.generation
                output.creator = self
                output.generation = generation + 1
                self._inputs = x
                self._outputs = weakref.ref(output)
            else:
                output.creator = None
                output.generation = 0
            return output
        inputs = tuple([x if isinstance(x, Variable) else as_variable(x) for x in inputs])
        ys = self.forward(*[x.data for x in inputs])
        return self._record(inputs, ys if type(ys) is tuple else (ys,))

    def _record(self, inputs, ys):
        outputs = [Variable(y if type(y) is np.ndarray else as_array(y)) for y in ys]
        if Config.enable_backprop:
            self.generation = generation = max([x.generation for x in inputs])
            for output in outputs:
                output.creator = self
                output.generation = generation + 1
            self._inputs = inputs if len(inputs) > 1 else inputs[0]
            refs = tuple([weakref.ref(output) for output in outputs])
            self._outputs = refs if len(refs) > 1 else refs[0]
        return outputs if len(outputs) > 1 else outputs[0]

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
        F = dezero.functions
        gxs = self.vjp(F, *gys, *self.inputs, self.outputs[0]())
        if type(gxs) is not tuple:
            return gxs
        fitted = [None if gx is None else F.sum_to(gx, x.shape) for x, gx in zip(self.inputs, gxs)]
        return tuple(fitted)


# Variable's operators live in arithmetic, which needs Function; functions builds on both.
import dezero.arithmetic  # noqa: E402,F401
import dezero.functions  # noqa: E402,F401
