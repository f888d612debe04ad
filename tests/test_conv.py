"""Convolution and pooling functions against PyTorch and finite differences.

One table of `ConvCase` records (dezero call, torch call, input shapes); tests are
generated from it: forward and every input's gradient against torch in float64 and
float32, gradients against numerical_grad on small inputs, and second derivatives
(the vjp under create_graph) against torch's double backward.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

import dezero.functions as F
from dezero import Variable
from dezero.functions_conv import col2im_array, get_deconv_outsize, im2col_array
from dezero.utils import numerical_grad

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.usefixtures("one_torch_thread")
TF = torch.nn.functional


@dataclass(frozen=True)
class ConvCase:
    name: str
    op: Callable  # dezero: op(*variables)
    torch_op: Callable  # torch: torch_op(*tensors)
    shapes: tuple  # one shape per differentiable input


CASES = [
    ConvCase(
        "conv2d_s1_p1",
        lambda x, W, b: F.conv2d(x, W, b, stride=1, pad=1),
        lambda x, W, b: TF.conv2d(x, W, b, stride=1, padding=1),
        ((2, 3, 6, 5), (4, 3, 3, 3), (4,)),
    ),
    ConvCase(
        "conv2d_s2_p0_rect",
        lambda x, W: F.conv2d(x, W, stride=(2, 1), pad=0),
        lambda x, W: TF.conv2d(x, W, stride=(2, 1)),
        ((2, 2, 7, 6), (3, 2, 3, 2)),
    ),
    ConvCase(
        "conv2d_simple",
        lambda x, W, b: F.conv2d_simple(x, W, b, stride=2, pad=1),
        lambda x, W, b: TF.conv2d(x, W, b, stride=2, padding=1),
        ((2, 3, 5, 5), (2, 3, 3, 3), (2,)),
    ),
    ConvCase(
        "deconv2d_s2_p1",
        lambda x, W, b: F.deconv2d(x, W, b, stride=2, pad=1),
        lambda x, W, b: TF.conv_transpose2d(x, W, b, stride=2, padding=1),
        ((2, 3, 4, 5), (3, 2, 3, 3), (2,)),
    ),
    ConvCase(
        "deconv2d_s1_p0",
        lambda x, W: F.deconv2d(x, W, stride=1, pad=0),
        lambda x, W: TF.conv_transpose2d(x, W),
        ((1, 2, 3, 3), (2, 4, 2, 2)),
    ),
    ConvCase(
        "pooling_k2_s2",
        lambda x: F.pooling(x, 2, 2),
        lambda x: TF.max_pool2d(x, 2, 2),
        ((2, 3, 6, 6),),
    ),
    ConvCase(
        "pooling_k3_s1",
        lambda x: F.pooling(x, 3, 1),
        lambda x: TF.max_pool2d(x, 3, 1),
        ((1, 2, 5, 4),),
    ),
    ConvCase(
        "pooling_simple",
        lambda x: F.pooling_simple(x, 2, 2),
        lambda x: TF.max_pool2d(x, 2, 2),
        ((2, 2, 4, 4),),
    ),
    ConvCase(
        "average_pooling_k2_s2",
        lambda x: F.average_pooling(x, 2, 2),
        lambda x: TF.avg_pool2d(x, 2, 2),
        ((2, 3, 6, 6),),
    ),
    ConvCase(
        "average_pooling_k3_s2_p1",
        lambda x: F.average_pooling(x, 3, 2, 1),
        lambda x: TF.avg_pool2d(x, 3, 2, 1, count_include_pad=True),
        ((1, 2, 5, 5),),
    ),
]
IDS = [case.name for case in CASES]
TOLERANCE = {np.float64: 1e-10, np.float32: 2e-4}


def _inputs(case, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(dtype) for shape in case.shapes]


def _upstream(shape, dtype):
    """A fixed, non-constant upstream gradient, so every path of the vjp is exercised."""
    return np.cos(np.arange(int(np.prod(shape)))).reshape(shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_conv_forward_and_grads_match_torch(case, dtype):
    arrays = _inputs(case, dtype)
    xs = [Variable(a) for a in arrays]
    y = case.op(*xs)
    gy = _upstream(y.shape, dtype)
    F.sum(y * gy).backward()

    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    yt = case.torch_op(*ts)
    (yt * torch.tensor(gy)).sum().backward()

    tol = TOLERANCE[dtype]
    assert y.dtype == dtype, f"{case.name}: forward dtype {y.dtype}, expected {dtype}"
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=tol, atol=tol, err_msg="forward")
    for i, (x, t) in enumerate(zip(xs, ts)):
        assert x.grad.dtype == dtype
        np.testing.assert_allclose(
            x.grad.data, t.grad.numpy(), rtol=tol, atol=tol, err_msg=f"grad of input {i}"
        )


@pytest.mark.parametrize("case", [c for c in CASES if c.shapes[0][2] <= 5], ids=lambda c: c.name)
def test_conv_grads_match_numerical_grad(case):
    arrays = _inputs(case, np.float64, seed=1)
    xs = [Variable(a) for a in arrays]
    y = case.op(*xs)
    gy = _upstream(y.shape, np.float64)
    F.sum(y * gy).backward()
    for i in range(len(arrays)):

        def f(a, i=i):
            args = [Variable(b) for b in arrays]
            args[i] = Variable(a)
            return case.op(*args).data * gy

        num = numerical_grad(f, arrays[i], eps=1e-6)
        np.testing.assert_allclose(xs[i].grad.data, num, rtol=1e-6, atol=1e-7)


SECOND_ORDER = [c for c in CASES if c.name.startswith(("conv2d_s", "deconv2d", "pooling_k2"))]


@pytest.mark.parametrize("case", SECOND_ORDER, ids=lambda c: c.name)
def test_conv_second_derivative_matches_torch(case):
    """d/dinputs of <grad_x0, v>: conv2d and deconv2d differentiate through each other."""
    arrays = _inputs(case, np.float64, seed=2)
    xs = [Variable(a) for a in arrays]
    y = case.op(*xs)
    gy = _upstream(y.shape, np.float64)
    F.sum(y * y * gy).backward(create_graph=True)  # y*y: nonlinear, so second order is nonzero
    v = np.sin(np.arange(arrays[0].size)).reshape(arrays[0].shape)
    gx0 = xs[0].grad
    for x in xs:
        x.cleargrad()
    F.sum(gx0 * v).backward()

    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    yt = case.torch_op(*ts)
    (gt,) = torch.autograd.grad((yt * yt * torch.tensor(gy)).sum(), ts[0], create_graph=True)
    seconds = torch.autograd.grad((gt * torch.tensor(v)).sum(), ts, allow_unused=True)
    for i, (x, t) in enumerate(zip(xs, seconds)):
        expected = np.zeros(arrays[i].shape) if t is None else t.numpy()
        got = np.zeros(arrays[i].shape) if x.grad is None else x.grad.data
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-10, err_msg=f"input {i}")


@pytest.mark.parametrize(
    "kernel, stride, pad", [(3, 1, 0), (3, 2, 1), ((2, 3), (1, 2), (1, 0))], ids=str
)
def test_col2im_is_the_adjoint_of_im2col(kernel, stride, pad):
    """<im2col(x), c> == <x, col2im(c)> for every x, c: the identity both vjps rely on."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 6, 5))
    col = im2col_array(x, kernel, stride, pad, to_matrix=True)
    c = rng.standard_normal(col.shape)
    back = col2im_array(c, x.shape, kernel, stride, pad, to_matrix=True)
    assert np.isclose((col * c).sum(), (x * back).sum(), rtol=1e-12)


