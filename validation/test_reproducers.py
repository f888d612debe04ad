"""The findings' standalone scripts (results/findings/): each one computes exactly what the
harness's backend computes on the same case, exits 1 exactly while that is still a finding,
and is what the generator writes today."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench.backends import BACKENDS
from bench.workloads.chains import make_chain
from bench.workloads.ops import OPS
from validation import numpy_exp
from validation.accuracy import read_accuracy
from validation.depth_report import NO_SCRIPT, root_causes, script_name
from validation.reference.chains import reference
from validation.reproducers import NUMPY_VJPS, reproducers

RESULTS = Path(__file__).resolve().parents[1] / "results"
KERNEL_SCRIPT = RESULTS / "findings" / numpy_exp.SCRIPT_NAME
SCRIPTS = sorted(p for p in (RESULTS / "findings").glob("*.py") if p != KERNEL_SCRIPT)
ERROR_LINE = re.compile(r"error: ([\d,.]+) ULP of (float\d+) \(finding above ([\d,.]+)\)")


def _header(path, name):
    return re.search(rf"^{name} = (.*)$", path.read_text(), re.MULTILINE).group(1)


@pytest.mark.parametrize("name", sorted(NUMPY_VJPS))
def test_numpy_scripts_reverse_pass_is_the_registrys_vjp_bit_for_bit(name):
    rng = np.random.default_rng(0)
    a, b = (rng.uniform(0.5, 2.0, 7).astype(np.float32) for _ in range(2))
    y = OPS[name].np_forward(*((a, b) if OPS[name].arity == 2 else (a,)))
    gy = rng.uniform(0.5, 1.5, 7).astype(np.float32)
    want = OPS[name].np_vjp(gy, *((a, b) if OPS[name].arity == 2 else (a,)), y)
    scope = {"np": np, "gy": gy, "a": a, "b": b, "y": y}
    got = [eval(f.format(gy="gy", a="a", b="b", y="y"), scope) for f in NUMPY_VJPS[name]]
    for g, w in zip(got, want, strict=True):
        assert np.array_equal(np.broadcast_to(g, a.shape), np.broadcast_to(w, a.shape)), name


def test_every_finding_has_a_committed_script():
    causes = root_causes(read_accuracy(RESULTS / "accuracy.csv"))
    names = {script_name(c) for c in causes.itertuples(index=False)}
    assert names - {None} and names - {None} == {p.name for p in SCRIPTS}
    # a finding without one says so in REPORT: only weights chains whose engines are all
    # numpy-based (no engine there has a script writer)
    for cause in causes.itertuples(index=False):
        if script_name(cause) is None:
            assert cause.family == "mlp" and "torch" not in cause.backends, cause
    if None in names:
        assert NO_SCRIPT in (RESULTS / "REPORT.md").read_text()
    assert KERNEL_SCRIPT.exists()


def test_scripts_are_what_the_generator_writes():
    scripts = reproducers(read_accuracy(RESULTS / "accuracy.csv"))
    for script in scripts:
        assert (RESULTS / "findings" / script.name).read_text() == script.text, script.name


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_script_reproduces_what_the_harness_measures_here(path):
    """The script's error is the harness backend's on this machine and installed version, to
    the rounding of the printout; it exits 1 iff that is above its finding threshold (0: the
    finding does not show in this version on this machine, which the output says)."""
    engine, family, dtype = path.stem.split("-")
    if "jax" in engine:
        pytest.importorskip("jax")
    pytest.importorskip(engine.partition("_")[0])
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300)
    match = ERROR_LINE.search(done.stdout)
    assert match and done.returncode in (0, 1), done.stdout + done.stderr
    printed, threshold = (float(v.replace(",", "")) for v in match.group(1, 3))
    assert done.returncode == int(printed > threshold)

    depth = int(_header(path, "DEPTH"))
    chain = make_chain(family, depth, 1 if family != "mlp" else 16)
    x = np.asarray(chain.x, dtype=dtype)
    params = tuple(np.asarray(p, dtype=dtype) for p in chain.params)
    _, grads = BACKENDS[engine].prepare(chain, np.dtype(dtype)).value_and_grad(x, params)
    exact = np.asarray(reference(family, depth, chain.width, 0, dtype).grads[0], np.float64)
    ulp = np.spacing(np.abs(exact).astype(dtype)).astype(np.float64)
    harness = float(np.max(np.abs(np.asarray(grads[0], np.float64) - exact) / ulp))
    assert abs(harness - printed) <= 0.05 + 1e-6 * harness, (harness, printed)


def test_numpy_exp_script_is_what_the_generator_writes():
    assert KERNEL_SCRIPT.read_text() == numpy_exp.script_text()


def test_numpy_exp_script_reproduces_on_avx512_numpy():
    """Wrong roundings while numpy dispatches its AVX-512 exp (X86_V4); elsewhere the
    script runs and says what this CPU and numpy give (its exit status is recorded)."""
    pytest.importorskip("mpmath")
    done = subprocess.run(
        [sys.executable, str(KERNEL_SCRIPT)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode in (0, 1) and "numpy.exp" in done.stdout, done.stdout + done.stderr
    found = np.__config__.CONFIG.get("SIMD Extensions", {}).get("found") or []
    if "X86_V4" not in found and "AVX512_SKX" not in found:
        pytest.skip(f"no AVX-512 target in numpy {np.__version__} here (exit {done.returncode})")
    assert done.returncode == 1, done.stdout
