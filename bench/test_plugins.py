"""Engines from outside the registry: --backend-module, entry points, and the `backends` listing.

Each test writes its plugin module into a temporary folder on sys.path and leaves the
registry as it found it (`registry` fixture).
"""

import importlib.metadata
import json
from types import SimpleNamespace

import pytest

from bench import cli
from bench.backends import BACKENDS, plugins
from bench.cli.args import tagged_backends
from bench.timing.run_suite import filter_tag
from validation.accuracy import read_accuracy

ADAPTERS = """
from bench.backends.base import Backend
from bench.backends.numpy_tape import NumpyTape


class Tape(NumpyTape):
    name = "tape_copy"


class Refusing(NumpyTape):
    name = "refusing"

    def unsupported(self, chain, dtype):
        return "refusing: float32 only" if dtype.__name__ != "float32" else None


def make():
    return Tape()


def make_refusing():
    return Refusing()


def raises():
    raise RuntimeError("no licence\\nfor this machine")


def not_a_backend():
    return object()


def named_numpy():
    engine = Tape()
    engine.name = "numpy"
    return engine


def bad_name():
    engine = Tape()
    engine.name = "two words"
    return engine


NOT_CALLABLE = 3


class Crashing(NumpyTape):
    name = "crashing"

    def unsupported(self, chain, dtype):
        raise ZeroDivisionError("dtype table is empty")


def crashing():
    return Crashing()


class Fuzzed(NumpyTape):
    # the numpy tape's fuzz runner with a planted relative error of 1e-9 in every gradient

    name = "fuzzed"

    def fuzz_runner(self):
        from validation.fuzz.backends import run_numpy

        def run(program, arrays, direction=None):
            value, grads, hvp = run_numpy(program, arrays, direction)
            return value, [g * (1 + 1e-9) for g in grads], hvp

        return run


def fuzzed():
    return Fuzzed()
"""


