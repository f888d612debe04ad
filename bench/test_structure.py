"""The shape of the harness: family records tell the truth about their builders, one grid
model feeds both the benchmarks and the accuracy sweep, one CLI lists every command, and the
lower layer of bench never imports validation."""

import argparse
import ast
import dataclasses
import importlib.util
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench import cli
from bench.backends import BACKENDS
from bench.backends.numpy_tape import Tape
from bench.files.table_format import markdown_table
from bench.test_readme import NOTEBOOK
from bench.workloads import profiles
from bench.workloads.chains import FAMILIES, Family, make_chain

REPO = Path(__file__).resolve().parent.parent
# bench's layers, lowest first: a module imports only from its own layer or lower ones
# (validation sits on files, machine, workloads and backends; only report and cli are above it)
LAYERS = ("files", "machine", "workloads", "backends", "validation", "timing", "book",
          "experiments", "report", "cli")  # fmt: skip
BELOW_VALIDATION = ("bench.files", "bench.machine", "bench.workloads", "bench.backends")
ABOVE_VALIDATION = ("bench.report", "bench.cli")
MAX_LINES = 500


def _modules(*packages) -> dict[str, Path]:
    """Dotted name -> file of every module of `packages`, tests, conftests and mains aside."""
    out = {}
    for package in packages:
        for path in sorted((REPO / package).rglob("*.py")):
            if path.name.startswith("test_") or path.name in ("conftest.py", "__main__.py"):
                continue
            parts = path.relative_to(REPO).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


LOWER_LAYER = tuple(
    name for name in _modules("bench") if not name.startswith(ABOVE_VALIDATION) and name != "bench"
)


def _recorded(family, depth, width):
    """The chain and the op records of one forward pass of it on the numpy tape."""
    chain = make_chain(family, depth, width)
    tape = Tape()
    chain.apply(tape.ops, *map(tape.leaf, (chain.x, *chain.params)))
    return chain, tape.records


@pytest.mark.parametrize("name", list(FAMILIES))
@pytest.mark.parametrize(("depth", "width"), [(1, 1), (3, 1), (3, 5)])
def test_family_record_agrees_with_what_its_builder_makes(name, depth, width):
    family = FAMILIES[name]
    chain, records = _recorded(name, depth, width)
    built_depth = 1 if family.fixed_depth else depth
    where = f"{name} depth {depth} width {width}"
    assert chain.depth == built_depth, f"{where}: built depth {chain.depth}"
    assert chain.op_count == len(records) == family.ops_per_layer * built_depth, (
        f"{where}: op_count {chain.op_count}, {len(records)} ops recorded, record says "
        f"{family.ops_per_layer} per layer"
    )
    assert chain.elementwise == family.elementwise, where
    assert (chain.layer is not None) == family.repeated_layer, where
    assert chain.params_per_layer == family.params_per_layer, where
    assert len(chain.params) == family.leaves(built_depth) - 1, where
    assert sum(np.size(p) for p in chain.params) == family.weight_elements(built_depth, width)
    assert np.size(chain.x) == width * family.batch, f"{where}: x has shape {np.shape(chain.x)}"
    flops = sum(
        2 * math.prod(np.shape(args[0].value)) * np.shape(args[1].value)[-1]
        for op, args, _ in records
        if op.name == "matmul"
    )
    assert flops == family.matmul_flops(width) * built_depth, f"{where}: {flops} matmul flops"


def test_fixed_depth_family_is_measured_once_per_width():
    fixed = [name for name, family in FAMILIES.items() if family.fixed_depth]
    assert fixed, "no fixed-depth family to check"
    for profile in profiles.PROFILES.values():
        for case in profiles.cases(profile, ["numpy"]):
            if case.family in fixed:
                assert case.depth == 1, f"{profile.name}: {case.id}"
        for case in profiles.accuracy_cases(profile, fixed):
            assert case.depth == 1, f"{profile.name}: {case}"


def test_a_new_family_record_reaches_every_grid(monkeypatch):
    """Adding a family is one entry in FAMILIES: benchmarks, accuracy and cost model read it."""
    cube = Family("cube", FAMILIES["sin"].build, 2, elementwise=False, batch=3)
    monkeypatch.setitem(FAMILIES, "cube", cube)
    profile = profiles.PROFILES["quick"]
    bench_cases = [c for c in profiles.cases(profile, ["numpy"]) if c.family == cube.name]
    assert {c.width for c in bench_cases} == set(profile.matrix_widths)
    assert {c.depth for c in bench_cases} == set(profile.depths)
    assert all(c.op_count == 2 * c.depth and c.elements == 3 * c.width for c in bench_cases)
    sweep = profiles.accuracy_cases(profile, [cube.name])
    assert {c.width for c in sweep} == {profile.accuracy.matrix_width}
    assert {c.depth for c in sweep} == set(profile.accuracy.wide_depths)


