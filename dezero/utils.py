"""Helpers around the engine: numerical gradients, array comparison, graph export."""

import os
import shutil
import subprocess
import tempfile

import numpy as np

# sum_to is the book's dezero.utils.sum_to, kept importable here; it lives with the ops.
from dezero.array_ops import sum_to  # noqa: F401
from dezero.core import Variable, as_variable

# =============================================================================
# Numerical differentiation
# =============================================================================


def _data(x):
    return x.data if isinstance(x, Variable) else np.asarray(x)


def numerical_diff(f, x, eps=1e-4):
    """Central difference (f(x+eps) - f(x-eps)) / 2eps, the book's step 4."""
    xd = _data(x)
    y0 = f(Variable(np.asarray(xd - eps)))
    y1 = f(Variable(np.asarray(xd + eps)))
    return (_data(y1) - _data(y0)) / (2 * eps)


def numerical_grad(f, x, *args, eps=1e-4, **kwargs):
    """Central-difference gradient of sum(f(x, *args)) with respect to every element of x."""
    xd = np.array(_data(x), dtype=np.float64 if _data(x).dtype.kind != "f" else None)
    grad = np.zeros_like(xd)
    for idx in np.ndindex(xd.shape):
        original = xd[idx].copy()
        xd[idx] = original + eps
        y1 = _data(f(xd.copy(), *args, **kwargs)).sum()
        xd[idx] = original - eps
        y0 = _data(f(xd.copy(), *args, **kwargs)).sum()
        xd[idx] = original
        grad[idx] = (y1 - y0) / (2 * eps)
    return grad


def gradient_check(f, x, *args, rtol=1e-4, atol=1e-5, **kwargs):
    """Compare backprop's gradient of sum(f(x, *args)) with numerical_grad; True if close.

    On a mismatch it prints the worst element, so a failing test says where it broke.
    """
    x = as_variable(x)
    x.data = x.data.astype(np.float64)
    num_grad = numerical_grad(f, x, *args, **kwargs)
    y = f(x, *args, **kwargs)
    y.backward()
    bp_grad = x.grad.data
    if bp_grad.shape != num_grad.shape:
        raise ValueError(
            f"gradient shape {bp_grad.shape} differs from input shape {num_grad.shape}"
        )
    ok = array_allclose(num_grad, bp_grad, rtol=rtol, atol=atol)
    if not ok:
        diff = np.abs(num_grad - bp_grad)
        worst = np.unravel_index(np.argmax(diff), diff.shape) if diff.ndim else ()
        print("gradient_check failed:")
        print(
            f"  worst element {worst}: backprop {bp_grad[worst]!r}, numerical {num_grad[worst]!r}"
        )
    return ok


def array_equal(a, b):
    return np.array_equal(_data(a), _data(b))


def array_allclose(a, b, rtol=1e-4, atol=1e-5):
    return np.allclose(_data(a), _data(b), rtol=rtol, atol=atol)


# =============================================================================
# Graph export (Graphviz DOT), iterative over the graph
# =============================================================================


def _dot_var(v, verbose=False):
    name = "" if v.name is None else v.name
    if verbose and v.data is not None:
        if v.name is not None:
            name += ": "
        name += f"{v.shape} {v.dtype}"
    return f'{id(v)} [label="{name}", color=orange, style=filled]\n'


def _dot_func(f):
    lines = [f'{id(f)} [label="{type(f).__name__}", color=lightblue, style=filled, shape=box]\n']
    lines += [f"{id(x)} -> {id(f)}\n" for x in f.inputs]
    lines += [f"{id(f)} -> {id(ref())}\n" for ref in f.outputs if ref() is not None]
    return "".join(lines)


def get_dot_graph(output, verbose=True):
    """Graphviz DOT text of the graph that produced `output`."""
    parts = [_dot_var(output, verbose)]
    stack = [output.creator] if output.creator is not None else []
    seen = set(stack)
    while stack:
        f = stack.pop()
        parts.append(_dot_func(f))
        for x in f.inputs:
            parts.append(_dot_var(x, verbose))
            if x.creator is not None and x.creator not in seen:
                seen.add(x.creator)
                stack.append(x.creator)
    return "digraph g {\n" + "".join(parts) + "}"


def plot_dot_graph(output, verbose=True, to_file="graph.png"):
    """Render the graph with Graphviz's `dot`; the format follows the file extension."""
    dot = shutil.which("dot")
    if dot is None:
        raise FileNotFoundError(
            "plot_dot_graph needs the Graphviz program 'dot', which is not on PATH "
            "(install graphviz, e.g. apt-get install graphviz)"
        )
    extension = os.path.splitext(to_file)[1][1:] or "png"
    with tempfile.TemporaryDirectory() as tmp_dir:
        graph_path = os.path.join(tmp_dir, "graph.dot")
        with open(graph_path, "w") as f:
            f.write(get_dot_graph(output, verbose))
        subprocess.run([dot, graph_path, "-T", extension, "-o", to_file], check=True)
    return to_file
