"""dezero.collector: graphs recorded with the collector on leave full collections little to
walk, and user cyclic garbage is still collected: new cycles by the young collections,
old ones by an explicit gc.collect() and by a complete collection once it is due."""

import gc
import weakref

import numpy as np
import pytest

import dezero.functions as F
from dezero import Variable, collector


class Cycle:
    def __init__(self):
        self.me = self


@pytest.fixture
def collecting():
    was_enabled = gc.isenabled()
    gc.enable()
    yield
    if not was_enabled:
        gc.disable()


def record_lstm_like(steps, on_step=None):
    rng = np.random.default_rng(0)
    W = Variable(rng.standard_normal((4, 16)) * 0.1)
    h = c = Variable(np.zeros((1, 4)))
    for _ in range(steps):
        z = F.matmul(h, W) + 0.5
        i, f, g = F.sigmoid(z[:, :4]), F.sigmoid(z[:, 4:8]), F.tanh(z[:, 8:12])
        c = f * c + i * g
        h = F.tanh(c) * F.sigmoid(z[:, 12:])
        if on_step is not None:
            on_step()
    return h


def test_the_first_variable_starts_the_policy():
    # importing dezero installs nothing (tests/test_architecture.py checks it in a fresh
    # process); the first Variable made does, once
    Variable(np.zeros(1))
    assert collector._on_collection in gc.callbacks


def test_user_cycles_made_while_a_graph_records_are_collected_automatically(collecting):
    refs = []
    h = record_lstm_like(3000, lambda: refs.append(weakref.ref(Cycle())))
    # No gc.collect(): allocating past the youngest threshold starts a young collection.
    garbage = [[] for _ in range(10 * gc.get_threshold()[0])]
    del garbage
    alive = sum(ref() is not None for ref in refs)
    assert alive == 0, f"{alive} of {len(refs)} cycles survived while the graph recorded"
    assert h.data.shape == (1, 4)


def test_the_recorded_graph_leaves_the_full_collections_walk(collecting):
    gc.collect()
    frozen = gc.get_freeze_count()
    h = record_lstm_like(3000)  # ~45k ops, ~150k tracked objects
    garbage = [[] for _ in range(10 * gc.get_threshold()[0])]
    del garbage
    walked = len(gc.get_objects(generation=2))  # what a full collection would walk now
    assert gc.get_freeze_count() - frozen > 100_000
    assert walked < 20_000, f"a full collection would walk {walked} objects"
    del h


def test_an_old_cycle_is_collected_by_an_explicit_collect(collecting):
    old = Cycle()
    gc.collect()  # old survives: it is frozen with the rest
    assert gc.get_freeze_count() > 0
    ref = weakref.ref(old)
    del old
    gc.collect()
    assert ref() is None


def test_an_old_cycle_is_collected_once_a_complete_collection_is_due(collecting, monkeypatch):
    old = Cycle()
    gc.collect()
    ref = weakref.ref(old)
    del old
    monkeypatch.setattr(collector._state, "due", 0.0)  # the next full collection is complete
    # an automatic full collection is one started with threshold2 young ones counted
    monkeypatch.setattr(gc, "get_count", lambda: (0, 0, gc.get_threshold()[2] + 1))
    collector._on_collection("start", {"generation": 2})
    assert not collector._state.frozen
    gc.collect(2)
    assert ref() is None


def test_uninstall_gives_the_objects_back_and_install_restores_the_policy():
    gc.collect()
    collector.uninstall()
    try:
        assert collector._on_collection not in gc.callbacks
        assert gc.get_freeze_count() == 0
    finally:
        collector.install()
    assert collector._on_collection in gc.callbacks
