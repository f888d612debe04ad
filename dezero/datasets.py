"""dezero.datasets: a Dataset is indexable (x, t) pairs with optional transforms.

Spiral and SinCurve are generated here. MNIST and CIFAR10 are read from files the user
puts in DATA_DIR (default ~/.dezero, the book's cache folder; override with the
DEZERO_DATA_DIR environment variable): nothing is ever downloaded.
"""

import gzip
import os
import pickle
import tarfile

import numpy as np

from dezero import transforms

DATA_DIR = os.environ.get("DEZERO_DATA_DIR", os.path.join(os.path.expanduser("~"), ".dezero"))


class Dataset:
    def __init__(self, train=True, transform=None, target_transform=None):
        self.train = train
        self.transform = transform if transform is not None else _identity
        self.target_transform = target_transform if target_transform is not None else _identity
        self.data = None
        self.label = None
        self.prepare()

    def __getitem__(self, index):
        if not np.isscalar(index):
            raise TypeError(f"a Dataset is indexed by one int, got {type(index).__name__}")
        x = self.transform(self.data[index])
        if self.label is None:
            return x, None
        return x, self.target_transform(self.label[index])

    def __len__(self):
        return len(self.data)

    def prepare(self):
        """Subclasses fill self.data (and self.label)."""


def _identity(x):
    return x


# =============================================================================
# Generated
# =============================================================================
def get_spiral(train=True):
    """Three interleaved spirals, 100 points each, shuffled; seeded (1984 train, 2020 test).

    Returns x (300, 2) float32 and t (300,) int class labels.
    """
    np.random.seed(1984 if train else 2020)
    num_data, num_class = 100, 3
    rate = np.arange(num_data) / num_data
    noise = np.random.randn(num_class, num_data) * 0.2  # one draw per point, class-major
    theta = np.arange(num_class)[:, None] * 4.0 + 4.0 * rate + noise
    radius = np.broadcast_to(rate, theta.shape)
    x = np.stack([radius * np.sin(theta), radius * np.cos(theta)], axis=-1)
    x = x.reshape(-1, 2).astype(np.float32)
    t = np.repeat(np.arange(num_class), num_data)
    order = np.random.permutation(num_data * num_class)
    return x[order], t[order]


class Spiral(Dataset):
    def prepare(self):
        self.data, self.label = get_spiral(self.train)


class SinCurve(Dataset):
    """Noisy sin (train) or clean-ish cos (test) over one period, 1000 points; each example
    is (y[i], y[i+1]) with shape (1,), for next-step prediction."""

    def prepare(self):
        num_data = 1000
        x = np.linspace(0, 2 * np.pi, num_data)
        noise = np.random.uniform(-0.05, 0.05, size=x.shape)
        y = (np.sin(x) if self.train else np.cos(x)) + noise
        self.data = y[:-1][:, None]
        self.label = y[1:][:, None]


# =============================================================================
# Read from local files
# =============================================================================
def _local_file(name, dataset):
    path = os.path.join(DATA_DIR, name)
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"{dataset} file {name} not found in {DATA_DIR}; dezero never downloads data: "
            f"put {name} there (or set DEZERO_DATA_DIR to the folder that has it)"
        )
    return path


class MNIST(Dataset):
    """Handwritten digits, (1, 28, 28) uint8 images; default transform flattens to 784
    float32 values in [0, 1]. Files: the four original *-ubyte.gz archives."""

    FILES = {
        True: ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
        False: ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
    }

    def __init__(self, train=True, transform=None, target_transform=None):
        if transform is None:
            transform = transforms.Compose(
                [transforms.Flatten(), transforms.ToFloat(), transforms.Normalize(0.0, 255.0)]
            )
        super().__init__(train, transform, target_transform)

    def prepare(self):
        image_name, label_name = self.FILES[self.train]
        images = _read_idx(_local_file(image_name, "MNIST"), header=16)
        labels = _read_idx(_local_file(label_name, "MNIST"), header=8)
        if images.size != len(labels) * 28 * 28:
            raise ValueError(
                f"MNIST files in {DATA_DIR} disagree: {images.size} image bytes "
                f"for {len(labels)} labels (expected {len(labels) * 784})"
            )
        self.data = images.reshape(-1, 1, 28, 28)
        self.label = labels.astype(np.int64)

    @staticmethod
    def labels():
        return {i: str(i) for i in range(10)}


def _read_idx(path, header):
    try:
        with gzip.open(path, "rb") as f:
            return np.frombuffer(f.read(), np.uint8, offset=header)
    except (OSError, EOFError, ValueError) as e:
        raise ValueError(f"cannot read {path}: {e}") from e


class CIFAR10(Dataset):
    """32x32 colour images, (3, 32, 32) uint8; default transform: float32 in [-1, 1].
    File: cifar-10-python.tar.gz (the python version of the archive)."""

    ARCHIVE = "cifar-10-python.tar.gz"

    def __init__(self, train=True, transform=None, target_transform=None):
        if transform is None:
            transform = transforms.Compose(
                [transforms.ToFloat(), transforms.Normalize(127.5, 127.5)]
            )
        super().__init__(train, transform, target_transform)

    def prepare(self):
        path = _local_file(self.ARCHIVE, "CIFAR10")
        names = [f"data_batch_{i}" for i in range(1, 6)] if self.train else ["test_batch"]
        data, labels = [], []
        try:
            with tarfile.open(path, "r:gz") as archive:
                for name in names:
                    # The archive is the user's own file; its batches are pickled dicts.
                    f = archive.extractfile(f"cifar-10-batches-py/{name}")
                    batch = pickle.load(f, encoding="bytes")
                    data.append(np.asarray(batch[b"data"], dtype=np.uint8))
                    labels.append(np.asarray(batch[b"labels"], dtype=np.int64))
        except (OSError, EOFError, KeyError, tarfile.TarError, pickle.UnpicklingError) as e:
            raise ValueError(f"cannot read CIFAR10 archive {path}: {e}") from e
        self.data = np.concatenate(data).reshape(-1, 3, 32, 32)
        self.label = np.concatenate(labels)

    @staticmethod
    def labels():
        names = "airplane automobile bird cat deer dog frog horse ship truck".split()
        return dict(enumerate(names))
