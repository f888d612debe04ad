"""The engine and Python's cyclic garbage collector: backward pauses it and restores it,
user reference cycles are still collected, and graphs die by reference counting."""

import gc
import weakref

import numpy as np
import pytest

import dezero.functions as F
from dezero import Function, Variable


@pytest.fixture
def gc_state():
    """Run a test from a known collector state and put the caller's back afterwards."""
    was_enabled = gc.isenabled()
    yield
    if was_enabled:
        gc.enable()
    else:
        gc.disable()


class Cycle:
    """A user object in a reference cycle: only the cyclic collector can free it."""

    def __init__(self):
        self.me = self


class Failing(Function):
    def forward(self, x):
        return x

    def backward(self, gy):
        raise RuntimeError("backward failed on purpose")


class MakesCycles(Function):
    """A book-style Function whose backward leaves garbage cycles behind."""

    def __init__(self, refs):
        self.refs = refs

    def forward(self, x):
        return 2 * x

    def backward(self, gy):
        self.refs.append(weakref.ref(Cycle()))
        return 2 * gy


@pytest.mark.parametrize("enabled", [True, False], ids=["gc-enabled", "gc-disabled"])
def test_backward_leaves_the_collector_as_it_found_it(gc_state, enabled):
    gc.enable() if enabled else gc.disable()
    y = F.sin(F.sin(Variable(np.array(0.5))))
    y.backward()
    assert gc.isenabled() is enabled
    y.backward(retain_grad=True, create_graph=True)
    assert gc.isenabled() is enabled


@pytest.mark.parametrize("enabled", [True, False], ids=["gc-enabled", "gc-disabled"])
def test_backward_restores_the_collector_when_a_user_backward_raises(gc_state, enabled):
    gc.enable() if enabled else gc.disable()
    y = F.sin(Failing()(Variable(np.array(0.5))))
    with pytest.raises(RuntimeError, match="on purpose"):
        y.backward()
    assert gc.isenabled() is enabled


def test_user_cycles_are_collected_automatically_after_backward(gc_state):
    gc.enable()
    refs = []
    y = Variable(np.array(0.5))
    for _ in range(100):
        y = MakesCycles(refs)(F.sin(y))
    y.backward()
    refs.append(weakref.ref(Cycle()))  # made after backward returned
    # No explicit gc.collect(): allocating past the youngest generation's threshold must
    # start a collection on its own, which finds every cycle above (all still young).
    threshold = gc.get_threshold()[0]
    garbage = [[] for _ in range(10 * threshold)]
    del garbage
    alive = sum(ref() is not None for ref in refs)
    assert alive == 0, f"{alive} of {len(refs)} user cycles survived automatic collection"


def test_inline_functions_get_their_output_weakref_on_first_creator_read():
    x = Variable(np.array(0.5))
    y = F.sin(x)
    assert weakref.getweakrefcount(y) == 0, "an inline Function should not allocate a weakref"
    f = y.creator
    assert f.outputs[0]() is y and f.output is y and f.inputs[0] is x


def test_a_built_in_unary_op_keeps_one_tracked_object_and_builds_its_function_once():
    x = Variable(np.array(0.5))
    gc.collect()
    before = len(gc.get_objects())
    y = x
    for _ in range(1000):
        y = F.sin(y)
    grown = len(gc.get_objects()) - before
    assert grown <= 1010, f"{grown} GC-tracked objects for 1000 sin ops: expected one per op"
    f = y.creator
    assert type(f) is F.Sin and y.creator is f, "creator must be made once and kept"
    assert f.outputs[0]() is y and f.generation == f.inputs[0].generation == 999
    assert f.inputs[0].creator.outputs[0]() is f.inputs[0]


def test_without_a_ufunc_a_built_in_unary_op_records_a_function_as_before(monkeypatch):
    # numpy < 2.3 has no `out=...`: Function.ufunc is None and F.sin falls back to Sin()(x).
    monkeypatch.setattr(F.Sin, "ufunc", None)
    x = Variable(np.array(0.5))
    y = F.sin(F.sin(x))
    assert type(y._creator) is F.Sin and type(y.data) is np.ndarray
    y.backward()
    assert x.grad.data == np.cos(np.sin(0.5)) * np.cos(0.5)


def test_no_grad_records_no_creator_for_a_built_in_unary_op():
    from dezero import no_grad

    with no_grad():
        y = F.exp(Variable(np.array(0.5)))
    assert y.creator is None and y.generation == 0


def test_a_held_function_knows_its_outputs_without_a_creator_read():
    f = F.Sin()
    y = f(Variable(np.array(0.5)))
    assert f.outputs[0]() is y
    del y
    assert f.outputs[0]() is None, "outputs must stay weak: no Function -> output cycle"


def test_million_deep_chain_with_the_collector_on_runs_and_frees_by_refcount(gc_state):
    gc.enable()
    depth = 10**6
    x = Variable(np.array(0.5))
    y = x
    for _ in range(depth):
        y = F.sin(y)
    y.backward()
    assert np.isfinite(x.grad.data) and x.grad.data != 0
    middle = weakref.ref(y.creator.inputs[0])
    del y
    assert middle() is None, "the chain was not freed by reference counting"
