"""Chain compaction (`core.Stretch`): a node recorded by `record_unary` that only the
next node holds keeps its array and op class in its chain's stretch instead of a
Variable. Each test builds a graph twice, once dropping the intermediates (compacted)
and once holding every one of them in a list (nothing compacted), and requires the
same values, gradients and graph read back through `creator`, bitwise."""

import copy
import gc
import weakref

import numpy as np
import pytest

import dezero.functions as F
from dezero import Variable, compaction
from dezero.core import Stretch

# Every built-in recorded by record_unary, in an order that keeps each input in range
# (log reads exp's positive output).
OPS = (F.sin, F.tanh, F.exp, F.log, F.cos)


def chain(x, depth, held=None):
    """`depth` unary ops on x; `held` (a list) keeps every intermediate, so none is compacted."""
    y = x
    for i in range(depth):
        y = OPS[i % len(OPS)](y)
        if held is not None:
            held.append(y)
    return y


def walk_down(y):
    """(data, op class, generation, Variable) of y and each node below it, through `creator`."""
    nodes = []
    while y.creator is not None:
        nodes.append((y.data, type(y.creator), y.generation, y))
        y = y.creator.inputs[0]
    return nodes


def leaf(shape):
    return Variable(np.linspace(0.1, 0.9, int(np.prod(shape))).reshape(shape))


def assert_bitwise(a, b, what):
    assert a.dtype == b.dtype and a.shape == b.shape, what
    assert np.array_equal(a, b) and a.tobytes() == b.tobytes(), f"{what}: {a} != {b}"


def test_a_dropped_chain_keeps_a_constant_number_of_tracked_objects():
    x = Variable(np.array(0.5))
    gc.collect()
    before = len(gc.get_objects())
    y = chain(x, 10_000)
    grown = len(gc.get_objects()) - before
    assert grown <= 10, f"{grown} GC-tracked objects for 10,000 unary ops: expected a handful"
    assert type(y._input._input) is Stretch


@pytest.mark.parametrize("shape", [(), (3,)], ids=["scalar", "vector"])
@pytest.mark.parametrize("depth", [1, 2, 3, 4, 57])
def test_compacted_chain_has_the_values_grads_and_graph_of_a_held_one(shape, depth):
    x, x_held = leaf(shape), leaf(shape)
    held = []
    y, y_held = chain(x, depth), chain(x_held, depth, held)
    assert_bitwise(y.data, y_held.data, "forward")
    y.backward()
    y_held.backward()
    assert_bitwise(x.grad.data, x_held.grad.data, "gradient")
    got, expected = walk_down(y), walk_down(y_held)
    assert len(got) == len(expected) == depth
    for (data, op, generation, _), (data_h, op_h, generation_h, _) in zip(got, expected):
        assert op is op_h and generation == generation_h
        assert_bitwise(data, data_h, f"data of a {op.__name__} node")
    assert got[-1][0] is not None and got[-1][3].creator.inputs[0] is x


def test_creator_gives_back_a_compacted_node_once_and_links_it():
    x = Variable(np.array(0.5))
    y = chain(x, 20)
    middle = y.creator.inputs[0].creator.inputs[0].creator.inputs[0]
    assert middle is y.creator.inputs[0].creator.inputs[0].creator.inputs[0]
    assert middle.creator.outputs[0]() is middle and middle.generation == 17


def test_branches_through_compacted_chains_give_the_held_gradients_bitwise():
    # Several chains in flight at once (the sweep's work list, not its chase), and a leaf
    # and a shared node that get three gradient contributions each: the sums' order counts.
    def graph(x, w, held):
        a = chain(x, 10, held)
        b = chain(a, 40, held) + chain(a, 31, held) * chain(w, 25, held)
        return F.sum(b * chain(a, 7, held) + chain(x, 12, held))

    x, w, x_held, w_held = leaf((3,)), leaf(()), leaf((3,)), leaf(())
    held = []
    y, y_held = graph(x, w, None), graph(x_held, w_held, held)
    assert_bitwise(y.data, y_held.data, "forward")
    y.backward()
    y_held.backward()
    assert_bitwise(x.grad.data, x_held.grad.data, "gradient of x")
    assert_bitwise(w.grad.data, w_held.grad.data, "gradient of w")


def test_retain_grad_keeps_the_grad_of_every_compacted_node():
    x, x_held = leaf(()), leaf(())
    held = []
    y, y_held = chain(x, 30), chain(x_held, 30, held)
    y.backward(retain_grad=True)
    y_held.backward(retain_grad=True)
    got, expected = walk_down(y), walk_down(y_held)
    for (_, _, _, node), (_, _, _, node_h) in zip(got, expected):
        assert_bitwise(node.grad.data, node_h.grad.data, f"grad at generation {node.generation}")
    assert_bitwise(x.grad.data, x_held.grad.data, "gradient of x")