def test_every_profile_caps_only_known_backends():
    for profile in profiles.PROFILES.values():
        unknown = set(profile.accuracy.max_depth) - set(BACKENDS)
        assert not unknown, f"profile {profile.name} caps unknown backends {unknown}"
        assert set(profile.accuracy.dtypes) <= set(profiles.DTYPES), profile.name


def test_profile_records_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        profiles.PROFILES["quick"].depths = (1,)
    with pytest.raises(TypeError):
        profiles.PROFILES["default"].accuracy.max_depth["jax"] = 1


def test_help_lists_every_command():
    parser = cli.build_parser()
    (subparsers,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(subparsers.choices) == set(cli.COMMANDS)
    text = subprocess.run(
        [sys.executable, "-m", "bench", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        env=os.environ | {"PYTHONPATH": str(REPO)},
    ).stdout
    missing = [name for name in cli.COMMANDS if f"\n    {name} " not in text]
    assert not missing, f"`python -m bench --help` does not list {missing}:\n{text}"


def test_there_is_no_second_command_line():
    assert importlib.util.find_spec("validation.__main__") is None


@pytest.mark.parametrize("argv", [["accuracy", "--depths", "0"], ["accuracy", "--profile", "x"]])
def test_accuracy_command_rejects_bad_input_in_one_line(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_lower_layer_of_bench_does_not_import_validation():
    code = (
        "import importlib, sys\n"
        f"for name in {LOWER_LAYER!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'validation'))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        env=os.environ | {"PYTHONPATH": str(REPO)},
    )
    assert result.stdout.strip() == "[]", f"bench's lower layer imported {result.stdout}"


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_lower_layer_source_names_validation():
    """The same rule read from the source, so a lazy import inside a function is caught too."""
    modules = _modules("bench")
    offenders = {
        name: sorted(m for m in _imported_modules(modules[name]) if "validation" in m)
        for name in LOWER_LAYER
    }
    assert not {k: v for k, v in offenders.items() if v}


def _import_graph(*packages) -> dict[str, set[str]]:
    """Module -> the modules of `packages` it imports, at the top or inside a function."""
    modules = _modules(*packages)

    def resolve(name):
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets |= {resolve(alias.name) for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                for alias in node.names:  # `from bench.cli import run` names a module
                    targets.add(resolve(f"{base}.{alias.name}") or resolve(base))
        graph[name] = targets - {None, name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan, without recursion)."""
    index, low, stack, on_stack, groups, counter = {}, {}, [], set(), [], 0
    for start in graph:
        if start in index:
            continue
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        work = [(start, iter(sorted(graph[start])))]
        while work:
            node, targets = work[-1]
            for target in targets:
                if target not in index:
                    index[target] = low[target] = counter
                    counter += 1
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph.get(target, ())))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while not group or group[-1] != node:
                        group.append(stack.pop())
                        on_stack.discard(group[-1])
                    if len(group) > 1:
                        groups.append(sorted(group))
    return groups


def _layer(module: str) -> str:
    """'validation', or the bench folder a module sits in ('bench' itself for the package)."""
    parts = module.split(".")
    return "validation" if parts[0] == "validation" else parts[1] if len(parts) > 1 else "bench"


def test_cycles_are_found_counting_imports_inside_functions():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_bench_and_validation_import_graph_is_acyclic():
    """Imports inside functions count: a lazy import cannot hide a cycle."""
    assert _cycles(_import_graph("bench", "validation")) == []


def test_bench_layers_import_only_their_own_layer_or_lower_ones():
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    upward = [
        f"{source} -> {target}"
        for source, targets in _import_graph("bench", "validation").items()
        for target in targets
        if _layer(source) in rank
        and _layer(target) in rank
        and rank[_layer(target)] > rank[_layer(source)]
    ]
    assert not upward, "imports pointing up a layer:\n" + "\n".join(sorted(upward))


def test_validation_imports_only_bench_below_it():
    """validation reads the workloads and backends (and the files and machine plumbing under
    them); the timing layer, the report and the CLI are above it."""
    wrong = [
        f"{source} -> {target}"
        for source, targets in _import_graph("bench", "validation").items()
        if _layer(source) == "validation"
        for target in targets
        if target.startswith("bench") and not target.startswith(BELOW_VALIDATION)
    ]
    assert not wrong, "\n".join(sorted(wrong))


def test_only_the_report_and_the_cli_import_validation():
    importers = {
        source
        for source, targets in _import_graph("bench", "validation").items()
        if source.startswith("bench") and any(t.startswith("validation") for t in targets)
    }
    assert importers and all(name.startswith(ABOVE_VALIDATION) for name in importers), importers


def test_importing_any_module_changes_no_environment_and_calls_nothing_process_wide():
    """Every bench and validation module imported in a fresh process: os.environ is as it was
    and malloc was not tuned; that is `bench.machine.configure()`'s job alone. Third-party
    libraries are loaded first, so what they set on import does not count."""
    names = sorted(_modules("bench", "validation"))
    code = (
        "import ctypes, importlib, os, sys\n"
        "for lib in ('numpy', 'pandas', 'scipy.stats', 'matplotlib', 'torch', 'jax',\n"
        "            'jax.numpy', 'mpmath', 'autograd', 'tqdm', 'threadpoolctl'):\n"
        "    try:\n"
        "        importlib.import_module(lib)\n"
        "    except ImportError:\n"
        "        pass\n"
        "looked_up = []\n"
        "original = ctypes.CDLL.__getattr__\n"
        "def spy(self, name):\n"
        "    looked_up.append(name)\n"
        "    return original(self, name)\n"
        "ctypes.CDLL.__getattr__ = spy\n"
        "before = dict(os.environ)\n"
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
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env | {"PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[] False", result.stdout


def test_configure_sets_the_process_up():
    """The same check bites: configure() pins threads and JAX and tunes malloc."""
    code = (
        "import ctypes, os\n"
        "looked_up = []\n"
        "original = ctypes.CDLL.__getattr__\n"
        "def spy(self, name):\n"
        "    looked_up.append(name)\n"
        "    return original(self, name)\n"
        "ctypes.CDLL.__getattr__ = spy\n"
        "from bench.machine import configure\n"
        "configure()\n"
        "print(os.environ['OMP_NUM_THREADS'], os.environ['JAX_PLATFORMS'],\n"
        "      'mallopt' in looked_up)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "JAX_PLATFORMS")}
    env = env | {"PYTHONPATH": str(REPO), "DEZERO_BENCH_THREADS": "1", "DEZERO_BENCH_DEVICE": "cpu"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, env=env
    )
    assert result.stdout.split() == ["1", "cpu", "True"], result.stdout + result.stderr[-2000:]


def test_no_bench_module_is_over_500_lines():
    long = {
        name: n
        for name, path in _modules("bench").items()
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not long, long


def test_bench_source_names_no_issue_or_commit():
    """History belongs in commit messages: no 'issue #N' and no commit hash in bench's code
    (test_readme.py holds the pattern's own examples)."""
    found = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in sorted((REPO / "bench").rglob("*.py"))
        if path.name != "test_readme.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if NOTEBOOK.search(line) and "fmt: skip" not in line
    ]
    assert not found, "\n".join(found)


def test_every_command_is_a_module_with_add_parser_and_main():
    for name, module in cli.COMMANDS.items():
        assert module.__name__ == f"bench.cli.{name}", name
        assert callable(module.add_parser) and callable(module.main), name


def test_reference_does_not_import_a_backend():
    """A reference never builds on the thing it checks: a backend's speed-up cannot move it."""
    for path in [
        *(REPO / "validation" / "reference").glob("*.py"),
        REPO / "validation" / "fuzz" / "reference.py",
    ]:
        imported = _imported_modules(path)
        assert not [m for m in imported if m.startswith("bench.backends")], (path, imported)


def test_markdown_table_prints_cells_as_given():
    df = pd.DataFrame({"backend": ["dezero", "numpy"], "ulp": ["1.00", "1e-5"], "n": [3, 12]})
    lines = markdown_table(df).splitlines()
    assert [cell.strip() for cell in lines[0].strip("|").split("|")] == ["backend", "ulp", "n"]
    assert [cell.strip() for cell in lines[2].strip("|").split("|")] == ["dezero", "1.00", "3"]
    assert [cell.strip() for cell in lines[3].strip("|").split("|")] == ["numpy", "1e-5", "12"]


def test_numpy_loaded_first_still_gets_one_blas_thread():
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    code = (
        "import numpy\nfrom bench.machine import configure\nconfigure()\n"
        "from threadpoolctl import threadpool_info\n"
        "print(sorted({p['num_threads'] for p in threadpool_info() if p['user_api'] == 'blas'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        env=env | {"PYTHONPATH": str(REPO), "DEZERO_BENCH_THREADS": "1"},
    )
    assert result.stdout.strip() == "[1]", result.stdout
