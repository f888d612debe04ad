"""Which device every backend runs on: the CPU unless a run asks for the GPU.

JAX chooses its platform once, when it first initialises: on a machine with a GPU and a
CUDA build of jaxlib it would choose the GPU (and preallocate most of its memory in every
pytest-xdist worker), while dezero, numpy and torch ran on the CPU, and the tables would
compare them as if alike. So the choice is made here, explicitly, and recorded:

- DEZERO_BENCH_DEVICE is `cpu` (the default) or `gpu`; the CLI's `--device` sets it, and
  child processes (the benchmark subprocess, accuracy workers) inherit it.
- `configure()` sets JAX_PLATFORMS from it, overriding whatever was there, before jax
  loads (`bench.machine.configure()` calls it, as it pins threads), or through
  `jax.config` if jax was imported first. The torch backend creates its tensors on
  `torch_device()`. numpy, dezero and autograd run on the CPU whatever the choice.
- `Backend.device()` says where a backend runs (a `Device`); every benchmark record and
  accuracy row carries it, and `platform_of(array)` says where an array actually lives.
"""

from __future__ import annotations

import functools
import os
import platform as host
import sys
from dataclasses import dataclass
from pathlib import Path

DEVICE_ENV = "DEZERO_BENCH_DEVICE"
CHOICES = ("cpu", "gpu")
# JAX platform and torch device type of each choice; the GPUs supported are NVIDIA's (CUDA).
_JAX_PLATFORMS = {"cpu": "cpu", "gpu": "cuda"}
_TORCH_DEVICES = {"cpu": "cpu", "gpu": "cuda"}
_GPU_PLATFORMS = {"gpu", "cuda", "rocm"}  # what JAX and torch call a GPU
_NVIDIA_DRIVER = Path("/proc/driver/nvidia/gpus")


@dataclass(frozen=True)
class Device:
    """Where a backend ran: `platform` ('cpu' or 'gpu') and the device's model name."""

    platform: str
    name: str

    @property
    def label(self) -> str:
        """'cpu (AMD EPYC 7763 64-Core Processor)', for tables."""
        return f"{self.platform} ({self.name})"


def check_choice(choice: str) -> str:
    """`choice` lower-cased, if it is one of CHOICES; a ValueError naming it otherwise."""
    value = str(choice).strip().lower()
    if value not in CHOICES:
        raise ValueError(f"device must be one of {', '.join(CHOICES)}, got {choice!r}")
    return value


def requested() -> str:
    """The device this run asked for: DEZERO_BENCH_DEVICE, `cpu` when unset."""
    try:
        return check_choice(os.environ.get(DEVICE_ENV, "cpu"))
    except ValueError as error:
        raise ValueError(f"{DEVICE_ENV}: {error}") from None


def configure(choice: str | None = None) -> None:
    """Pin JAX to `choice` (default: `requested()`) and record it for child processes.

    Must run before JAX initialises its backends (its first array or `jax.devices()`);
    after that its platform is fixed and this has no effect on it, which the device
    recorded by `Backend.device()` and the tests then show.

    A bad DEZERO_BENCH_DEVICE does not fail `bench.machine.configure()`: JAX gets the CPU and the
    value stays, so `requested()` names it where the run uses it (the CLI: one line, exit 2).
    """
    if choice is None:
        try:
            choice = requested()
        except ValueError:
            _pin_jax("cpu")
            return
    choice = check_choice(choice)
    os.environ[DEVICE_ENV] = choice
    if choice == "gpu":
        # each xdist worker or accuracy process takes what it uses, not 75% of the GPU
        os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    _pin_jax(choice)


def _pin_jax(choice: str) -> None:
    os.environ["JAX_PLATFORMS"] = _JAX_PLATFORMS[choice]
    if "jax" in sys.modules:  # JAX read JAX_PLATFORMS when it was imported, before us
        sys.modules["jax"].config.update("jax_platforms", _JAX_PLATFORMS[choice])


