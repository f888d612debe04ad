"""Optional GPU arrays through CuPy. Without CuPy every array is numpy and `as_cupy`
(so `to_gpu`) raises an error that says how to get it.

It works on arrays and knows no other dezero module (core imports it): a Variable passed
in is recognised by its array `data`.
"""

import numpy as np

try:
    import cupy
    import cupyx  # noqa: F401  (scatter-add on the GPU)

    gpu_enable = True
except ImportError:
    cupy = None
    gpu_enable = False

array_types = (np.ndarray,) if cupy is None else (np.ndarray, cupy.ndarray)


def _data(x):
    """The array behind x: a Variable's `data`, else x itself (an ndarray's own `data` is a
    buffer, not an array, so arrays and scalars pass through)."""
    data = getattr(x, "data", None)
    return data if isinstance(data, array_types) else x


def get_array_module(x):
    """numpy or cupy, whichever holds x (a Variable or an array); numpy without CuPy."""
    if not gpu_enable:
        return np
    return cupy.get_array_module(_data(x))


def as_numpy(x):
    """x as a numpy array: scalars become 0-d arrays, CuPy arrays are copied to the host."""
    x = _data(x)
    if np.isscalar(x):
        return np.array(x)
    if isinstance(x, np.ndarray):
        return x
    if cupy is not None and isinstance(x, cupy.ndarray):
        return cupy.asnumpy(x)
    raise TypeError(f"as_numpy expects an array, scalar or Variable, got {type(x).__name__}")


def as_cupy(x):
    """x as a CuPy array on the current GPU; a clear error when CuPy is not installed."""
    x = _data(x)
    if not gpu_enable:
        raise RuntimeError(
            "CuPy is not installed, so dezero cannot use a GPU; install the CuPy build for "
            "your CUDA (e.g. pip install cupy-cuda12x) or keep the model on the CPU"
        )
    return cupy.asarray(x)


def is_array(x):
    """True for a numpy array, and for a CuPy array when CuPy is installed."""
    return isinstance(x, array_types)
