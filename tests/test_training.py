"""End to end: the book's spiral MLP (step 48) against a torch twin with the same initial
weights and batches; an LSTM on SinCurve learns; datasets, data loaders, transforms,
local-only MNIST/CIFAR10, the book's small attributes, and the optional GPU path."""

import gzip
import io
import math
import pickle
import tarfile

import numpy as np
import pytest

import dezero
import dezero.functions as F
import dezero.layers as L
from dezero import DataLoader, Model, SeqDataLoader, cuda, datasets, optimizers, transforms
from dezero.models import MLP

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _spiral_batches(epochs, batch_size, data_size, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        index = rng.permutation(data_size)
        for i in range(math.ceil(data_size / batch_size)):
            yield index[i * batch_size : (i + 1) * batch_size]


@pytest.mark.parametrize("hidden", [10, 100])
def test_spiral_mlp_loss_curve_matches_torch(hidden):
    x, t = datasets.get_spiral(train=True)
    x = x.astype(np.float64)
    np.random.seed(0)
    model = MLP((hidden, 3))
    model(x[:1])  # create the lazy weights, then make them float64
    for p in model.params():
        p.data = p.data.astype(np.float64)
    optimizer = optimizers.SGD(lr=1.0).setup(model)

    twin = torch.nn.Sequential(
        torch.nn.Linear(2, hidden, dtype=torch.float64),
        torch.nn.Sigmoid(),
        torch.nn.Linear(hidden, 3, dtype=torch.float64),
    )
    with torch.no_grad():
        for layer, ours in zip([twin[0], twin[2]], model.layers):
            layer.weight.copy_(torch.tensor(ours.W.data.T))
            layer.bias.copy_(torch.tensor(ours.b.data))
    torch_sgd = torch.optim.SGD(twin.parameters(), lr=1.0)

    ours_curve, torch_curve = [], []
    for index in _spiral_batches(epochs=20, batch_size=30, data_size=len(x)):
        loss = F.softmax_cross_entropy(model(x[index]), t[index])
        model.cleargrads()
        loss.backward()
        optimizer.update()
        ours_curve.append(float(loss.data))

        logits = twin(torch.tensor(x[index]))
        loss_t = torch.nn.functional.cross_entropy(logits, torch.tensor(t[index]))
        torch_sgd.zero_grad()
        loss_t.backward()
        torch_sgd.step()
        torch_curve.append(loss_t.item())

    np.testing.assert_allclose(ours_curve, torch_curve, rtol=1e-9)
    assert np.mean(ours_curve[-10:]) < 0.8 * np.mean(ours_curve[:10]), "the MLP did not learn"


def test_lstm_on_sin_curve_learns():
    np.random.seed(0)
    train_set = datasets.SinCurve(train=True)
    loader = SeqDataLoader(train_set, batch_size=10)

    class Net(Model):
        def __init__(self):
            super().__init__()
            self.rnn = L.LSTM(20)
            self.fc = L.Linear(1)

        def forward(self, x):
            return self.fc(self.rnn(x))

    model = Net()
    optimizer = optimizers.Adam(alpha=0.01).setup(model)
    epoch_losses = []
    for _ in range(4):
        model.rnn.reset_state()
        loss, count, total = 0, 0, 0.0
        for x, t in loader:
            loss += F.mean_squared_error(model(x), t)
            count += 1
            if count % 20 == 0 or count == loader.max_iter:
                model.cleargrads()
                loss.backward()
                loss.unchain_backward()
                optimizer.update()
                total += float(loss.data)
                loss = 0
        epoch_losses.append(total / count)
    assert epoch_losses[-1] < 0.5 * epoch_losses[0], epoch_losses


# =============================================================================
# Datasets and loaders
# =============================================================================
def test_spiral_is_seeded_balanced_and_shuffled():
    x, t = datasets.get_spiral(train=True)
    x2, t2 = datasets.get_spiral(train=True)
    xt, _ = datasets.get_spiral(train=False)
    assert x.shape == (300, 2) and x.dtype == np.float32 and t.shape == (300,)
    assert np.array_equal(x, x2) and np.array_equal(t, t2)
    assert not np.array_equal(x, xt)
    assert np.bincount(t).tolist() == [100, 100, 100]
    assert not np.array_equal(t, np.sort(t))
    assert np.all(np.linalg.norm(x, axis=1) < 1.0)
    sample = datasets.Spiral()[0]
    assert sample[0].shape == (2,) and sample[1] in (0, 1, 2)


def test_dataloader_covers_the_dataset_once_per_epoch_and_reshuffles():
    np.random.seed(0)
    ds = datasets.Spiral()
    loader = DataLoader(ds, batch_size=64)
    first = [t for _, t in loader]
    second = [t for _, t in loader]
    assert [len(b) for b in first] == [64, 64, 64, 64, 44]
    assert np.array_equal(np.sort(np.concatenate(first)), np.sort(ds.label))
    assert not np.array_equal(np.concatenate(first), np.concatenate(second))
    ordered = [x for x, _ in DataLoader(ds, 100, shuffle=False)]
    assert np.array_equal(np.concatenate(ordered), ds.data)


def test_seq_dataloader_rows_follow_their_own_offsets():
    ds = datasets.SinCurve(train=False)
    loader = SeqDataLoader(ds, batch_size=3)
    jump = len(ds) // 3
    x0, t0 = next(loader)
    x1, _ = next(loader)
    assert x0.shape == (3, 1) and t0.shape == (3, 1)
    assert np.array_equal(x0[:, 0], ds.data[[0, jump, 2 * jump], 0])
    assert np.array_equal(x1[:, 0], ds.data[[1, jump + 1, 2 * jump + 1], 0])
    np.testing.assert_array_equal(t0[:, 0], x1[:, 0])  # the target is the next input


def test_dataset_transforms_apply_to_each_example():
    ds = datasets.Spiral(transform=lambda x: x * 2, target_transform=lambda t: t + 10)
    raw = datasets.Spiral()
    x, t = ds[5]
    assert np.array_equal(x, raw.data[5] * 2) and t == raw.label[5] + 10
    with pytest.raises(TypeError, match="one int"):
        ds[[1, 2]]


def test_transforms_compose_normalize_and_pil_round_trip():
    img = np.arange(2 * 4 * 6, dtype=np.uint8).reshape(2, 4, 6)
    f = transforms.Compose([transforms.ToFloat(), transforms.Normalize([1.0, 2.0], 2.0)])
    y = f(img)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y[1], (img[1] - 2.0) / 2.0)
    rgb = np.arange(3 * 8 * 6, dtype=np.uint8).reshape(3, 8, 6)
    pil = transforms.ToPIL()(rgb)
    assert np.array_equal(transforms.ToArray(np.uint8)(pil), rgb)
    cropped = transforms.Compose([transforms.Resize(6), transforms.CenterCrop(4)])(pil)
    assert cropped.size == (4, 4)
    assert transforms.Flatten()(rgb).shape == (144,)