def test_create_graph_through_a_compacted_chain_gives_the_held_second_derivative():
    def derivatives(held):
        x = leaf(())
        y = chain(x, 23, held)
        y.backward(create_graph=True)
        gx = x.grad
        x.cleargrad()
        gx.backward()
        return gx.data, x.grad.data

    (first, second), (first_h, second_h) = derivatives(None), derivatives([])
    assert_bitwise(first, first_h, "first derivative")
    assert_bitwise(second, second_h, "second derivative")


def test_a_named_graded_or_weakly_referenced_node_keeps_its_identity():
    x = Variable(np.array(0.5))
    named = chain(x, 3)
    named.name = "kept"
    graded = chain(named, 3)
    graded.grad = Variable(np.array(1.0))
    watched = chain(graded, 3)
    ref = weakref.ref(watched)
    y = chain(watched, 10)
    del named, graded, watched
    nodes = [node for _, _, _, node in walk_down(y)]
    assert any(node.name == "kept" for node in nodes), "a named node was compacted"
    assert any(node.grad is not None for node in nodes), "a node with a grad was compacted"
    assert any(node is ref() for node in nodes), "a weakly referenced node lost its identity"


def test_a_copied_stretch_holder_leaves_the_stretch_to_the_first_that_extends_it():
    # copy.copy of a Variable holding a stretch makes two holders of it; the copy's chain
    # extends it first, then the original's chain goes on with every node dropped.
    def two_chains(held):
        y = chain(Variable(np.array(0.5)), 10, held)
        h = y.creator.inputs[0]
        b = chain(F.cos(copy.copy(h)), 2, held)
        y = F.sin(h)
        del h
        for _ in range(4):
            y = F.tanh(y)
            if held is not None:
                held.append(y)
        return y, b

    got, expected = two_chains(None), two_chains([])
    for y, y_held in zip(got, expected):
        nodes, nodes_held = walk_down(y), walk_down(y_held)
        assert [n[1] for n in nodes] == [n[1] for n in nodes_held]
        for (data, *_), (data_h, *_) in zip(nodes, nodes_held):
            assert_bitwise(data, data_h, "data")


def test_unchain_backward_cuts_through_a_stretch_to_its_anchor():
    x = Variable(np.array(0.5))
    anchor = chain(x, 8)
    y = chain(anchor, 20)
    assert type(y._input._input) is Stretch
    y.unchain_backward()
    assert y.creator is not None, "unchain_backward keeps the variable's own creator"
    assert y.creator.inputs[0].creator is None
    assert anchor.creator is None, "the node the stretch starts from kept its creator"


def test_double_backprop_loop_frees_its_graphs():
    # The book's Newton's method (steps 33-36) on a chain: create_graph makes x.grad ->
    # graph -> x cycles each step; the collector must free them, so nothing grows.
    def step(x):
        y = chain(x, 15)
        x.cleargrad()
        y.backward(create_graph=True)
        gx = x.grad
        x.cleargrad()
        gx.backward()
        x.data = x.data - gx.data / x.grad.data

    x = Variable(np.array(0.3))
    for _ in range(5):
        step(x)
    gc.collect()
    before = len(gc.get_objects())
    for _ in range(50):
        step(x)
    gc.collect()
    grown = len(gc.get_objects()) - before
    assert grown <= 5, f"{grown} objects more after 50 Newton steps: their graphs leak"


def test_a_cycle_through_a_compacted_chain_is_collected():
    x = Variable(np.array(0.5))
    y = chain(x, 40)
    y.backward(create_graph=True)  # x.grad's graph holds x: a cycle
    ref = weakref.ref(x)
    del x, y
    gc.collect()
    assert ref() is None, "a reference cycle through a compacted chain survived collection"


def test_no_compaction_keeps_every_node_a_variable_and_is_restored_after():
    def stretches(y):
        found = 0
        while y._creator is not None:
            found += type(y._input) is Stretch
            y = y._input if type(y._input) is Variable else None
            if y is None:
                break
        return found

    with pytest.raises(RuntimeError), compaction.no_compaction():
        y = chain(Variable(np.array(0.5)), 20)
        assert stretches(y) == 0  # dezero.trace records this way: every node stays a Variable
        raise RuntimeError("the block's error")
    assert stretches(chain(Variable(np.array(0.5)), 20)) == 1  # compaction is back