def test_im2col_and_col2im_differentiate_through_each_other():
    x = Variable(np.random.default_rng(4).standard_normal((1, 2, 4, 4)))
    col = F.im2col(x, 3, 1, 1)
    assert col.shape == (16, 18)
    F.sum(col * col).backward(create_graph=True)
    gx = x.grad
    x.cleargrad()
    F.sum(gx).backward()
    # d/dx of sum(2 * col2im(im2col(x))) is 2 * col2im(ones): each pixel's window count.
    ones = np.ones((16, 18))
    expected = 2 * col2im_array(ones, x.shape, 3, 1, 1)
    np.testing.assert_allclose(x.grad.data, expected)


def test_book_shapes_for_im2col_and_deconv_outsize():
    assert F.im2col(np.random.rand(10, 3, 7, 7), (5, 5), (1, 1), (0, 0)).shape == (90, 75)
    assert get_deconv_outsize(4, 3, 2, 1) == 7


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: F.conv2d(np.ones((1, 2, 4, 4)), np.ones((3, 5, 3, 3))), "input channels"),
        (lambda: F.conv2d(np.ones((2, 4, 4)), np.ones((3, 2, 3, 3))), "(N, C, H, W)"),
        (lambda: F.pooling(np.ones((1, 1, 2, 2)), 3), "larger than the padded input"),
        (lambda: F.conv2d(np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3)), stride=(1, 2, 3)), "pair"),
    ],
    ids=["channels", "ndim", "kernel_too_big", "bad_stride"],
)
def test_conv_bad_input_names_the_problem(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()
