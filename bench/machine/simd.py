"""The CPU features that decide how a backend's kernels round: its SIMD level.

The same numpy wheel runs different `exp`/`sin` kernels on an AVX2 and an AVX-512 CPU
(numpy dispatches at run time), and their roundings differ: over a chain of 10^5 ops a
small bias adds up to thousands of ULPs. So every record says which SIMD level each math
library chose, and `compare` says when two records' levels differ.

- numpy (dezero, numpy and autograd compute with it): `np.__config__.CONFIG`'s
  "SIMD Extensions", its compiled baseline and the dispatched targets this CPU supports.
- torch: `torch.backends.cpu.get_cpu_capability()`, when torch is installed.
- XLA (jax): it compiles for the host CPU unless XLA_FLAGS caps it with
  `--xla_cpu_max_isa`; that is what is recorded, without importing jax.
"""

from __future__ import annotations

import functools
import os

LIBRARIES = ("numpy", "torch", "xla")
_ISA_FLAG = "--xla_cpu_max_isa="


@functools.cache
def numpy_level() -> str:
    """'baseline X86_V2; dispatched X86_V3 X86_V4 AVX512_ICL', or 'unknown' (an old numpy)."""
    import numpy as np  # not at import: numpy starts its BLAS pool before configure() pins it

    found = getattr(np, "__config__", None) and np.__config__.CONFIG.get("SIMD Extensions")
    if not found:
        return "unknown"
    baseline = " ".join(found.get("baseline") or []) or "none"
    return f"baseline {baseline}; dispatched {' '.join(found.get('found') or []) or 'none'}"


@functools.cache
def torch_level() -> str | None:
    """torch's CPU capability ('AVX2', 'AVX512', 'DEFAULT'...); None without torch."""
    try:
        import torch  # optional
    except ImportError:
        return None
    try:
        return str(torch.backends.cpu.get_cpu_capability())
    except (AttributeError, RuntimeError):  # a torch without it
        return "unknown"


def xla_level() -> str:
    """The ISA XLA compiles jax for: 'host', or the --xla_cpu_max_isa cap in XLA_FLAGS."""
    for flag in os.environ.get("XLA_FLAGS", "").split():
        if flag.startswith(_ISA_FLAG):
            return flag.removeprefix(_ISA_FLAG)
    return "host"


def levels() -> dict[str, str]:
    """library -> its SIMD level, for every library installed (xla: whether or not it is)."""
    out = {"numpy": numpy_level(), "torch": torch_level(), "xla": xla_level()}
    return {library: level for library, level in out.items() if level is not None}


def describe(library: str) -> str:
    """One library's level as 'numpy: baseline ...', for a table cell."""
    level = levels().get(library)
    return f"{library}: {level}" if level is not None else ""


def compare_note(baseline_info: dict, candidate_info: dict) -> str | None:
    """The line `compare` prints when two benchmark records' SIMD levels differ (or one does
    not say), from their `machine_info`; None when they agree."""
    found = differences(baseline_info.get("bench_simd"), candidate_info.get("bench_simd"))
    if not found:
        return None
    return (
        f"note: the two runs' SIMD levels differ ({'; '.join(found)}): their kernels round "
        "and run differently, so a change may come from the machine, not the code"
    )


def differences(a: dict | None, b: dict | None) -> list[str]:
    """How two records' `levels()` differ, one phrase per library both recorded; a record
    without levels (older results) is one phrase saying so."""
    if not a or not b:
        return [] if a == b else ["one of the two records does not say its SIMD levels"]
    return [
        f"{library} {a[library]!r} vs {b[library]!r}"
        for library in LIBRARIES
        if library in a and library in b and a[library] != b[library]
    ]
