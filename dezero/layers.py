"""dezero.layers (imported as L): Layers hold Parameters and other Layers by attribute.

Assigning a Parameter or a Layer to an attribute registers it, in assignment order, so
`params()` always yields the same sequence (optimizers and weight files rely on it).
"""

import os
import tempfile
import zipfile

import numpy as np

import dezero.functions as F
from dezero import cuda
from dezero.core import Parameter
from dezero.functions_conv import pair

NEW_FILE_MODE = 0o644  # mkstemp makes 0600 files; a weights file is meant to be shared


class Layer:
    # Bumped whenever any Layer gains, replaces or loses a Parameter or sublayer: params()
    # caches its walk against it, since a training step asks twice (cleargrads, update).
    _structure_version = 0

    def __init__(self):
        self._params = {}  # name -> None, an ordered set

    def __setattr__(self, name, value):
        if isinstance(value, (Parameter, Layer)):
            self._params[name] = None
            Layer._structure_version += 1
        elif name in self.__dict__.get("_params", ()):
            del self._params[name]  # replaced by something that is neither
            Layer._structure_version += 1
        super().__setattr__(name, value)

    def __delattr__(self, name):
        super().__delattr__(name)
        if name in self.__dict__.get("_params", ()):
            del self._params[name]
            Layer._structure_version += 1

    def __call__(self, *inputs):
        outputs = self.forward(*inputs)
        return outputs

    def forward(self, *inputs):
        raise NotImplementedError(f"{type(self).__name__} does not define forward")

    def params(self):
        """Every Parameter of this layer and its sublayers, depth first, in assignment order."""
        cache = self.__dict__.get("_params_cache")
        if cache is None or cache[0] != Layer._structure_version:
            cache = (Layer._structure_version, tuple(self._walk_params()))
            self.__dict__["_params_cache"] = cache  # a plain attribute: no registration
        return iter(cache[1])

    def _walk_params(self):
        stack = [self]
        while stack:
            layer = stack.pop()
            children = []
            for name in layer._params:
                obj = layer.__dict__[name]
                if isinstance(obj, Layer):
                    children.append(obj)
                else:
                    yield obj
            stack.extend(reversed(children))

    def cleargrads(self):
        for param in self.params():
            param.grad = None  # cleargrad() inlined: once per parameter per step

    def to_cpu(self):
        for param in self.params():
            param.to_cpu()

    def to_gpu(self):
        for param in self.params():
            param.to_gpu()

    def _flatten_params(self, params_dict, parent_key=""):
        for name in self._params:
            obj = self.__dict__[name]
            key = parent_key + "/" + name if parent_key else name
            if isinstance(obj, Layer):
                obj._flatten_params(params_dict, key)
            else:
                params_dict[key] = obj

    def named_params(self):
        """{'l0/W': Parameter, ...}: the keys save_weights writes."""
        params = {}
        self._flatten_params(params)
        return params

    def save_weights(self, path):
        """Write every initialised Parameter to a compressed .npz (host copies; the layer
        stays where it is). As with numpy, '.npz' is appended to a name without it.

        The archive is written to a temporary file in the same folder and renamed over the
        target, so a failed or interrupted save leaves the previous file (and every other
        file) as it was.
        """
        arrays = {
            k: cuda.as_numpy(p.data) for k, p in self.named_params().items() if p.data is not None
        }
        if hasattr(path, "write"):  # an open file: the caller owns it
            np.savez_compressed(path, **arrays)
            return
        path = os.fspath(path)
        if not path.endswith(".npz"):
            path += ".npz"
        folder, name = os.path.split(path)
        fd, temporary = tempfile.mkstemp(dir=folder or ".", prefix=f".{name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as file:
                np.savez_compressed(file, **arrays)
            mode = os.stat(path).st_mode & 0o777 if os.path.exists(path) else NEW_FILE_MODE
            os.chmod(temporary, mode)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise

    def load_weights(self, path):
        """Read weights written by save_weights. Everything is checked before anything is
        assigned, so a corrupt or mismatched file raises and leaves the layer unchanged."""
        if not hasattr(path, "read"):
            path = os.fspath(path)
            if not os.path.exists(path):
                raise FileNotFoundError(f"weights file {path!r} does not exist")
            if not os.path.isfile(path):
                raise ValueError(f"weights file {path!r} is not a file")
        try:
            npz = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
            # numpy takes a file that is not a zip for a pickle and says so; the truth is
            # simpler: this is not what save_weights writes
            raise ValueError(
                f"cannot read weights file {path!r}: not an .npz archive written by "
                f"save_weights ({type(e).__name__})"
            ) from e
        if not isinstance(npz, np.lib.npyio.NpzFile):
            raise ValueError(
                f"cannot read weights file {path!r}: a single .npy array, not an .npz archive "
                "written by save_weights"
            )
        try:
            with npz:
                arrays = {key: npz[key] for key in npz.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
            raise ValueError(f"cannot read weights file {path!r}: {e}") from e
        params = self.named_params()
        missing = sorted(k for k, p in params.items() if k not in arrays and p.data is not None)
        unexpected = sorted(set(arrays) - set(params))
        if missing or unexpected:
            raise ValueError(
                f"weights file {path!r} does not match {type(self).__name__}: "
                f"missing {missing or 'nothing'}, unexpected {unexpected or 'nothing'}"
            )
        for key, array in arrays.items():
            data = params[key].data
            if data is not None and data.shape != array.shape:
                raise ValueError(
                    f"weights file {path!r}: {key} has shape {array.shape}, "
                    f"the layer's parameter has {data.shape}"
                )
        for key, array in arrays.items():
            param = params[key]
            if param.data is not None:
                array = array.astype(param.data.dtype, copy=False)
                xp = cuda.get_array_module(param.data)
                array = array if xp is np else cuda.as_cupy(array)
            param.data = array


def _init_weight(shape, fan_in, dtype):
    """randn(*shape) / sqrt(fan_in) as the book computes it: rounded to `dtype`, then scaled in
    `dtype` (numpy 1's promotion), so the book's printed numbers come out (step 47's loss,
    1.4967442524053058; scaling in float64 first, then rounding, gives 1.49674425947)."""
    return np.random.randn(*shape).astype(dtype) * np.asarray(np.sqrt(1 / fan_in), dtype=dtype)


class Linear(Layer):
    """y = x W + b. W is (in, out); without `in_size` it is created on the first call."""

    def __init__(self, out_size, nobias=False, dtype=np.float32, in_size=None):
        super().__init__()
        self.in_size, self.out_size, self.dtype = in_size, out_size, dtype
        self.W = Parameter(None, name="W")
        if in_size is not None:
            self._init_W()
        self.b = None if nobias else Parameter(np.zeros(out_size, dtype=dtype), name="b")

    def _init_W(self, xp=np):
        I, O = self.in_size, self.out_size
        self.W.data = xp.asarray(_init_weight((I, O), I, self.dtype))

    def forward(self, x):
        if self.W.data is None:
            self.in_size = x.shape[1]
            self._init_W(cuda.get_array_module(x))
        return F.linear(x, self.W, self.b)


class Conv2d(Layer):
    """2-d convolution; W is (out_channels, in_channels, KH, KW), created lazily."""

    def __init__(
        self, out_channels, kernel_size, stride=1, pad=0, nobias=False, dtype=np.float32,
        in_channels=None,
    ):  # fmt: skip
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.pad, self.dtype = kernel_size, stride, pad, dtype
        self.W = Parameter(None, name="W")
        if in_channels is not None:
            self._init_W()
        self.b = None if nobias else Parameter(np.zeros(out_channels, dtype=dtype), name="b")

    def _shape(self):
        return (self.out_channels, self.in_channels, *pair(self.kernel_size))

    def _init_W(self, xp=np):
        shape = self._shape()
        self.W.data = xp.asarray(_init_weight(shape, shape[1] * shape[2] * shape[3], self.dtype))

    def forward(self, x):
        if self.W.data is None:
            self.in_channels = x.shape[1]
            self._init_W(cuda.get_array_module(x))
        return F.conv2d(x, self.W, self.b, self.stride, self.pad)


class Deconv2d(Conv2d):
    """Transposed convolution; W is (in_channels, out_channels, KH, KW)."""

    def _shape(self):
        return (self.in_channels, self.out_channels, *pair(self.kernel_size))

    def _init_W(self, xp=np):
        C, OC, KH, KW = self._shape()
        self.W.data = xp.asarray(_init_weight((C, OC, KH, KW), C * KH * KW, self.dtype))

    def forward(self, x):
        if self.W.data is None:
            self.in_channels = x.shape[1]
            self._init_W(cuda.get_array_module(x))
        return F.deconv2d(x, self.W, self.b, self.stride, self.pad)


class RNN(Layer):
    """A tanh recurrent cell. The state `h` carries over between calls, so a sequence is fed
    one step per call; reset_state() starts a new sequence."""

    def __init__(self, hidden_size, in_size=None):
        super().__init__()
        self.input_proj = Linear(hidden_size, in_size=in_size)
        self.state_proj = Linear(hidden_size, in_size=hidden_size, nobias=True)
        self.h = None

    def reset_state(self):
        self.h = None

    def forward(self, x):
        a = self.input_proj(x)
        if self.h is not None:
            a = a + self.state_proj(self.h)
        self.h = F.tanh(a)
        return self.h


class LSTM(Layer):
    """An LSTM cell with state (h, c) kept between calls until reset_state().

    Each gate has its own projection of the input and, once a state exists, a bias-free one
    of the previous h; the first step of a sequence has no state term at all.
    """

    GATES = ("forget", "input", "output", "candidate")

    def __init__(self, hidden_size, in_size=None):
        super().__init__()
        for gate in self.GATES:
            setattr(self, f"{gate}_x", Linear(hidden_size, in_size=in_size))
            setattr(self, f"{gate}_h", Linear(hidden_size, in_size=hidden_size, nobias=True))
        self.reset_state()

    def reset_state(self):
        self.h = None
        self.c = None

    def _preactivation(self, gate, x):
        a = getattr(self, f"{gate}_x")(x)
        return a if self.h is None else a + getattr(self, f"{gate}_h")(self.h)

    def forward(self, x):
        forget, keep, show = (F.sigmoid(self._preactivation(g, x)) for g in self.GATES[:3])
        candidate = F.tanh(self._preactivation("candidate", x))
        written = keep * candidate
        self.c = written if self.c is None else forget * self.c + written
        self.h = show * F.tanh(self.c)
        return self.h


class EmbedID(Layer):
    """A lookup table: row x of W for each integer id x."""

    def __init__(self, in_size, out_size):
        super().__init__()
        self.W = Parameter(np.random.randn(in_size, out_size), name="W")

    def forward(self, x):
        return F.embed_id(x, self.W)


class BatchNorm(Layer):
    """Per-channel batch normalisation; running mean/var are Parameters so they are saved."""

    def __init__(self):
        super().__init__()
        self.avg_mean = Parameter(None, name="avg_mean")
        self.avg_var = Parameter(None, name="avg_var")
        self.gamma = Parameter(None, name="gamma")
        self.beta = Parameter(None, name="beta")

    def _init_params(self, x):
        xp = cuda.get_array_module(x)
        D, dtype = x.shape[1], x.dtype
        self.avg_mean.data = xp.zeros(D, dtype=dtype)
        self.avg_var.data = xp.ones(D, dtype=dtype)
        self.gamma.data = xp.ones(D, dtype=dtype)
        self.beta.data = xp.zeros(D, dtype=dtype)

    def forward(self, x):
        if self.avg_mean.data is None:
            self._init_params(x)
        return F.batch_norm(x, self.gamma, self.beta, self.avg_mean.data, self.avg_var.data)
