"""What each step of "Deep Learning from Scratch 3" introduces, checked without the book.

The book's scripts are not in this repository (`python -m bench book PATH` runs a reader's
checkout). This suite alone covers every step's topic; the map below names, per step, the
tests that hold it, and `test_the_step_map_covers_1_to_60_and_names_real_tests` keeps it true.
Inputs and expected values are this project's own: closed forms, hand-written numpy
backprop, central differences, torch.

FILE::NAME is tests/test_FILE.py::test_NAME (* matches any ending); op_table::NAME is a record
of bench/workloads/op_table.py, which test_functions checks against numpy, central differences and
torch, and test_higher_order to second order.

1-2   a Variable holds an array; a Function calls forward
      variable::variable_attributes, book_topics::function_base_class_names_the_missing_forward
3-6   composed functions, backward by hand
      seed_and_higher_order::seed_example_gives_the_exact_gradient
4, 10 numerical differentiation, gradient checks
      utils::numerical_diff_*, utils::numerical_grad_*, utils::gradient_check_*,
      functions::grad_matches_numerical_grad
7-8   backward through creators, as a loop
      seed_and_higher_order::book_style_functions_run_on_the_engine,
      trace::a_deep_trace_needs_no_recursion, graph::million_deep_sin_chain_backward_and_free
9     type check, as_array, a seed of ones
      variable::variable_rejects_non_ndarray_data_naming_its_type, variable::as_array_*,
      book_topics::numpy_scalar_results_become_0d_arrays_and_backward_seeds_ones
11-12 several inputs and outputs
      book_topics::a_function_with_two_outputs_returns_both_and_differentiates_through_both,
      record_multi::a_multi_input_op_records_the_books_graph
13-14 add, a reused input, cleargrad
      graph::fan_out_sums_the_gradients, variable::cleargrad_drops_the_gradient,
      variable::second_backward_accumulates_into_leaf_grad
15-16 generations, topological order
      graph::each_backward_runs_once_in_reverse_topological_order,
      graph::diamond_of_depth_60_runs_each_vjp_once
17    weak references, graphs freed
      graph::graph_freed_without_cycle_collector,
      gc::a_held_function_knows_its_outputs_without_a_creator_read,
      record_multi::a_held_multi_input_function_*
18    retain_grad, no_grad, using_config
      graph::intermediate_grads_released_without_retain_grad,
      graph::retain_grad_keeps_every_grad_once, variable::no_grad_*, variable::using_config_*
19    name, shape, ndim, size, dtype, len, repr
      variable::variable_attributes, variable::repr_indents_rows_under_variable
20-22 operators, with scalars and arrays on either side
      operators::binary_operator_value_type_dtype_and_grads, operators::unary_minus_*,
      operators::ndarray_on_the_left_*
23    the package, setup_variable
      package_layers::setup_variable_installs_*,
      architecture::no_import_cycle_counting_imports_inside_functions,
      training::book_attributes_exist
24    sphere, Matyas, Goldstein-Price
      book_topics::sphere_and_matyas_gradients_match_closed_forms, book_topics::goldstein_price_*
25-26 the DOT graph
      graph::get_dot_graph_*, graph::plot_dot_graph_*
27    sin as a Taylor series
      book_topics::taylor_sin_gradient_is_the_truncated_series_of_cos
28    gradient descent on Rosenbrock
      book_topics::rosenbrock_descent_follows_the_closed_form_gradient
29-33 Newton's method, create_graph
      seed_and_higher_order::newton_method_*, training::core_simple_variables_expose_ndarray_grads,
      variable::backward_with*_create_graph_*
34-35 higher derivatives of sin and tanh
      seed_and_higher_order::derivatives_of_sin_cycle_*,
      seed_and_higher_order::fourth_derivative_matches_closed_form,
      higher_order::second_derivative_matches_torch_double_backward
36    double backprop
      book_topics::double_backprop_differentiates_an_expression_of_a_gradient,
      compaction::double_backprop_loop_frees_its_graphs
37-40 tensors: reshape, transpose, sum, sum_to, broadcast_to
      op_table::reshape, op_table::transpose, op_table::sum, op_table::sum_to,
      op_table::broadcast_to, variable::reshape_*, variable::transpose_*, variable::sum_method_*,
      trace::broadcasting_gradients_are_summed_to_input_shapes
41    matmul
      op_table::matmul, record_multi::matmul_and_convolutions_*
42    linear regression
      book_topics::linear_regression_converges_to_least_squares
43    a two-layer net from raw parameters
      book_topics::two_layer_net_gradients_match_hand_written_backprop, op_table::linear,
      op_table::sigmoid, op_table::mean_squared_error
44-45 Parameter, Layer, Model, MLP
      variable::parameter_is_a_variable_that_learns, layers::linear_matches_torch_*,
      layers::params_*, book_topics::a_model_subclass_collects_nested_parameters
46    optimizers
      optimizers::optimizer_20_steps_match_torch, optimizers::adam_*, optimizers::freeze_param_*
47    softmax, get_item, cross-entropy
      op_table::softmax, op_table::get_item, op_table::softmax_cross_entropy,
      variable::indexing_forward_and_scatter_back
48    training on the spiral
      training::spiral_mlp_loss_curve_matches_torch,
      training::spiral_is_seeded_balanced_and_shuffled
49    Dataset, transforms
      book_topics::a_dataset_subclass_prepares_its_examples_and_loads_in_batches,
      training::dataset_transforms_*, training::transforms_compose_*
50    DataLoader, accuracy
      training::dataloader_covers_the_dataset_once_per_epoch_and_reshuffles, op_table::accuracy
51    MNIST, read from local files
      training::mnist_reads_local_files_*, training::missing_data_files_*
52    the cuda module
      training::to_gpu_without_cupy_raises_a_clear_error, training::mlp_trains_on_the_gpu_*
53    save_weights, load_weights
      layers::save_and_load_weights_round_trip, layers::bad_weights_file_*
54    dropout, test mode
      functions::dropout_in_train_mode_zeroes_and_rescales, variable::test_mode_*
55-57 conv output size, im2col, conv2d, pooling
      book_topics::conv_outsize_*, conv::conv_forward_and_grads_match_torch,
      conv::col2im_is_the_adjoint_of_im2col, conv::book_shapes_*
58    VGG16
      layers::vgg16_runs_on_a_small_image_and_never_downloads, book_topics::vgg16_preprocess_*
59    RNN, truncated backprop through time
      layers::rnn_matches_torch_rnn_cell_*, book_topics::truncated_bptt_gradient_stops_at_the_cut
60    LSTM, SeqDataLoader
      layers::lstm_matches_torch_lstm_cell_*, training::lstm_on_sin_curve_learns,
      training::seq_dataloader_*
"""

