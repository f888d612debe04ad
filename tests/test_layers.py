"""dezero.layers against PyTorch modules given the same weights: forward and every
parameter's gradient, float64 and float32; weight files round-trip and fail cleanly."""

import numpy as np
import pytest

import dezero.functions as F
import dezero.layers as L
from dezero import Parameter, Variable, test_mode
from dezero.models import MLP, Sequential

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.usefixtures("one_torch_thread")

DTYPES = pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
TOLERANCE = {np.float64: 1e-10, np.float32: 2e-4}


def _t(a, grad=True):
    return torch.tensor(np.asarray(a), requires_grad=grad)


def _close(got, expected, dtype, what):
    tol = TOLERANCE[dtype]
    got = got.data if isinstance(got, Variable) else got
    expected = expected.detach().numpy() if torch.is_tensor(expected) else expected
    np.testing.assert_allclose(got, expected, rtol=tol, atol=tol, err_msg=what)


def _upstream(shape, dtype):
    return np.cos(np.arange(int(np.prod(shape)))).reshape(shape).astype(dtype)


@DTYPES
def test_linear_matches_torch_and_infers_in_size(dtype):
    np.random.seed(0)
    layer = L.Linear(4, dtype=dtype)
    x = np.random.randn(5, 3).astype(dtype)
    y = layer(x)
    assert layer.W.shape == (3, 4) and y.dtype == dtype
    F.sum(y * _upstream(y.shape, dtype)).backward()

    W, b = _t(layer.W.data), _t(layer.b.data)
    yt = torch.nn.functional.linear(_t(x, False), W.T, b)
    (yt * _t(_upstream(y.shape, dtype), False)).sum().backward()
    _close(y, yt, dtype, "forward")
    _close(layer.W.grad, W.grad, dtype, "W")
    _close(layer.b.grad, b.grad, dtype, "b")


@DTYPES
@pytest.mark.parametrize("kind", ["conv", "deconv"])
def test_conv_layers_match_torch_modules(kind, dtype):
    np.random.seed(1)
    x = np.random.randn(2, 3, 6, 6).astype(dtype)
    if kind == "conv":
        layer = L.Conv2d(4, kernel_size=3, stride=2, pad=1, dtype=dtype)
        module = torch.nn.Conv2d(3, 4, 3, stride=2, padding=1, dtype=torch.float64)
    else:
        layer = L.Deconv2d(4, kernel_size=3, stride=2, pad=1, dtype=dtype)
        module = torch.nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, dtype=torch.float64)
    y = layer(x)
    F.sum(y * _upstream(y.shape, dtype)).backward()
    with torch.no_grad():
        module.weight.copy_(torch.tensor(layer.W.data.astype(np.float64)))
        module.bias.copy_(torch.tensor(layer.b.data.astype(np.float64)))
    yt = module(torch.tensor(x.astype(np.float64)))
    (yt * torch.tensor(_upstream(y.shape, np.float64))).sum().backward()
    _close(y, yt, dtype, "forward")
    _close(layer.W.grad, module.weight.grad, dtype, "W")
    _close(layer.b.grad, module.bias.grad, dtype, "b")


@DTYPES
def test_rnn_matches_torch_rnn_cell_over_three_steps(dtype):
    np.random.seed(2)
    layer = L.RNN(4, in_size=3)
    for p in layer.params():
        p.data = p.data.astype(dtype)
    xs = [np.random.randn(2, 3).astype(dtype) for _ in range(3)]
    hs = [layer(x) for x in xs]
    F.sum(hs[-1] * _upstream(hs[-1].shape, dtype)).backward()

    cell = torch.nn.RNNCell(3, 4, dtype=torch.float64)
    with torch.no_grad():
        cell.weight_ih.copy_(torch.tensor(layer.input_proj.W.data.T.astype(np.float64)))
        cell.bias_ih.copy_(torch.tensor(layer.input_proj.b.data.astype(np.float64)))
        cell.weight_hh.copy_(torch.tensor(layer.state_proj.W.data.T.astype(np.float64)))
        cell.bias_hh.zero_()
    h = torch.zeros(2, 4, dtype=torch.float64)
    for x in xs:
        h = cell(torch.tensor(x.astype(np.float64)), h)
    (h * torch.tensor(_upstream(h.shape, np.float64))).sum().backward()
    _close(hs[-1], h, dtype, "h")
    _close(layer.input_proj.W.grad, cell.weight_ih.grad.T, dtype, "input_proj.W")
    _close(layer.state_proj.W.grad, cell.weight_hh.grad.T, dtype, "state_proj.W")


# torch's LSTMCell stacks its gates in this order: input, forget, cell candidate (g), output
GATES = ("input", "forget", "candidate", "output")


