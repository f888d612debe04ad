"""Second derivatives of every op in the op table, and what each vjp hands back.

`backward(create_graph=True)` records the gradient computation, so a second backward of
sum(gx * v) (v fixed and random) gives the Hessian-vector product H v. It is checked
against torch's double backward for every op torch has, and against jax (`jax.jvp` of
`jax.grad`) for the elementwise ones, in float64 over the table's shapes (broadcasting
included for binary ops). A vjp that calls a function directly instead of through its
namespace `m` breaks exactly this (it once did for indexing), and the vjp check below
names it.
"""

import numpy as np
import pytest

import dezero.functions as F
from bench.workloads.op_table import (
    GRAD_CASES,
    GRAD_IDS,
    TORCH_CASES,
    TORCH_IDS,
    cotangent,
    jnp,
    sample_inputs,
    torch,
)
from dezero import Variable, array_ops

JAX_CASES = [(r, s) for r, s in GRAD_CASES if r.jax_op is not None]
JAX_IDS = [i for (r, _), i in zip(GRAD_CASES, GRAD_IDS) if r.jax_op is not None]
HVP_TOL = 1e-10


def sample(record, shapes, seed=0):
    """The table's inputs, an output weight gy and one direction v per input, all float64."""
    xs = sample_inputs(record, shapes, seed=seed)
    gy = cotangent(np.asarray(record.ref(*xs)))
    rng = np.random.default_rng(seed + 2)
    vs = [rng.uniform(-1.0, 1.0, x.shape) for x in xs]
    return xs, gy, vs


def dezero_grads_and_hvps(record, xs, gy, vs):
    """Gradients of sum(op(xs) * gy) (by create_graph) and H v (by backward through them)."""
    variables = [Variable(x.copy()) for x in xs]
    F.sum(record.op(*variables) * gy).backward(create_graph=True)
    grads = [v.grad for v in variables]
    for i, (x, g) in enumerate(zip(variables, grads)):
        assert isinstance(g, Variable), f"create_graph gave input {i} a {type(g).__name__}"
        assert g.shape == x.shape and g.dtype == x.dtype, f"input {i}: {g.shape} {g.dtype}"
        x.cleargrad()
    directional = F.sum(grads[0] * vs[0])
    for g, v in zip(grads[1:], vs[1:]):
        directional = directional + F.sum(g * v)
    directional.backward()
    # An input the gradient does not depend on (x in x + b) gets no second gradient: zero.
    hvps = [np.zeros_like(x) if v.grad is None else v.grad.data for x, v in zip(xs, variables)]
    return [g.data for g in grads], hvps


def torch_grads_and_hvps(torch_op, xs, gy, vs):
    tensors = [torch.tensor(x, requires_grad=True) for x in xs]
    loss = (torch_op(*tensors) * torch.as_tensor(gy)).sum()
    grads = torch.autograd.grad(loss, tensors, create_graph=True)
    terms = [(g * torch.as_tensor(v)).sum() for g, v in zip(grads, vs) if g.requires_grad]
    if not terms:  # a linear op: its gradient is a constant
        return [g.detach().numpy() for g in grads], [np.zeros_like(x) for x in xs]
    hvps = torch.autograd.grad(sum(terms), tensors, allow_unused=True)
    # force: torch answers a zero second derivative (abs, a mask) with a ZeroTensor
    hvps = [np.zeros_like(x) if h is None else h.numpy(force=True) for x, h in zip(xs, hvps)]
    return [g.detach().numpy() for g in grads], hvps


def jax_hvps(jax_op, xs, gy, vs):
    """H v as the forward derivative (jvp) of jax.grad along v."""
    import jax

    with jax.enable_x64(True):

        def loss(*args):
            return jnp.sum(jax_op(*args) * gy)

        grad = jax.grad(loss, argnums=tuple(range(len(xs))))
        _, hvps = jax.jvp(
            grad, tuple(jnp.asarray(x) for x in xs), tuple(jnp.asarray(v) for v in vs)
        )
        return [np.asarray(h) for h in hvps]


def assert_close(actual, expected, what):
    for i, (a, e) in enumerate(zip(actual, expected)):
        np.testing.assert_allclose(a, e, rtol=HVP_TOL, atol=HVP_TOL, err_msg=f"{what} of input {i}")