import fnmatch
import math
import pathlib
import re

import numpy as np
import pytest

import dezero.functions as F
import dezero.layers as L
from bench.workloads.op_table import OPS
from dezero import DataLoader, Function, Model, Parameter, Variable
from dezero.datasets import Dataset
from dezero.functions_conv import get_conv_outsize


# =============================================================================
# The map in this module's docstring
# =============================================================================
def test_the_step_map_covers_1_to_60_and_names_real_tests():
    steps = set()
    for first, last in re.findall(r"^(\d+)(?:-(\d+))?", __doc__, re.MULTILINE):
        steps.update(range(int(first), int(last or first) + 1))
    steps.update(int(n) for n in re.findall(r"^\d+, (\d+)", __doc__, re.MULTILINE))
    assert steps >= set(range(1, 61)), f"steps without tests: {sorted(set(range(1, 61)) - steps)}"

    records = {record.name.split("-")[0] for record in OPS}
    folder = pathlib.Path(__file__).parent
    table = "\n".join(re.findall(r"^ {6}(.*)$", __doc__, re.MULTILINE))
    references = re.findall(r"(\w+)::([\w*]+)", table)
    assert len(references) > 60
    for file, pattern in references:
        if file == "op_table":
            assert pattern in records, f"op_table has no record {pattern!r}"
            continue
        source = (folder / f"test_{file}.py").read_text()
        names = re.findall(r"^def (test_\w+)", source, re.MULTILINE)
        assert fnmatch.filter(names, f"test_{pattern}"), f"no test matches {file}::{pattern}"


# =============================================================================
# Steps 1-12: Function, as_array, several outputs
# =============================================================================
def test_function_base_class_names_the_missing_forward():
    class Unfinished(Function):
        pass

    with pytest.raises(NotImplementedError, match="Unfinished"):
        Unfinished()(Variable(np.array(1.0)))


