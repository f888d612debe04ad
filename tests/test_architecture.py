"""The layout's rules, read from the source: module imports point one way (no cycle, counting
imports inside functions; bench's layers and validation in their order), no module is over
500 lines, and importing any module of dezero, bench or validation changes nothing
process-wide.

The import graph is read from each module's syntax tree (no import runs): every `import`
and `from ... import` anywhere in the file, relative ones resolved against the module's
package. A cycle held together by an import at the bottom of a file or inside a function
works only while the call order happens to suit it, so both count. `import_cycles` takes a
list of packages so the same check can cover several layers at once.
"""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 500


def package_modules(root, packages):
    """{module name: path} for every .py file under the packages (tests, conftests and the
    `__main__` entry points, which run rather than being imported, left out)."""
    modules = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            if path.name.startswith("test_") or path.name in ("conftest.py", "__main__.py"):
                continue
            parts = path.relative_to(root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def _known(name, modules):
    """The longest prefix of a dotted name that is one of `modules`, or None."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(name, path, modules):
    """[(imported module, line, inside a function)] for module `name`, among `modules`.

    `from p import x` names the submodule `p.x` when there is one, else `p`; importing a
    submodule also runs its package's `__init__`, but that edge is Python's, not the
    module's, and is left out (else every module would form a cycle with its `__init__`)."""
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    stack = [(node, False) for node in tree.body]
    while stack:
        node, in_function = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            in_function = True
        targets = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                targets.append(submodule if submodule in modules else base)
        for target in targets:
            target = _known(target, modules)
            if target is not None and target != name:
                found.append((target, node.lineno, in_function))
        stack.extend((child, in_function) for child in ast.iter_child_nodes(node))
    return found


def import_graph(root, packages):
    """{module: set of modules it imports anywhere in its file}."""
    modules = package_modules(root, packages)
    return {
        name: {target for target, _, _ in imports_of(name, path, modules)}
        for name, path in modules.items()
    }


def cycles(graph):
    """The strongly connected components of more than one module (each sorted), found
    iteratively (Tarjan): every set of modules that import one another in a circle."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    for root in sorted(graph):
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(sorted(graph[root])))]
        while work:
            node, targets = work[-1]
            for target in targets:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph.get(target, ())))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def import_cycles(packages, root=ROOT):
    """The import cycles among the modules of `packages` (directories under root)."""
    return cycles(import_graph(root, packages))


def long_modules(packages, root=ROOT, limit=MAX_LINES):
    """{module: line count} for the modules of `packages` over `limit` lines."""
    modules = package_modules(root, packages)
    counts = {name: len(path.read_text().splitlines()) for name, path in modules.items()}
    return {name: n for name, n in counts.items() if n > limit}


def test_cycles_finds_a_planted_circle_and_accepts_a_chain():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"c"}}) == [["a", "b"], ["c", "d"]]


def test_import_graph_counts_imports_in_functions_at_the_bottom_and_relative(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from pkg.core import Variable\n")
    (pkg / "core.py").write_text("import numpy\n\n\ndef f():\n    import pkg.ops\n")
    (pkg / "ops.py").write_text("x = 1\nfrom . import core\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "leaf.py").write_text("from ..ops import x\nfrom .. import sub\n")
    (pkg / "test_ops.py").write_text("import pkg.core\n")  # tests are not modules of the layout
    assert import_graph(tmp_path, ["pkg"]) == {
        "pkg": {"pkg.core"},
        "pkg.core": {"pkg.ops"},
        "pkg.ops": {"pkg.core"},
        "pkg.sub": set(),
        "pkg.sub.leaf": {"pkg.ops", "pkg.sub"},
    }
    assert import_cycles(["pkg"], root=tmp_path) == [["pkg.core", "pkg.ops"]]


@pytest.mark.parametrize(
    "packages", [["dezero"], ["bench", "validation"], ["dezero", "bench", "validation"]],
    ids=lambda p: "+".join(p),
)  # fmt: skip
def test_no_import_cycle_counting_imports_inside_functions(packages):
    graph = import_graph(ROOT, packages)
    assert set(packages) <= set(graph), "found no modules"
    assert import_cycles(packages) == []


def test_dezero_imports_none_of_its_own_modules_inside_a_function():
    # An in-function import may only defer a heavy optional dependency (CuPy, PIL, ...);
    # one of dezero's own modules there would be a cycle waiting to be dodged.
    modules = package_modules(ROOT, ["dezero"])
    inside = [
        f"{name}:{line} imports {target}"
        for name, path in modules.items()
        for target, line, in_function in imports_of(name, path, modules)
        if in_function
    ]
    assert inside == []


def test_the_engine_layers_point_one_way():
    graph = import_graph(ROOT, ["dezero"])
    # core is the model: it imports only the array layer below it
    assert graph["dezero.core"] <= {"dezero.cuda", "dezero.collector"}, graph["dezero.core"]
    assert graph["dezero.cuda"] == set() and graph["dezero.array_ops"] == set()
    assert "dezero.trace" not in graph["dezero.sweep"] and "dezero.sweep" in graph["dezero.trace"]


def test_no_module_is_over_500_lines():
    assert long_modules(["dezero", "bench", "validation"]) == {}


def test_importing_dezero_changes_nothing_process_wide():
    # A fresh interpreter: the collector's callbacks, thresholds and frozen objects, the
    # environment and numpy's print options are the same before and after `import dezero`;
    # the collector policy starts with the first Variable.
    script = """
import gc, os, numpy as np
before = (list(gc.callbacks), gc.get_threshold(), gc.get_freeze_count(), dict(os.environ),
          np.get_printoptions(), gc.isenabled())
import dezero, dezero.functions, dezero.layers, dezero.trace
after = (list(gc.callbacks), gc.get_threshold(), gc.get_freeze_count(), dict(os.environ),
         np.get_printoptions(), gc.isenabled())
assert before == after, (before, after)
dezero.Variable(np.ones(2))
assert dezero.collector._on_collection in gc.callbacks, "the first Variable starts the policy"
"""
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


# bench's layers, lowest first: a module imports only from its own layer or lower ones
# (validation reads only workloads and backends; only report and cli are above it)
BENCH_LAYERS = ("files", "machine", "workloads", "backends", "validation", "timing", "book",
                "experiments", "report", "cli")  # fmt: skip
VALIDATION_READS = ("bench.workloads", "bench.backends")
ABOVE_VALIDATION = ("bench.report", "bench.cli")


def _bench_layer(module):
    """'validation', or the bench folder a module sits in ('bench' itself for the package)."""
    parts = module.split(".")
    return "validation" if parts[0] == "validation" else parts[1] if len(parts) > 1 else "bench"


def test_bench_layers_import_only_their_own_layer_or_lower_ones():
    rank = {layer: i for i, layer in enumerate(BENCH_LAYERS)}
    upward = [
        f"{source} -> {target}"
        for source, targets in import_graph(ROOT, ["bench", "validation"]).items()
        for target in targets
        if _bench_layer(source) in rank
        and _bench_layer(target) in rank
        and rank[_bench_layer(target)] > rank[_bench_layer(source)]
    ]
    assert not upward, "imports pointing up a layer:\n" + "\n".join(sorted(upward))


def test_validation_imports_only_bench_workloads_and_backends():
    """validation reads what is run (workloads) and how (backends), and returns data: reading
    input files, writing results and machine set-up are the CLI's and the report's."""
    graph = import_graph(ROOT, ["bench", "validation"])
    wrong = [
        f"{source} -> {target}"
        for source, targets in graph.items()
        if _bench_layer(source) == "validation"
        for target in targets
        if (target == "bench" or target.startswith("bench."))
        and not target.startswith(tuple(f"{layer}." for layer in VALIDATION_READS))
        and target not in VALIDATION_READS
    ]
    assert not wrong, "\n".join(sorted(wrong))
    read = {t for s, ts in graph.items() if _bench_layer(s) == "validation" for t in ts}
    assert any(t.startswith("bench.workloads") for t in read), "found no validation import"


def test_only_the_report_and_the_cli_import_validation():
    importers = {
        source
        for source, targets in import_graph(ROOT, ["bench", "validation"]).items()
        if source.startswith("bench") and any(t.startswith("validation") for t in targets)
    }
    assert importers, "found no importer of validation: is the graph empty?"
    assert all(name.startswith(ABOVE_VALIDATION) for name in importers), importers


# Records every C function looked up through ctypes, so a test can see whether mallopt was.
MALLOPT_SPY = (
    "looked_up = []\n"
    "original = ctypes.CDLL.__getattr__\n"
    "def spy(self, name):\n"
    "    looked_up.append(name)\n"
    "    return original(self, name)\n"
    "ctypes.CDLL.__getattr__ = spy\n"
)


def test_importing_any_module_changes_no_environment_and_calls_nothing_process_wide():
    """Every bench and validation module imported in a fresh process: os.environ is as it was
    and malloc was not tuned; that is `bench.machine.configure()`'s job alone. Third-party
    libraries are loaded first, so what they set on import does not count."""
    names = sorted(package_modules(ROOT, ["bench", "validation"]))
    code = (
        "import ctypes, importlib, os, sys\n"
        "for lib in ('numpy', 'pandas', 'scipy.stats', 'matplotlib', 'torch', 'jax',\n"
        "            'jax.numpy', 'mpmath', 'autograd', 'tqdm', 'threadpoolctl'):\n"
        "    try:\n"
        "        importlib.import_module(lib)\n"
        "    except ImportError:\n"
        "        pass\n" + MALLOPT_SPY + "before = dict(os.environ)\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "changed = sorted(k for k in set(before) | set(os.environ)\n"
        "                 if before.get(k) != os.environ.get(k))\n"
        "print(changed, 'mallopt' in looked_up)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "OPENBLAS_", "MKL_"))}
    env = {
        k: v
        for k, v in env.items()
        if k not in ("XLA_FLAGS", "JAX_PLATFORMS", "DEZERO_BENCH_DEVICE")
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env | {"PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[] False", result.stdout


def test_reference_does_not_import_a_backend():
    """A reference never builds on the thing it checks: a backend's speed-up cannot move it."""
    graph = import_graph(ROOT, ["bench", "validation"])
    for path in [
        "validation.reference.duals",
        "validation.reference.tape",
        "validation.reference.floor",
        "validation.reference.chains",
        "validation.fuzz.reference",
    ]:
        imported = graph[path]
        assert not [m for m in imported if m.startswith("bench.backends")], (path, imported)


def test_configure_sets_the_process_up():
    """The same check bites: configure() pins threads and JAX and tunes malloc."""
    code = (
        "import ctypes, os\n" + MALLOPT_SPY + "from bench.machine import configure\n"
        "configure()\n"
        "print(os.environ['OMP_NUM_THREADS'], os.environ['JAX_PLATFORMS'],\n"
        "      'mallopt' in looked_up)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "JAX_PLATFORMS")}
    env = env | {"PYTHONPATH": str(ROOT), "DEZERO_BENCH_THREADS": "1", "DEZERO_BENCH_DEVICE": "cpu"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env
    )
    assert result.stdout.split() == ["1", "cpu", "True"], result.stdout + result.stderr[-2000:]
