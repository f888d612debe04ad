"""The shape of the harness: family records tell the truth about their builders, one grid
model feeds both the benchmarks and the accuracy sweep, one CLI lists every command, and the
lower layer of bench never imports validation."""

import argparse
import dataclasses
import importlib.util
import math
import os
import re
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
    # a name longer than argparse's column ('workloads') has its help on the next line
    missing = [name for name in cli.COMMANDS if not re.search(rf"^    {name}\b", text, re.M)]
    assert not missing, f"`python -m bench --help` does not list {missing}:\n{text}"


def test_there_is_no_second_command_line():
    assert importlib.util.find_spec("validation.__main__") is None


@pytest.mark.parametrize("argv", [["accuracy", "--depths", "0"], ["accuracy", "--profile", "x"]])
def test_accuracy_command_rejects_bad_input_in_one_line(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_source_names_no_issue_or_commit():
    """History belongs in commit messages: no 'issue #N' and no commit hash in the code or
    the tests of any package (test_readme.py holds the pattern's own examples)."""
    found = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for package in ("dezero", "bench", "validation", "tests")
        for path in sorted((REPO / package).rglob("*.py"))
        if path.name != "test_readme.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if NOTEBOOK.search(line) and "fmt: skip" not in line
    ]
    assert not found, "\n".join(found)


def test_every_command_is_a_module_with_add_parser_and_main():
    for name, module in cli.COMMANDS.items():
        assert module.__name__ == f"bench.cli.{name}", name
        assert callable(module.add_parser) and callable(module.main), name


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