class Cube(Function):
    """x³ with its own forward, so the result of `x ** 3` on a 0-d array is a numpy scalar."""

    def forward(self, x):
        return x**3

    def backward(self, gy):
        (x,) = self.inputs
        return 3 * x**2 * gy


def test_numpy_scalar_results_become_0d_arrays_and_backward_seeds_ones():
    y = Cube()(Variable(np.array(2.0)))
    assert type(y.data) is np.ndarray and y.data.ndim == 0 and y.data == 8.0
    x = Variable(np.array([1.0, -2.0, 0.5]))
    Cube()(x).backward()  # no gradient given: the seed is ones of y's shape
    np.testing.assert_array_equal(x.grad.data, [3.0, 12.0, 0.75])


class SumAndDifference(Function):
    """(a + b, a - b): two outputs, each gradient flows back to both inputs."""

    def forward(self, a, b):
        return a + b, a - b

    def backward(self, g_sum, g_diff):
        return g_sum + g_diff, g_sum - g_diff


def test_a_function_with_two_outputs_returns_both_and_differentiates_through_both():
    a, b = Variable(np.array(5.0)), Variable(np.array(2.0))
    s, d = SumAndDifference()(a, b)
    assert (s.data, d.data) == (7.0, 3.0)
    assert s.creator is d.creator
    y = s * d  # a² - b²
    y.backward()
    assert (a.grad.data, b.grad.data) == (10.0, -4.0)


# =============================================================================
# Step 24: test functions for optimisation
# =============================================================================
def sphere(x, y):
    return x**2 + y**2


def matyas(x, y):
    return 0.26 * (x**2 + y**2) - 0.48 * x * y


def goldstein_price(x, y):
    first = 1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2)
    second = 30 + (2 * x - 3 * y) ** 2 * (18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2)
    return first * second


def _grad(f, x, y):
    vx, vy = Variable(np.array(x)), Variable(np.array(y))
    f(vx, vy).backward()
    return vx.grad.data, vy.grad.data


def test_sphere_and_matyas_gradients_match_closed_forms():
    x, y = 1.5, -2.0
    assert _grad(sphere, x, y) == (2 * x, 2 * y)
    gx, gy = _grad(matyas, x, y)
    assert gx == pytest.approx(0.52 * x - 0.48 * y, rel=1e-15)
    assert gy == pytest.approx(0.52 * y - 0.48 * x, rel=1e-15)


def test_goldstein_price_gradient_is_zero_at_its_minimum_and_matches_central_differences():
    assert goldstein_price(0.0, -1.0) == 3.0  # the known global minimum
    assert _grad(goldstein_price, 0.0, -1.0) == (0.0, 0.0)
    x, y, h = 0.4, -0.7, 1e-5
    # The function also runs on Python floats: a central difference shares no code with backward.
    dx = (goldstein_price(x + h, y) - goldstein_price(x - h, y)) / (2 * h)
    dy = (goldstein_price(x, y + h) - goldstein_price(x, y - h)) / (2 * h)
    gx, gy = _grad(goldstein_price, x, y)
    # NOTE: central differences at h=1e-5 carry ~1e-10 relative truncation and rounding error.
    assert gx == pytest.approx(dx, rel=1e-8) and gy == pytest.approx(dy, rel=1e-8)


# =============================================================================
# Step 27: a Taylor series built from operators
# =============================================================================
def taylor_sin(x, threshold):
    """sin x as its Maclaurin series, summed until a term falls below threshold."""
    y, n = 0, 0
    while True:
        term = (-1) ** n * x ** (2 * n + 1) / math.factorial(2 * n + 1)
        y = y + term
        if abs(term.data) < threshold:
            return y, n + 1
        n += 1


def test_taylor_sin_gradient_is_the_truncated_series_of_cos():
    x = Variable(np.array(1.1))
    y, terms = taylor_sin(x, threshold=1e-3)
    assert terms == 4  # 1.1⁷/7! ≈ 3.8e-5 is the first term below 1e-3
    y.backward()
    truncated_cos = sum((-1) ** n * 1.1 ** (2 * n) / math.factorial(2 * n) for n in range(terms))
    assert x.grad.data == pytest.approx(truncated_cos, rel=1e-14)
    assert abs(x.grad.data - np.cos(1.1)) > 1e-6  # the truncation is visible

    x = Variable(np.array(1.1))
    y, _ = taylor_sin(x, threshold=1e-17)
    y.backward()
    assert y.data == pytest.approx(np.sin(1.1), rel=1e-15)
    assert x.grad.data == pytest.approx(np.cos(1.1), rel=1e-15)


