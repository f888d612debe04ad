"""Every backend runs on the device the run asked for (the CPU by default), and says so.

These run in every pytest-xdist worker like any test, so they also check that each worker
pinned JAX before it initialised; on a machine with a GPU they fail if JAX took it.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench import cli
from bench.backends import BACKENDS
from bench.machine import devices
from bench.workloads.chains import make_chain

REPO = Path(__file__).resolve().parent.parent
# The array type each backend's own output has (`Prepared.native`), by module and class name,
# so a missing framework does not have to be imported to name it.
NATIVE_TYPES = {
    "dezero": "dezero.core.Variable",
    "dezero_replay": "numpy.ndarray",  # replay runs numpy arrays only, no Variables
    "numpy": "numpy.ndarray",
    "autograd": "numpy.ndarray",
    "torch": "torch.Tensor",
    "jax": "jax.Array",
    "jax_jit": "jax.Array",
    "jax_scan": "jax.Array",
    "mygrad": "numpy.ndarray",  # forward reads the result back: mygrad computes in numpy
    "paddle": "paddle.Tensor",
    "tensorflow": "tensorflow.Tensor",
    "tinygrad": "tinygrad.Tensor",
}


def _expected_platform(backend) -> str:
    return devices.requested() if backend.gpu_capable else "cpu"


def _native_type(dotted: str) -> type:
    module, _, name = dotted.rpartition(".")
    return getattr(__import__(module, fromlist=[name]), name)


def test_default_device_is_the_cpu(monkeypatch):
    monkeypatch.delenv(devices.DEVICE_ENV, raising=False)
    assert devices.requested() == "cpu"


def test_this_test_run_is_pinned_to_the_cpu():
    """The suite itself (each xdist worker included) runs with JAX pinned to its CPU."""
    if devices.requested() != "cpu":
        pytest.skip(f"this run asked for {devices.requested()}")
    assert os.environ["JAX_PLATFORMS"] == "cpu"


@pytest.mark.parametrize("name", list(BACKENDS))
def test_backend_result_lives_on_the_requested_device(name):
    backend = BACKENDS[name]
    ok, why = backend.available()
    if not ok:
        pytest.skip(why)
    expected = _expected_platform(backend)
    # mlp: a matmul and params, which every backend (jax_scan included) runs
    prepared = backend.prepare(make_chain("mlp", 2, 3), np.float64)
    x, params = prepared.inputs
    out = prepared.native(x, params)
    assert isinstance(out, _native_type(NATIVE_TYPES[name])), f"{name}: {type(out)}"
    assert devices.platform_of(out) == expected, f"{name}: output on {devices.platform_of(out)}"
    for i, array in enumerate((x, *params)):
        assert devices.platform_of(array) == expected, f"{name}: input {i} not on {expected}"
    value, grads = prepared.value_and_grad(x, params)
    assert all(isinstance(g, np.ndarray) for g in (value, *grads)), f"{name}: grads not numpy"
    device = backend.device()
    assert device.platform == expected, f"{name}: reports {device.label}"
    if expected == "cpu":  # an emulator (tinygrad's without clang) adds a note to the name
        assert device.name.startswith(devices.cpu_name()), f"{name}: reports {device.label}"


def test_platform_of_names_each_framework_array():
    assert devices.platform_of(np.zeros(2)) == "cpu"
    from dezero import Variable

    assert devices.platform_of(Variable(np.zeros(2))) == "cpu"
    with pytest.raises(TypeError, match="list"):
        devices.platform_of([1.0])


def test_cpu_name_is_a_model_name_not_empty():
    name = devices.cpu_name()
    assert name and name != "cpu"
    assert devices.cpu().label == f"cpu ({name})"


@pytest.mark.parametrize("bad", ["tpu", "", "GPU0"])
def test_unknown_device_is_named_in_the_error(bad, monkeypatch):
    monkeypatch.setenv(devices.DEVICE_ENV, bad)
    with pytest.raises(ValueError, match=f"{devices.DEVICE_ENV}.*{bad!r}"):
        devices.requested()


def test_jax_imported_before_configure_is_still_pinned_to_the_cpu():
    """A user who imports jax first, with JAX_PLATFORMS asking for CUDA: configure() overrides it
    before JAX initialises (on this machine an unpinned JAX fails to start; on one with a
    GPU it would take the GPU)."""
    pytest.importorskip("jax")
    code = (
        "import jax, jax.numpy as jnp\n"
        "from bench.machine import configure\n"
        "configure()\n"
        "print(sorted(d.platform for d in jnp.ones(2).devices()))"
    )
    env = {k: v for k, v in os.environ.items() if k != devices.DEVICE_ENV}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env | {"PYTHONPATH": str(REPO), "JAX_PLATFORMS": "cuda"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "['cpu']", result.stdout


def test_xdist_workers_pin_jax_even_when_the_environment_asks_for_cuda():
    """The issue's failure: each pytest-xdist worker initialised JAX on the GPU. Here every
    worker sees JAX_PLATFORMS=cuda (which an unpinned JAX cannot start with on a machine
    without CUDA) and must still put the jax backends' results on the CPU."""
    pytest.importorskip("jax")
    pytest.importorskip("xdist")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env = {k: v for k, v in env.items() if k != devices.DEVICE_ENV}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "2", "-p", "no:cacheprovider",
         "bench/test_devices.py", "-k", "this_test_run_is_pinned or requested_device and jax"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env | {"PYTHONPATH": str(REPO), "JAX_PLATFORMS": "cuda"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:]
    assert re.search(r"\b4 passed\b", result.stdout), result.stdout[-1000:]