# =============================================================================
# MNIST / CIFAR10: local files only
# =============================================================================
@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets, "DATA_DIR", str(tmp_path))
    return tmp_path


def _write_mnist(folder, train, n):
    images, labels = datasets.MNIST.FILES[train]
    pixels = (np.arange(n * 784) % 256).astype(np.uint8)
    with gzip.open(folder / images, "wb") as f:
        f.write(b"\0" * 16 + pixels.tobytes())
    with gzip.open(folder / labels, "wb") as f:
        f.write(b"\0" * 8 + (np.arange(n) % 10).astype(np.uint8).tobytes())


@pytest.mark.parametrize("cls", [datasets.MNIST, datasets.CIFAR10])
def test_missing_data_files_name_the_folder_and_never_download(cls, data_dir, monkeypatch):
    import urllib.request

    def no_network(*args, **kwargs):
        raise AssertionError("a dataset tried to download")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    with pytest.raises(FileNotFoundError, match=str(data_dir)):
        cls(train=True)


def test_mnist_reads_local_files_with_the_books_default_transform(data_dir):
    _write_mnist(data_dir, train=False, n=5)
    ds = datasets.MNIST(train=False)
    assert len(ds) == 5 and ds.data.shape == (5, 1, 28, 28)
    x, t = ds[3]
    assert x.shape == (784,) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    assert t == 3


