"""Shared fixtures for the tests.

Importing `bench` first pins JAX to the CPU (`bench.devices`) in this process and in every
pytest-xdist worker, before tests/op_table.py imports jax.numpy: on a machine with a GPU,
JAX would otherwise take it in each worker.
"""

import pytest

import bench  # noqa: F401  (pins threads and JAX's platform before any test imports jax)


@pytest.fixture
def one_torch_thread():
    """Run torch on one thread: tiny ops on a busy 2-core box spin for milliseconds otherwise."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