@pytest.fixture
def registry(tmp_path, monkeypatch):
    """A module `plugin_adapters` on sys.path; the registry and environment restored after."""
    (tmp_path / "plugin_adapters.py").write_text(ADAPTERS)
    (tmp_path / "plugin_broken.py").write_text("import no_such_framework_here\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    # set (empty) so that monkeypatch removes what a command exports, after the test
    monkeypatch.setenv(plugins.MODULES_ENV, "")
    saved = dict(BACKENDS), dict(plugins.REGISTERED), dict(plugins.BROKEN)
    yield tmp_path
    for live, before in zip((BACKENDS, plugins.REGISTERED, plugins.BROKEN), saved):
        live.clear()
        live.update(before)


def listing(argv, capsys) -> list[dict]:
    assert cli.main(["backends", "--json", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_backend_module_engine_is_listed_with_its_source_and_supports(registry, capsys):
    argv = ["--backends", "tape_copy", "dezero", "--backend-module", "plugin_adapters:make"]
    rows = listing(argv, capsys)
    row = next(r for r in rows if r["name"] == "tape_copy")
    assert row["source"] == plugins.COMMAND_LINE
    assert row["spec"] == "plugin_adapters:make"
    assert row["available"] and row["version"]
    assert row["dtypes"] == ["float64", "float32"]
    assert row["orders"] == ["first"]
    assert set(row["ops"]) >= {"sin", "matmul", "sum"}
    assert {r["source"] for r in rows if r["name"] == "dezero"} == {plugins.BUILT_IN}


def test_listing_derives_dtypes_and_orders_from_the_adapter(registry, capsys):
    argv = ["--backends", "refusing", "torch", "dezero_replay"]
    rows = listing([*argv, "--backend-module", "plugin_adapters:make_refusing"], capsys)
    row = next(r for r in rows if r["name"] == "refusing")
    assert row["dtypes"] == ["float32"]
    assert next(r for r in rows if r["name"] == "torch")["orders"] == ["first", "second"]
    assert next(r for r in rows if r["name"] == "dezero_replay")["orders"] == ["first"]


def test_backends_names_a_plugin_only_after_it_is_loaded(registry, capsys):
    rows = listing(["--backends", "tape_copy", "--backend-module", "plugin_adapters:make"], capsys)
    assert [r["name"] for r in rows] == ["tape_copy"]


def test_backends_rejects_a_name_no_engine_has(registry, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["backends", "--backends", "tape_copy"])
    assert stop.value.code == 2
    assert "invalid choice: 'tape_copy'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("plugin_adapters", "must look like 'package.module:factory'"),
        ("plugin_broken:make", "cannot import 'plugin_broken' (ModuleNotFoundError"),
        ("plugin_adapters:missing", "has no 'missing'"),
        ("plugin_adapters:NOT_CALLABLE", "is a int, not a factory"),
        ("plugin_adapters:raises", "factory 'raises' raised RuntimeError: no licence for"),
        ("plugin_adapters:not_a_backend", "returned a object, not a bench.backends.base.Backend"),
        ("plugin_adapters:named_numpy", "backend name 'numpy' is a built-in backend's"),
        ("plugin_adapters:bad_name", "backend name must be letters, digits and '_'"),
    ],
)
@pytest.mark.parametrize("command", ["backends", "accuracy", "run"])
def test_a_bad_backend_module_is_one_line_and_exit_2_before_any_work(
    registry, capsys, spec, says, command
):
    before = dict(BACKENDS)
    assert cli.main([command, "--backend-module", spec, "--results", str(registry)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err and spec in err, err
    assert "Traceback" not in err
    assert dict(BACKENDS) == before
    assert sorted(p.name for p in registry.iterdir()) == ["plugin_adapters.py", "plugin_broken.py"]


def test_two_plugins_cannot_share_a_name(registry, capsys):
    (registry / "plugin_twin.py").write_text(
        "from plugin_adapters import Tape\n\ndef make():\n    return Tape()\n"
    )
    argv = ["--backend-module", "plugin_adapters:make", "--backend-module", "plugin_twin:make"]
    assert cli.main(["backends", *argv]) == 2
    assert "'tape_copy' is taken by plugin_adapters:make" in capsys.readouterr().err


def fake_entry_points(*pairs):
    group = plugins.GROUP
    points = importlib.metadata.EntryPoints(
        importlib.metadata.EntryPoint(name, value, group) for name, value in pairs
    )
    return lambda group=None: points.select(group=group)


def test_a_broken_entry_point_is_listed_with_its_error_and_the_others_still_load(
    registry, monkeypatch, capsys
):
    found = fake_entry_points(("broken", "plugin_broken:make"), ("tape", "plugin_adapters:make"))
    monkeypatch.setattr(plugins.importlib.metadata, "entry_points", found)
    rows = listing(["--backends", "tape_copy"], capsys)
    tape = next(r for r in rows if r["name"] == "tape_copy")
    assert tape["source"] == plugins.ENTRY_POINT and tape["available"]
    broken = next(r for r in rows if r["name"] == "broken")
    assert not broken["available"]
    assert "entry point 'broken' (plugin_broken:make): cannot import" in broken["reason"]
    # a command choosing backends says so in one line and runs with the others
    assert cli.main(["backends", "--backends", "tape_copy"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == [f"warning: skipped {broken['reason']}"]


def test_an_entry_point_may_not_take_a_built_in_name(registry, monkeypatch, capsys):
    found = fake_entry_points(("numpy", "plugin_adapters:named_numpy"))
    monkeypatch.setattr(plugins.importlib.metadata, "entry_points", found)
    rows = listing(["--backends", "numpy"], capsys)
    assert BACKENDS["numpy"].__class__.__module__ == "bench.backends.numpy_tape"
    assert "is a built-in backend's" in next(r for r in rows if r["spec"])["reason"]


def test_a_child_process_finds_the_command_line_engines(registry, monkeypatch):
    monkeypatch.setenv(plugins.MODULES_ENV, "plugin_adapters:make")
    assert "tape_copy" not in BACKENDS
    assert plugins.lookup("tape_copy").name == "tape_copy"
    with pytest.raises(KeyError, match="unknown backend 'nope'"):
        plugins.lookup("nope")


def test_the_text_listing_has_one_row_per_engine(registry, capsys):
    argv = ["backends", "--backends", "refusing", "numpy"]
    assert cli.main([*argv, "--backend-module", "plugin_adapters:make_refusing"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 + 2
    row = next(line for line in lines if line.startswith("| refusing"))
    assert "command line (plugin_adapters:make_refusing)" in row and "| float32 " in row


def test_the_accuracy_sweep_measures_a_command_line_engine(registry, capsys):
    argv = ["accuracy", "--profile", "quick", "--backends", "tape_copy", "--families", "sin"]
    argv += ["--depths", "10", "--dtypes", "float64", "--results", str(registry / "out")]
    assert cli.main([*argv, "--quiet", "--backend-module", "plugin_adapters:make"]) == 0
    (csv,) = (registry / "out").rglob("accuracy.csv")
    rows = read_accuracy(csv)
    mine = rows[(rows["backend"] == "tape_copy") & (rows["against"] == "exact")]
    assert set(mine["quantity"]) == {"value", "grad"}
    assert (mine["max_abs_ulp"] < 4).all(), mine[["quantity", "max_abs_ulp"]]


def test_the_fuzzer_checks_a_plugin_engine_that_offers_a_runner_and_shrinks_its_bug(
    registry, capsys
):
    out = registry / "fuzz"
    argv = ["fuzz", "--programs", "5", "--backends", "fuzzed", "numpy", "--out", str(out)]
    assert cli.main([*argv, "--backend-module", "plugin_adapters:fuzzed"]) == 0
    findings = (out / "findings.csv").read_text().splitlines()
    assert findings[0].startswith("backend,") and len(findings) == 2
    assert findings[1].startswith("fuzzed,ulp,1,neg,True")  # shrunk to one op


def test_the_fuzzer_refuses_a_plugin_engine_without_a_runner(registry, capsys):
    argv = ["fuzz", "--backends", "tape_copy", "--backend-module", "plugin_adapters:make"]
    with pytest.raises(SystemExit) as stop:
        cli.main([*argv, "--out", str(registry / "fuzz")])
    assert stop.value.code == 2
    assert "invalid choice: 'tape_copy'" in capsys.readouterr().err
    assert not (registry / "fuzz").exists()


def test_a_run_with_an_engine_from_outside_is_tagged_not_published(registry):
    args = SimpleNamespace(backends=None)
    assert tagged_backends(args) is None  # the built-ins alone: the published default run
    plugins.load_modules(["plugin_adapters:make"])
    assert tagged_backends(args) == list(BACKENDS)
    assert "-tape_copy" in filter_tag(tagged_backends(args))
    assert tagged_backends(SimpleNamespace(backends=["numpy"])) == ["numpy"]


def test_an_adapter_that_raises_while_listed_is_a_row_with_the_reason(registry, capsys):
    rows = listing(
        ["--backends", "crashing", "--backend-module", "plugin_adapters:crashing"], capsys
    )
    assert not rows[0]["available"]
    assert (
        rows[0]["reason"] == "crashing: its adapter raised ZeroDivisionError: dtype table is empty"
    )