@pytest.mark.parametrize("command", ["run", "accuracy"])
def test_gpu_on_a_machine_without_one_is_a_one_line_error(command, monkeypatch, capsys):
    monkeypatch.setattr(devices, "find_gpu", lambda: None)
    before = os.environ.get(devices.DEVICE_ENV)
    assert cli.main([command, "--device", "gpu"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--device gpu: no GPU found" in err, err
    assert os.environ.get(devices.DEVICE_ENV) == before, "a refused device changed the run"


def test_unknown_device_in_the_environment_is_a_one_line_error_not_a_traceback():
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    result = subprocess.run(
        [sys.executable, "-m", "bench", "tables", "--no-readme"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env | {"PYTHONPATH": str(REPO), devices.DEVICE_ENV: "tpu"},
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.count("\n") == 1 and "'tpu'" in result.stderr, result.stderr


def test_unknown_device_option_exits_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["accuracy", "--device", "tpu"])
    assert exit_info.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_every_accuracy_row_names_its_device():
    from bench.workloads.profiles import CI
    from validation.accuracy import run_accuracy

    names = [n for n in ("dezero", "numpy", "torch") if BACKENDS[n].available()[0]]
    df = run_accuracy(CI, backends=names, families=["sin"], depths=[1], dtypes=["float64"])
    assert {"numerical_diff", "dezero"} <= set(df["backend"]), set(df["backend"])
    assert set(df["against"]) - {"exact"}, "no pairwise rows measured"
    assert (df["device"] == "cpu").all(), df[["backend", "against", "device"]]
    assert (df["device_name"] == devices.cpu_name()).all(), set(df["device_name"])


def test_report_shows_each_backends_device_next_to_its_version(tmp_path):
    from bench.report import markdown as report
    from bench.test_report import synthetic_document
    from bench.timing import tables as timing

    document = synthetic_document()
    document["machine_info"]["bench_device"] = "gpu"
    for record in document["benchmarks"]:
        gpu = record["extra_info"]["backend"] == "jax_jit"
        record["extra_info"] |= {
            "device": "gpu" if gpu else "cpu",
            "device_name": "NVIDIA H100" if gpu else "Synthetic CPU",
        }
    path = tmp_path / "run.json"
    path.write_text(json.dumps(document))
    raw, meta = timing.load_benchmarks([path])
    jit = raw[raw["backend"] == "jax_jit"]
    assert set(jit["device"]) == {"gpu"} and set(jit["device_name"]) == {"NVIDIA H100"}
    text = re.sub(r" {2,}", " ", report.render_report(timing.timing_table(raw), None, meta, []))
    assert "| jax_jit | jax_jit-1.0 | gpu (NVIDIA H100) |" in text, text
    assert "| dezero | dezero-1.0 | cpu (Synthetic CPU) |" in text, text
    assert "; device gpu" in text


def test_report_of_records_without_a_device_leaves_the_cell_empty(tmp_path):
    """Results saved before devices were recorded still build (an empty device cell)."""
    from bench.report import markdown as report
    from bench.test_report import synthetic_document
    from bench.timing import tables as timing

    path = tmp_path / "old.json"
    path.write_text(json.dumps(synthetic_document()))
    raw, meta = timing.load_benchmarks([path])
    text = re.sub(r" {2,}", " ", report.render_report(timing.timing_table(raw), None, meta, []))
    assert "| torch | torch-1.0 | |" in text, text
