"""Shared fixtures for the tests."""

import pytest


@pytest.fixture
def one_torch_thread():
    """Run torch on one thread: tiny ops on a busy 2-core box spin for milliseconds otherwise."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
