"""Graph correctness: depth, fan-out, visiting order, memory release, DOT export."""

import gc
import math
import time
import weakref

import numpy as np
import pytest

import dezero.functions as F
import dezero.utils
from dezero import Function, Variable
from dezero.arithmetic import Add
from dezero.utils import get_dot_graph, plot_dot_graph


@pytest.fixture
def gc_disabled():
    """Objects must die by reference counting alone: no help from the cycle collector."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def sin_chain(x, depth):
    y = x
    for _ in range(depth):
        y = F.sin(y)
    return y


def test_million_deep_sin_chain_backward_and_free(gc_disabled):
    depth = 10**6
    x = Variable(np.array(0.5))
    y = sin_chain(x, depth)
    y.backward()

    # numpy reference: the forward values, then the gradient as a product of cosines.
    values = np.empty(depth)
    v = 0.5
    for i in range(depth):
        values[i] = v
        v = math.sin(v)
    # NOTE: not bit for bit: numpy's sin and the C library's (math.sin) may differ by an ULP
    # on some CPUs (vectorised code paths). sin's relative condition number x*cos(x)/sin(x)
    # stays below 1 on this sequence, so a million roundings stay far below 1e-10.
    np.testing.assert_allclose(y.data, v, rtol=1e-10)
    np.testing.assert_allclose(x.grad.data, np.prod(np.cos(values)), rtol=1e-10)

    middle = weakref.ref(y.creator.inputs[0])
    del y
    assert middle() is None, "the chain was not freed by reference counting"


def test_fan_out_sums_the_gradients():
    x = Variable(np.array(3.0))
    y = x * x * x + F.add(x, x) + F.sin(x)
    y.backward()
    np.testing.assert_allclose(x.grad.data, 3 * 9.0 + 2.0 + np.cos(3.0), rtol=1e-15)


class Tagged(Function):
    """Identity of any arity whose backward logs its tag, to observe the sweep."""

    def __init__(self, tag, log):
        self.tag = tag
        self.log = log

    def forward(self, *xs):
        return sum(xs)

    def backward(self, gy):
        self.log.append(self.tag)
        return (gy,) * len(self.inputs)


def test_each_backward_runs_once_in_reverse_topological_order():
    log = []
    x = Variable(np.array(1.0))
    a = Tagged("a", log)(x)
    b = Tagged("b", log)(a)
    c = Tagged("c", log)(Tagged("c0", log)(a))  # a used twice: by b and by c0
    d = Tagged("d", log)(b, c, a)  # a again, skipping a generation
    y = Tagged("y", log)(d)
    y.backward()
    assert sorted(log) == sorted(["a", "b", "c0", "c", "d", "y"])
    position = {tag: i for i, tag in enumerate(log)}
    for later, earlier in [
        ("y", "d"),
        ("d", "b"),
        ("d", "c"),
        ("c", "c0"),
        ("b", "a"),
        ("c0", "a"),
    ]:
        assert position[later] < position[earlier], f"{earlier} ran before {later}: {log}"
    assert x.grad.data == 3.0  # three paths from y to x


def test_diamond_of_depth_60_runs_each_vjp_once(monkeypatch):
    calls = []
    original = Add.vjp

    def counting_vjp(self, *args):
        calls.append(self)
        return original(self, *args)

    monkeypatch.setattr(Add, "vjp", counting_vjp)
    x = Variable(np.array(0.3))
    h = x
    for _ in range(60):
        h = F.sin(h) + F.cos(h)  # h used twice per layer: 2**60 paths from the top to x
    start = time.perf_counter()
    h.backward()
    elapsed = time.perf_counter() - start

    assert len(calls) == 60 and len(set(map(id, calls))) == 60
    assert elapsed < 1.0, f"backward over 60 layers took {elapsed:.2f} s"
    v, expected = 0.3, 1.0
    for _ in range(60):
        expected *= math.cos(v) - math.sin(v)
        v = math.sin(v) + math.cos(v)
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-12)


class Kept(Function):
    """A Python-level Function subclass, so a weak reference to the node is possible."""

    def forward(self, x):
        return 2 * x

    def backward(self, gy):
        return 2 * gy


@pytest.mark.parametrize("run_backward", [False, True], ids=["forward-only", "after-backward"])
def test_graph_freed_without_cycle_collector(gc_disabled, run_backward):
    x = Variable(np.array([1.0, 2.0]))
    a = F.exp(x)
    b = Kept()(a)
    y = F.sum(F.sin(b) * a)
    if run_backward:
        y.backward()
    intermediate, function = weakref.ref(b), weakref.ref(b.creator)
    del a, b, y
    assert intermediate() is None, "intermediate Variable outlived its graph"
    assert function() is None, "Function outlived its graph"


def test_intermediate_grads_released_without_retain_grad():
    x = Variable(np.array(0.5))
    a = F.exp(x)
    y = F.sin(a)
    y.backward()
    assert a.grad is None
    assert y.grad.data == 1.0
    assert x.grad.data == np.cos(np.exp(0.5)) * np.exp(0.5)


def test_retain_grad_keeps_every_grad_once():
    x = Variable(np.array(0.5))
    a = F.exp(x)
    b = F.square(a)
    y = F.sin(b)
    y.backward(retain_grad=True)
    assert y.grad.data == 1.0, "the output's own gradient was accumulated twice"
    assert b.grad.data == np.cos(b.data)
    assert a.grad.data == np.cos(b.data) * 2 * a.data
    assert x.grad.data == np.cos(b.data) * 2 * a.data * a.data


def test_chain_through_a_two_input_op_and_back_to_a_reused_leaf():
    # The sweep runs a chain of one-input ops without its work list while nothing else is
    # in flight; it must hand over at the two-input op, resume below it, and still add the
    # leaf's second path (x feeds both the chain and the product).
    x = Variable(np.array(0.7))
    a = F.sin(F.exp(x))
    b = F.cos(a)
    y = F.sin(F.tanh(b * x))
    y.backward(retain_grad=True)
    t = np.tanh(b.data * x.data)
    gt = np.cos(t) * (1 - t * t)
    ga = gt * x.data * -np.sin(a.data)
    expected = ga * np.cos(np.exp(x.data)) * np.exp(x.data) + gt * b.data
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-14)
    np.testing.assert_allclose(a.grad.data, ga, rtol=1e-14)


def test_a_subclass_with_its_own_forward_is_called_not_its_parents_ufunc():
    class SinTimesTwo(F.Sin):
        def forward(self, x):
            return 2 * np.sin(x)

    y = SinTimesTwo()(Variable(np.array(0.5)))
    assert type(y.data) is np.ndarray
    assert y.data == 2 * np.sin(0.5)


def test_get_dot_graph_names_nodes_and_edges():
    x = Variable(np.array([1.0, 2.0]), name="x")
    y = F.exp(F.sin(x))
    y.name = "y"
    dot = get_dot_graph(y, verbose=False)
    assert dot.startswith("digraph")
    assert 'label="x"' in dot and 'label="y"' in dot
    assert 'label="Sin"' in dot and 'label="Exp"' in dot
    assert f"{id(x)} -> {id(y.creator.inputs[0].creator)}" in dot


def test_get_dot_graph_verbose_shows_shape_and_dtype():
    x = Variable(np.ones((2, 3)), name="x")
    dot = get_dot_graph(F.sin(x), verbose=True)
    assert "x: (2, 3) float64" in dot


def test_dot_graph_and_unchain_backward_on_100k_deep_chain(gc_disabled):
    depth = 100_000
    x = Variable(np.array(0.5))
    early = F.sin(x)
    y = sin_chain(early, depth - 1)
    assert get_dot_graph(y).count('label="Sin"') == depth

    early = weakref.ref(early)
    last_input = weakref.ref(y.creator.inputs[0])
    y.unchain_backward()
    assert y.creator is not None, "unchain_backward keeps the variable's own creator"
    assert last_input() is not None and last_input().creator is None
    assert early() is None, "unchain_backward left the chain above alive"


def test_plot_dot_graph_names_dot_when_graphviz_is_missing(monkeypatch, tmp_path):
    monkeypatch.setattr(dezero.utils.shutil, "which", lambda name: None)
    with pytest.raises(Exception, match="dot"):
        plot_dot_graph(F.sin(Variable(np.array(1.0))), to_file=str(tmp_path / "g.png"))


def test_plot_dot_graph_writes_the_image(tmp_path):
    import shutil

    if shutil.which("dot") is None:
        pytest.skip("Graphviz 'dot' is not installed")
    to_file = tmp_path / "graph.png"
    plot_dot_graph(F.sin(Variable(np.array(1.0))), to_file=str(to_file))
    assert to_file.stat().st_size > 0