@DTYPES
def test_lstm_matches_torch_lstm_cell_over_three_steps(dtype):
    np.random.seed(3)
    layer = L.LSTM(4, in_size=3)
    for p in layer.params():
        p.data = p.data.astype(dtype)
    xs = [np.random.randn(2, 3).astype(dtype) for _ in range(3)]
    x0 = Variable(xs[0])
    hs = [layer(x0)] + [layer(x) for x in xs[1:]]
    F.sum(hs[-1] * _upstream(hs[-1].shape, dtype)).backward()

    def stack(source, attr):
        arrays = [getattr(getattr(layer, f"{g}_{source}"), attr).data for g in GATES]
        arrays = [a.T if attr == "W" else a for a in arrays]
        return torch.tensor(np.concatenate(arrays).astype(np.float64))

    cell = torch.nn.LSTMCell(3, 4, dtype=torch.float64)
    with torch.no_grad():
        cell.weight_ih.copy_(stack("x", "W"))
        cell.bias_ih.copy_(stack("x", "b"))
        cell.weight_hh.copy_(stack("h", "W"))
        cell.bias_hh.zero_()
    x0t = torch.tensor(xs[0].astype(np.float64), requires_grad=True)
    h = c = torch.zeros(2, 4, dtype=torch.float64)
    for x in [x0t] + [torch.tensor(x.astype(np.float64)) for x in xs[1:]]:
        h, c = cell(x, (h, c))
    (h * torch.tensor(_upstream(h.shape, np.float64))).sum().backward()

    _close(hs[-1], h, dtype, "h")
    _close(x0.grad, x0t.grad, dtype, "x0")
    H = 4
    for k, g in enumerate(GATES):
        rows = slice(k * H, (k + 1) * H)
        x_part, h_part = getattr(layer, f"{g}_x"), getattr(layer, f"{g}_h")
        _close(x_part.W.grad, cell.weight_ih.grad[rows].T, dtype, f"{g}_x.W")
        _close(x_part.b.grad, cell.bias_ih.grad[rows], dtype, f"{g}_x.b")
        _close(h_part.W.grad, cell.weight_hh.grad[rows].T, dtype, f"{g}_h.W")


def test_embed_id_matches_torch_embedding_with_repeated_ids():
    np.random.seed(4)
    layer = L.EmbedID(5, 3)
    ids = np.array([[0, 2, 2], [4, 0, 2]])
    y = layer(ids)
    F.sum(y * _upstream(y.shape, np.float64)).backward()
    W = _t(layer.W.data)
    yt = torch.nn.functional.embedding(torch.tensor(ids), W)
    (yt * _t(_upstream(y.shape, np.float64), False)).sum().backward()
    _close(y, yt, np.float64, "forward")
    _close(layer.W.grad, W.grad, np.float64, "W")


@DTYPES
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 2, 2)], ids=["2d", "4d"])
def test_batch_norm_matches_torch_in_train_and_test_mode(shape, dtype):
    np.random.seed(5)
    layer = L.BatchNorm()
    x = (np.random.randn(*shape) * 2 + 1).astype(dtype)
    y = layer(x)  # creates gamma=1, beta=0; give them values, then run again
    layer.gamma.data = np.linspace(0.5, 1.5, 3).astype(dtype)
    layer.beta.data = np.linspace(-1, 1, 3).astype(dtype)
    layer.cleargrads()
    y = layer(x)
    F.sum(y * _upstream(y.shape, dtype)).backward()

    xt, gamma, beta = _t(x.astype(np.float64)), _t(layer.gamma.data), _t(layer.beta.data)
    mean, var = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    for _ in range(2):  # two training calls, like the layer's
        yt = torch.nn.functional.batch_norm(
            xt, mean, var, gamma.double(), beta.double(), training=True, momentum=0.1, eps=2e-5
        )
    (yt * torch.tensor(_upstream(y.shape, np.float64))).sum().backward()
    _close(y, yt, dtype, "train forward")
    _close(layer.gamma.grad, gamma.grad, dtype, "gamma")
    _close(layer.beta.grad, beta.grad, dtype, "beta")
    _close(layer.avg_mean.data, mean, dtype, "running mean")
    _close(layer.avg_var.data, var, dtype, "running var")

    xv = Variable(x)
    with test_mode():
        y = layer(xv)
    F.sum(y * _upstream(y.shape, dtype)).backward()
    xt = _t(x.astype(np.float64))
    yt = torch.nn.functional.batch_norm(
        xt, mean, var, gamma.detach().double(), beta.detach().double(), training=False, eps=2e-5
    )
    (yt * torch.tensor(_upstream(y.shape, np.float64))).sum().backward()
    _close(y, yt, dtype, "test forward")
    _close(xv.grad, xt.grad, dtype, "test-mode x grad")


def test_batch_norm_input_gradient_matches_torch_in_training():
    np.random.seed(6)
    x = Variable(np.random.randn(5, 3))
    gamma, beta = Variable(np.array([0.5, 1.0, 2.0])), Variable(np.zeros(3))
    y = F.batch_norm(x, gamma, beta, np.zeros(3), np.ones(3))
    F.sum(y * y * _upstream(y.shape, np.float64)).backward()
    xt = _t(x.data)
    yt = torch.nn.functional.batch_norm(
        xt, None, None, torch.tensor(gamma.data), None, training=True, eps=2e-5
    )
    (yt * yt * torch.tensor(_upstream(y.shape, np.float64))).sum().backward()
    _close(x.grad, xt.grad, np.float64, "x")