# =============================================================================
# Step 28: gradient descent on Rosenbrock's function
# =============================================================================
def test_rosenbrock_descent_follows_the_closed_form_gradient():
    x0, x1 = Variable(np.array(-0.5)), Variable(np.array(1.5))
    a, b = -0.5, 1.5  # the same descent with the gradient written by hand
    lr, losses = 0.0015, []
    for _ in range(300):
        y = 100 * (x1 - x0**2) ** 2 + (x0 - 1) ** 2
        x0.cleargrad()
        x1.cleargrad()
        y.backward()
        losses.append(float(y.data))
        x0.data = x0.data - lr * x0.grad.data
        x1.data = x1.data - lr * x1.grad.data
        ga, gb = -400 * a * (b - a**2) - 2 * (1 - a), 200 * (b - a**2)
        a, b = a - lr * ga, b - lr * gb
    np.testing.assert_allclose([x0.data, x1.data], [a, b], rtol=1e-10)
    assert losses[-1] < 0.1 * losses[0]


# =============================================================================
# Step 36: double backprop
# =============================================================================
def test_double_backprop_differentiates_an_expression_of_a_gradient():
    x = Variable(np.array(2.0))
    y = x**3
    y.backward(create_graph=True)
    gx = x.grad  # 3x², itself a graph
    x.cleargrad()
    z = gx**2 + y  # 9x⁴ + x³
    z.backward()
    assert x.grad.data == 36 * 2.0**3 + 3 * 2.0**2


# =============================================================================
# Steps 42-45: regression, a two-layer net, models
# =============================================================================
def test_linear_regression_converges_to_least_squares():
    rng = np.random.default_rng(11)
    x = rng.uniform(-1, 1, (40, 1))
    t = 1.7 * x + 0.4 + 0.05 * rng.standard_normal((40, 1))
    W, b = Variable(np.zeros((1, 1))), Variable(np.zeros(1))
    for _ in range(100):
        loss = F.mean_squared_error(F.matmul(x, W) + b, t)
        W.cleargrad()
        b.cleargrad()
        loss.backward()
        W.data = W.data - 0.5 * W.grad.data
        b.data = b.data - 0.5 * b.grad.data
    (slope, intercept), *_ = np.linalg.lstsq(np.hstack([x, np.ones_like(x)]), t[:, 0])
    np.testing.assert_allclose([W.data[0, 0], b.data[0]], [slope, intercept], rtol=1e-10)


def test_two_layer_net_gradients_match_hand_written_backprop():
    rng = np.random.default_rng(5)
    x, t = rng.standard_normal((6, 2)), rng.standard_normal((6, 1))
    arrays = [rng.standard_normal(s) for s in [(2, 4), (4,), (4, 1), (1,)]]
    W1, b1, W2, b2 = params = [Variable(a.copy()) for a in arrays]
    loss = F.mean_squared_error(F.linear(F.sigmoid(F.linear(x, W1, b1)), W2, b2), t)
    loss.backward()

    w1, c1, w2, c2 = arrays
    h = 1 / (1 + np.exp(-(x @ w1 + c1)))
    y = h @ w2 + c2
    assert float(loss.data) == pytest.approx(np.mean((y - t) ** 2), rel=1e-14)
    gy = 2 * (y - t) / len(t)
    ga = (gy @ w2.T) * h * (1 - h)
    expected = [x.T @ ga, ga.sum(axis=0), h.T @ gy, gy.sum(axis=0)]
    for name, p, g in zip(["W1", "b1", "W2", "b2"], params, expected):
        np.testing.assert_allclose(p.grad.data, g, rtol=1e-12, err_msg=name)


class Scaled(L.Layer):
    def __init__(self):
        super().__init__()
        self.scale = Parameter(np.array(2.0))
        self.fc = L.Linear(2, in_size=3)

    def forward(self, x):
        return self.fc(x) * self.scale


class TwoStage(Model):
    def __init__(self):
        super().__init__()
        self.stage = Scaled()
        self.head = L.Linear(1, in_size=2)

    def forward(self, x):
        return self.head(self.stage(x))


