"""dezero.dataloaders: minibatches from a Dataset, as (x, t) arrays."""

import math

import numpy as np

from dezero import cuda


class DataLoader:
    """Iterate once over the dataset in batches (reshuffled each epoch when `shuffle`)."""

    def __init__(self, dataset, batch_size, shuffle=True, gpu=False):
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        self.dataset, self.batch_size, self.shuffle, self.gpu = dataset, batch_size, shuffle, gpu
        self.data_size = len(dataset)
        self.max_iter = math.ceil(self.data_size / batch_size)
        self.reset()

    def reset(self):
        self.iteration = 0
        if self.shuffle:
            self.index = np.random.permutation(self.data_size)
        else:
            self.index = np.arange(self.data_size)

    def __iter__(self):
        return self

    def _batch(self, batch_index):
        batch = [self.dataset[i] for i in batch_index]
        x = np.array([example[0] for example in batch])
        t = np.array([example[1] for example in batch])
        if self.gpu:
            x, t = cuda.as_cupy(x), cuda.as_cupy(t)
        return x, t

    def __next__(self):
        if self.iteration >= self.max_iter:
            self.reset()
            raise StopIteration
        i, size = self.iteration, self.batch_size
        self.iteration += 1
        return self._batch(self.index[i * size : (i + 1) * size])

    def next(self):
        return self.__next__()

    def to_cpu(self):
        self.gpu = False

    def to_gpu(self):
        cuda.as_cupy(np.zeros(0))  # fail now, with the clear error, if CuPy is missing
        self.gpu = True


class SeqDataLoader(DataLoader):
    """Time-series batches: row i of each batch follows its own stream, starting at
    offset i * (len // batch_size), and advances one step per batch (no shuffling)."""

    def __init__(self, dataset, batch_size, gpu=False):
        super().__init__(dataset, batch_size, shuffle=False, gpu=gpu)

    def __next__(self):
        if self.iteration >= self.max_iter:
            self.reset()
            raise StopIteration
        jump = self.data_size // self.batch_size
        batch_index = [(i * jump + self.iteration) % self.data_size for i in range(self.batch_size)]
        self.iteration += 1
        return self._batch(batch_index)