# =============================================================================
# Parameters and weight files
# =============================================================================
def _model():
    np.random.seed(7)
    model = Sequential(L.Linear(4, in_size=2), L.Linear(3, in_size=4))
    return model


def test_params_are_yielded_in_assignment_order_and_cleared():
    model = MLP((4, 3))
    model(np.ones((1, 2)))
    names = list(model.named_params())
    assert names == ["l0/W", "l0/b", "l1/W", "l1/b"]
    assert len(list(model.params())) == 4
    F.sum(model(np.ones((1, 2)))).backward()
    assert all(p.grad is not None for p in model.params())
    model.cleargrads()
    assert all(p.grad is None for p in model.params())


def test_params_follow_every_change_to_any_layer_after_being_listed():
    """params() caches its walk: adding, replacing and deleting a Parameter or a sublayer,
    at any depth, must show in the next call."""
    model = Sequential(L.Linear(4, in_size=2), L.Linear(3, in_size=4))
    assert len(list(model.params())) == 4
    inner = model.l1
    inner.scale = Parameter(np.ones(3))  # a new Parameter on a sublayer
    assert any(p is inner.scale for p in model.params())
    old_W = inner.W
    inner.W = Parameter(np.zeros((4, 3)))  # replaced by another Parameter
    params = list(model.params())
    assert any(p is inner.W for p in params) and all(p is not old_W for p in params)
    del inner.scale
    assert len(list(model.params())) == 4
    inner.b = None  # replaced by something that is not a Parameter
    assert len(list(model.params())) == 3
    model.l2 = L.Linear(2, in_size=3)  # a new sublayer
    assert len(list(model.params())) == 5
    model.l0 = np.ones(1)  # a sublayer replaced by a plain value
    assert len(list(model.params())) == 3


def test_save_and_load_weights_round_trip(tmp_path):
    path = str(tmp_path / "w.npz")
    model = _model()
    model.save_weights(path)
    other = Sequential(L.Linear(4), L.Linear(3))  # lazy: no W until loaded or called
    other.load_weights(path)
    for (k, p), (k2, q) in zip(model.named_params().items(), other.named_params().items()):
        assert k == k2 and np.array_equal(p.data, q.data), k
    x = np.random.randn(2, 2)
    np.testing.assert_array_equal(model(x).data, other(x).data)


def _snapshot(model):
    return {k: None if p.data is None else p.data.copy() for k, p in model.named_params().items()}


@pytest.mark.parametrize(
    "make_file, message",
    [
        (lambda p: p.write_bytes(b"not a zip at all"), "cannot read weights file"),
        (lambda p: p.write_bytes(b"PK\x03\x04" + b"\0" * 40), "cannot read weights file"),
        (lambda p: np.savez(p, **{"l0/W": np.zeros((2, 4)), "l9/W": np.zeros(1)}), "unexpected"),
        (lambda p: np.savez(p, **{"l0/W": np.zeros((2, 4))}), "missing"),
        (lambda p: _model_with_shape(p), "has shape"),
    ],
    ids=["garbage", "truncated_zip", "extra_key", "missing_key", "wrong_shape"],
)
def test_bad_weights_file_raises_and_leaves_model_unchanged(tmp_path, make_file, message):
    path = tmp_path / "w.npz"
    make_file(path)
    model = _model()
    before = _snapshot(model)
    with pytest.raises(ValueError, match=message):
        model.load_weights(str(path))
    after = _snapshot(model)
    assert all(np.array_equal(before[k], after[k]) for k in before)


def _model_with_shape(path):
    arrays = {k: p.data for k, p in _model().named_params().items()}
    arrays["l1/W"] = np.zeros((4, 5))
    np.savez(path, **arrays)


def test_missing_weights_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.npz"):
        _model().load_weights(str(tmp_path / "nowhere.npz"))


def test_save_weights_to_unwritable_path_leaves_no_file(tmp_path):
    with pytest.raises(OSError):
        _model().save_weights(str(tmp_path / "no_such_dir" / "w.npz"))
    assert not (tmp_path / "no_such_dir").exists()


def test_vgg16_runs_on_a_small_image_and_never_downloads(tmp_path, monkeypatch):
    from dezero.models import VGG16

    with pytest.raises(FileNotFoundError, match="does not download"):
        VGG16(weights_path=str(tmp_path / "vgg16.npz"))
    np.random.seed(8)
    model = VGG16()
    x = np.random.rand(1, 3, 32, 32).astype(np.float32)
    with test_mode():
        y = model(x)
    assert y.shape == (1, 1000) and np.isfinite(y.data).all()
    assert len(list(model.params())) == 2 * 16