@pytest.mark.parametrize(("record", "shapes"), TORCH_CASES, ids=TORCH_IDS)
def test_second_derivative_matches_torch_double_backward(record, shapes):
    if torch is None:
        pytest.skip("torch is not installed")
    xs, gy, vs = sample(record, shapes)
    grads, hvps = dezero_grads_and_hvps(record, xs, gy, vs)
    torch_grads, torch_hvps = torch_grads_and_hvps(record.torch_op, xs, gy, vs)
    assert_close(grads, torch_grads, "create_graph gradient differs from torch")
    assert_close(hvps, torch_hvps, "Hessian-vector product differs from torch")


@pytest.mark.parametrize(("record", "shapes"), JAX_CASES, ids=JAX_IDS)
def test_elementwise_second_derivative_matches_jax(record, shapes):
    if jnp is None:
        pytest.skip("jax is not installed")
    xs, gy, vs = sample(record, shapes)
    _, hvps = dezero_grads_and_hvps(record, xs, gy, vs)
    assert_close(
        hvps, jax_hvps(record.jax_op, xs, gy, vs), "Hessian-vector product differs from jax"
    )


def graph_functions(*outputs):
    """Every Function that produced the outputs, without recursion."""
    stack, seen = [y.creator for y in outputs], set()
    while stack:
        f = stack.pop()
        if f is None or f in seen:
            continue
        seen.add(f)
        yield f
        stack.extend(x.creator for x in f.inputs)


@pytest.mark.parametrize("create_graph", [False, True], ids=["fast", "create_graph"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize(("record", "shapes"), GRAD_CASES, ids=GRAD_IDS)
def test_each_vjp_returns_its_namespace_type_at_a_broadcast_shape_and_input_dtype(
    record, shapes, dtype, create_graph
):
    """The fast sweep hands vjps ndarrays and array_ops, create_graph Variables and F: each
    vjp must answer in kind, at its input's dtype, at a shape its input broadcasts to.

    Checked for the op's own Functions and for those its create_graph gradient recorded
    (GetItemGrad, SumTo, ...), since a second backward runs their vjps too."""
    variables = [Variable(x) for x in sample_inputs(record, shapes, dtype=dtype)]
    y = record.op(*variables)
    F.sum(y).backward(create_graph=True)
    for f in graph_functions(y, *[v.grad for v in variables]):
        if f.vjp is None:
            continue
        out = f.outputs[0]()
        gy = np.full_like(out.data, 0.5)
        if create_graph:
            gxs = f.vjp(F, Variable(gy), *f.inputs, out)
        else:
            gxs = f.vjp(array_ops, gy, *[x.data for x in f.inputs], out.data)
        gxs = gxs if isinstance(gxs, tuple) else (gxs,)
        name = type(f).__name__
        for i, (x, gx) in enumerate(zip(f.inputs, gxs)):
            if gx is None:
                continue
            if create_graph:
                assert isinstance(gx, Variable), f"{name}.vjp gave input {i} a {type(gx)}"
                assert type(gx.data) is np.ndarray, f"{name}.vjp: input {i} holds {type(gx.data)}"
            else:
                assert isinstance(gx, (np.ndarray, np.generic)), f"{name}.vjp gave {type(gx)}"
            assert gx.dtype == x.dtype, f"{name}.vjp: input {i} {x.dtype} got {gx.dtype}"
            assert np.broadcast_shapes(x.shape, gx.shape) == gx.shape, (
                f"{name}.vjp: input {i} of shape {x.shape} got a gradient of shape {gx.shape}"
            )


def test_second_derivative_through_indexing():
    # The reproduction: GetItemGrad's vjp once called F.get_item on the fast
    # sweep's ndarrays, and a Variable reached array_ops.
    x = Variable(np.array([1.0, 2.0, 3.0]))
    F.sum(x[1] ** 3).backward(create_graph=True)
    g = x.grad
    x.cleargrad()
    F.sum(g * g).backward()
    np.testing.assert_array_equal(g.data, [0.0, 12.0, 0.0])  # 3 x1^2
    np.testing.assert_array_equal(x.grad.data, [0.0, 288.0, 0.0])  # 2 g * 6 x1