def test_a_model_subclass_collects_nested_parameters():
    np.random.seed(3)
    model = TwoStage()
    inner = model.stage
    expected = {id(p) for p in [inner.scale, inner.fc.W, inner.fc.b, model.head.W, model.head.b]}
    assert {id(p) for p in model.params()} == expected
    x = np.ones((4, 3))
    y = model(x)  # __call__ runs forward
    h = (x @ inner.fc.W.data + inner.fc.b.data) * 2.0
    np.testing.assert_allclose(y.data, h @ model.head.W.data + model.head.b.data, rtol=1e-12)
    F.sum(y).backward()
    assert all(p.grad is not None for p in model.params())
    model.cleargrads()
    assert all(p.grad is None for p in model.params())


# =============================================================================
# Steps 49-50: a user's Dataset
# =============================================================================
class Squares(Dataset):
    def prepare(self):
        self.data = np.arange(7.0) if self.train else np.arange(3.0)
        self.label = self.data**2


class Unlabelled(Dataset):
    def prepare(self):
        self.data = np.array([4.0, 5.0])


def test_a_dataset_subclass_prepares_its_examples_and_loads_in_batches():
    train = Squares(transform=lambda x: x + 0.5)
    assert len(train) == 7 and len(Squares(train=False)) == 3
    assert train[3] == (3.5, 9.0)
    assert Unlabelled()[1] == (5.0, None)
    batches = list(DataLoader(Squares(), batch_size=3, shuffle=False))
    assert [len(t) for _, t in batches] == [3, 3, 1]
    np.testing.assert_array_equal(batches[1][1], [9.0, 16.0, 25.0])


# =============================================================================
# Steps 55-58: convolution sizes, VGG16's preprocessing
# =============================================================================
@pytest.mark.parametrize(
    ("size", "kernel", "stride", "pad", "expected"),
    [(7, 3, 2, 1, 4), (5, 5, 1, 0, 1), (28, 5, 1, 0, 24), (6, 2, 2, 0, 3), (224, 3, 1, 1, 224)],
)
def test_conv_outsize_is_the_number_of_window_positions(size, kernel, stride, pad, expected):
    assert get_conv_outsize(size, kernel, stride, pad) == expected


def test_conv_outsize_agrees_with_conv2d_output_shape():
    y = F.conv2d(np.ones((1, 1, 7, 9)), np.ones((2, 1, 3, 3)), stride=2, pad=1)
    assert y.shape == (1, 2, get_conv_outsize(7, 3, 2, 1), get_conv_outsize(9, 3, 2, 1))
    assert y.shape == (1, 2, 4, 5)


def test_vgg16_preprocess_gives_bgr_channels_minus_the_imagenet_means():
    Image = pytest.importorskip("PIL.Image")
    from dezero.models import VGG16

    image = Image.new("RGB", (5, 3), color=(10, 20, 30))
    x = VGG16.preprocess(image, size=None)
    assert x.shape == (3, 3, 5) and x.dtype == np.float32
    means = np.array([103.939, 116.779, 123.68], dtype=np.float32)  # blue, green, red
    np.testing.assert_array_equal(x[:, 0, 0], np.array([30, 20, 10], np.float32) - means)
    assert VGG16.preprocess(image).shape == (3, 224, 224)


# =============================================================================
# Step 59: truncated backpropagation through time
# =============================================================================
def test_truncated_bptt_gradient_stops_at_the_cut():
    np.random.seed(4)
    rnn = L.RNN(3, in_size=2)
    for p in rnn.params():
        p.data = p.data.astype(np.float64)
    xs = np.random.default_rng(4).standard_normal((3, 1, 2))
    rnn(xs[0])
    first = F.sum(rnn(xs[1]))
    first.backward()
    first.unchain_backward()  # the cut: the next window starts from a constant state

    h_prev = rnn.h.data.copy()
    rnn.cleargrads()
    F.sum(rnn(xs[2])).backward()

    Wx, bx, Wh = rnn.input_proj.W.data, rnn.input_proj.b.data, rnn.state_proj.W.data
    g = 1 - np.tanh(xs[2] @ Wx + bx + h_prev @ Wh) ** 2  # d sum(tanh(a)) / da
    np.testing.assert_allclose(rnn.input_proj.W.grad.data, xs[2].T @ g, rtol=1e-12)
    np.testing.assert_allclose(rnn.input_proj.b.grad.data, g.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(rnn.state_proj.W.grad.data, h_prev.T @ g, rtol=1e-12)