def test_mnist_with_mismatched_files_says_so(data_dir):
    _write_mnist(data_dir, train=True, n=5)
    images, labels = datasets.MNIST.FILES[True]
    with gzip.open(data_dir / labels, "wb") as f:
        f.write(b"\0" * 8 + bytes(7))
    with pytest.raises(ValueError, match="disagree"):
        datasets.MNIST(train=True)


def test_cifar10_reads_the_local_python_archive(data_dir):
    buffer = io.BytesIO()
    batch = {b"data": np.full((4, 3072), 255, np.uint8), b"labels": [1, 2, 3, 4]}
    payload = pickle.dumps(batch)
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("cifar-10-batches-py/test_batch")
        info.size = len(payload)
        archive.addfile(info, io.BytesIO(payload))
    (data_dir / datasets.CIFAR10.ARCHIVE).write_bytes(buffer.getvalue())
    ds = datasets.CIFAR10(train=False)
    x, t = ds[2]
    assert x.shape == (3, 32, 32) and np.allclose(x, 1.0) and t == 3
    with pytest.raises(ValueError, match="cannot read CIFAR10 archive"):
        datasets.CIFAR10(train=True)  # the archive has no training batches


# =============================================================================
# The book's small attributes, core_simple and the optional GPU path
# =============================================================================
def test_book_attributes_exist():
    assert dezero.is_simple_core is False
    assert dezero.Layer is L.Layer and dezero.Model is Model
    assert F.im2col and F.conv2d_simple and F.softmax_cross_entropy_simple and F.batch_norm


def test_core_simple_variables_expose_ndarray_grads():
    from dezero.core_simple import Variable, setup_variable

    setup_variable()
    x = Variable(np.array(2.0))
    y = x**4 - 2 * x**2
    y.backward()
    assert type(x.grad) is np.ndarray and float(x.grad) == 24.0
    x.data -= 0.01 * x.grad  # the book's step-29 update
    assert float(x.data) == pytest.approx(1.76)


@pytest.mark.skipif(cuda.gpu_enable, reason="CuPy is installed: the GPU tests run instead")
def test_to_gpu_without_cupy_raises_a_clear_error():
    assert cuda.get_array_module(np.ones(2)) is np
    x = dezero.Variable(np.ones(2))
    with pytest.raises(RuntimeError, match="CuPy is not installed"):
        x.to_gpu()
    with pytest.raises(RuntimeError, match="CuPy is not installed"):
        MLP((3,)).to_gpu()
    with pytest.raises(RuntimeError, match="CuPy is not installed"):
        DataLoader(datasets.Spiral(), 10).to_gpu()
    x.to_cpu()
    assert type(x.data) is np.ndarray


@pytest.mark.skipif(not cuda.gpu_enable, reason="CuPy is not installed (no GPU path to test)")
def test_mlp_trains_on_the_gpu_like_on_the_cpu():
    import cupy

    x, t = datasets.get_spiral()
    np.random.seed(0)
    cpu = MLP((10, 3))
    cpu(x[:1])
    gpu = MLP((10, 3))
    gpu(x[:1])
    for p, q in zip(cpu.params(), gpu.params()):
        q.data = p.data.copy()
    gpu.to_gpu()
    for model, xs, ts in [(cpu, x, t), (gpu, cupy.asarray(x), cupy.asarray(t))]:
        loss = F.softmax_cross_entropy(model(xs), ts)
        model.cleargrads()
        loss.backward()
        optimizers.SGD(1.0).setup(model).update()
    for p, q in zip(cpu.params(), gpu.params()):
        np.testing.assert_allclose(p.data, cuda.as_numpy(q.data), rtol=1e-5)