def torch_device() -> str:
    """The torch device type tensors are created on: 'cpu', or 'cuda' for a GPU run."""
    return _TORCH_DEVICES[requested()]


@functools.cache
def cpu_name() -> str:
    """The CPU's model name (/proc/cpuinfo on Linux), else what `platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "Hardware") and value.strip():
                return value.strip()
    except OSError:
        pass
    return host.processor() or host.machine() or "unknown CPU"


def cpu() -> Device:
    """This machine's CPU as a Device."""
    return Device("cpu", cpu_name())


def jax_device() -> Device:
    """The device JAX puts new arrays on (its default device)."""
    import jax  # optional and slow to import; asked for only when a jax backend runs

    device = jax.devices()[0]
    if device.platform == "cpu":
        return cpu()
    return Device("gpu", device.device_kind)


def torch_placement() -> Device:
    """The device the torch backend creates its tensors on."""
    if torch_device() == "cpu":
        return cpu()
    import torch  # optional; only a GPU run asks

    return Device("gpu", torch.cuda.get_device_name(0))


def platform_of(array) -> str:
    """Where `array` lives: 'cpu' or 'gpu', for a numpy array, a dezero Variable, a JAX
    array or a torch tensor; a TypeError for anything else."""
    import numpy as np  # not at import: numpy starts its BLAS pool before configure() pins it

    data = getattr(array, "data", None)
    if isinstance(data, np.ndarray) and not isinstance(array, np.ndarray):
        array = data  # a dezero Variable holds a numpy array
    if isinstance(array, np.ndarray | np.generic):
        return "cpu"
    if callable(getattr(array, "devices", None)):  # a JAX array (possibly sharded)
        platforms = {d.platform for d in array.devices()}
    elif hasattr(getattr(array, "device", None), "type"):  # a torch tensor
        platforms = {array.device.type}
    elif hasattr(array, "place"):  # a paddle tensor
        platforms = {"cpu" if array.place.is_cpu_place() else "gpu"}
    elif isinstance(getattr(array, "device", None), str):  # tensorflow, tinygrad
        platforms = {_named_platform(array.device)}
    else:
        raise TypeError(f"cannot tell where a {type(array).__name__} lives")
    found = {"gpu" if p in _GPU_PLATFORMS else p for p in platforms}
    if len(found) != 1:
        raise ValueError(f"array spans several platforms: {sorted(found)}")
    return found.pop()


def _named_platform(device: str) -> str:
    """'cpu' or 'gpu' for a device named by a string: TensorFlow's '/job:.../device:CPU:0',
    tinygrad's 'CPU' or 'PYTHON' (its interpreter, on the CPU), 'CUDA', ..."""
    kind = device.rpartition("device:")[2].split(":")[0].upper()
    return "cpu" if kind in ("CPU", "PYTHON") else "gpu"


def find_gpu() -> str | None:
    """The name of a GPU this machine offers, or None: torch's view when it is a CUDA build,
    else the NVIDIA driver's list (what a CUDA jaxlib would use). Initialises no JAX."""
    try:
        import torch  # optional: without it, the NVIDIA driver's list answers

        if torch.cuda.is_available():
            return torch.cuda.get_device_name(0)
    except ImportError:
        pass
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return None
    try:
        for info in sorted(_NVIDIA_DRIVER.glob("*/information")):
            for line in info.read_text().splitlines():
                key, _, value = line.partition(":")
                if key.strip() == "Model" and value.strip():
                    return value.strip()
    except OSError:
        pass
    return None


def unavailable(choice: str) -> str | None:
    """Why this machine cannot run on `choice`, or None when it can (the CPU always can)."""
    if check_choice(choice) == "gpu" and find_gpu() is None:
        return "no GPU found (torch sees no CUDA device and the NVIDIA driver lists none)"
    return None
