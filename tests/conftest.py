"""Shared fixtures for the tests.

The root conftest.py has already called `bench.machine.configure()` in this process and in
every pytest-xdist worker, so JAX is pinned to the CPU before a test imports jax.numpy: on a
machine with a GPU, JAX would otherwise take it in each worker.
"""

import pytest


@pytest.fixture
def one_torch_thread():
    """Run torch on one thread: tiny ops on a busy 2-core box spin for milliseconds otherwise."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
