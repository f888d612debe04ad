"""dezero's modules import one another one way (no cycle among module-level imports), and
the package wires what core cannot import: Variable's operators and the create_graph ops.

A cycle held together by an import at the bottom of a file works only while the import
order happens to suit it; this test reads each module's syntax tree (no import runs) and
fails naming the cycle, so a new one cannot creep in.
"""

import ast
from pathlib import Path

import numpy as np

import dezero
import dezero.functions as F
from dezero import Variable, arithmetic, core

PACKAGE = "dezero"
PACKAGE_DIR = Path(dezero.__file__).parent


def module_name(path):
    return PACKAGE if path.stem == "__init__" else f"{PACKAGE}.{path.stem}"


def module_level_statements(tree):
    """Top-level statements, including those under module-level if/try (not in defs)."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.If, ast.Try)):
            stack.extend(node.body + node.orelse)
            stack.extend(node.finalbody if isinstance(node, ast.Try) else [])
            for handler in getattr(node, "handlers", []):
                stack.extend(handler.body)


def imported_modules(tree, modules):
    """The package's modules a module imports at module level.

    `from dezero import x` names the submodule `dezero.x` when there is one, else the
    package's `__init__`; importing a submodule also runs the package `__init__` first,
    but that edge is Python's, not the module's, and is left out (else every module
    would trivially form a cycle with the `__init__` that imports it).
    """
    found = set()
    for node in module_level_statements(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in modules else node.module)
    return {name for name in found if name in modules}


def import_graph(package_dir=PACKAGE_DIR):
    paths = sorted(package_dir.glob("*.py"))
    modules = {module_name(path) for path in paths}
    return {
        module_name(path): imported_modules(ast.parse(path.read_text(), str(path)), modules)
        for path in paths
    }


def find_cycle(graph):
    """One import cycle as a list of modules (first == last), or None; iterative DFS."""
    state = {}  # module -> "open" while on the DFS path, "done" once finished
    for root in sorted(graph):
        if root in state:
            continue
        path = [root]
        iterators = [iter(sorted(graph[root]))]
        state[root] = "open"
        while iterators:
            target = next(iterators[-1], None)
            if target is None:
                state[path.pop()] = "done"
                iterators.pop()
            elif state.get(target) == "open":
                return path[path.index(target) :] + [target]
            elif target not in state:
                state[target] = "open"
                path.append(target)
                iterators.append(iter(sorted(graph[target])))
    return None


def test_find_cycle_reports_a_planted_cycle_and_accepts_a_chain():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_import_graph_reads_bottom_of_file_and_from_imports(tmp_path):
    (tmp_path / "__init__.py").write_text("from dezero.core import Variable\n")
    (tmp_path / "core.py").write_text("import numpy\n\n\ndef f():\n    import dezero.ops\n")
    (tmp_path / "ops.py").write_text("from dezero import core\nx = 1\nimport dezero.core\n")
    assert import_graph(tmp_path) == {
        "dezero": {"dezero.core"},
        "dezero.core": set(),  # an import inside a function is not module level
        "dezero.ops": {"dezero.core"},
    }


def test_dezero_has_no_import_cycle():
    graph = import_graph()
    assert {"dezero.core", "dezero.functions"} <= set(graph), "the walk found no modules"
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_setup_variable_installs_the_operators_and_the_graph_namespace():
    for name, operator in arithmetic.VARIABLE_OPERATORS.items():
        assert getattr(Variable, name) is operator, f"Variable.{name} is not installed"
    assert core.graph_ops is F
    x = Variable(np.array([1.0, 2.0]))
    (x * x).sum().backward(create_graph=True)
    assert x.grad.creator is not None, "create_graph recorded no graph"


def test_book_style_backward_of_a_builtin_sums_gradients_to_input_shapes():
    # The book's API: Function.backward(gy) returns Variables shaped like the inputs,
    # while a vjp returns them at the broadcast shape and leaves the sum to the sweep.
    a, b = Variable(np.ones((2, 3))), Variable(np.arange(3.0))
    y = a * b
    ga, gb = y.creator.backward(Variable(np.full((2, 3), 2.0)))
    assert ga.shape == (2, 3) and gb.shape == (3,)
    np.testing.assert_array_equal(ga.data, np.broadcast_to(2.0 * np.arange(3.0), (2, 3)))
    np.testing.assert_array_equal(gb.data, [4.0, 4.0, 4.0])
    gx = F.sin(b).creator.backward(Variable(np.ones(3)))
    np.testing.assert_allclose(gx.data, np.cos(np.arange(3.0)), rtol=1e-15)
