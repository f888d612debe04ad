"""The accuracy sweep: every backend x family x depth x width x dtype against the reference.

One long-form DataFrame, one row per measurement: a backend's value or gradient against the
exact reference (`against == "exact"`), against another backend (pairwise disagreement, in
ULPs at the exact reference), or the seed's central difference (backends `numerical_diff` and
`numerical_diff_best`). The CSV, the Markdown pivot and the CI baseline are views of it.
"""

from __future__ import annotations

import functools
import itertools
import math
import multiprocessing
import signal
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed

import numpy as np
import pandas as pd

from bench.backends import BACKENDS, plugins
from bench.workloads.chains import make_chain
from bench.workloads.profiles import PROFILES, AccuracyCase, Profile, accuracy_cases
from validation import accuracy_cache, finite_diff
from validation.metrics import compare
from validation.reference.chains import case_floor, reference
from validation.vocabulary import ERROR, EXACT, NUMERICAL_DIFF, NUMERICAL_DIFF_BEST, SKIPPED

SEED = 0

COLUMNS = {
    "backend": "string",
    "against": "string",
    "family": "string",
    "depth": "int64",
    "width": "int64",
    "op_count": "int64",
    "dtype": "string",
    "quantity": "string",
    "reference": "string",
    "ref_bits": "int64",
    "eps": "float64",
    "max_abs_ulp": "float64",
    "signed_ulp": "float64",
    "median_abs_ulp": "float64",
    "norm_ulp": "float64",
    "ulp_per_sqrt_depth": "float64",
    "floor_ulp": "float64",
    "excess": "float64",
    "abs_err": "float64",
    "rel_err": "float64",
    "n_elements": "int64",
    "flag": "string",
    "seconds": "float64",
    "version": "string",
    "device": "string",  # where the backend ran: platform and model (see `bench.machine.devices`)
    "device_name": "string",
    "note": "string",
    "simd": "string",  # the SIMD level of the library whose kernels rounded (`Backend.simd_level`)
    "fingerprint": "string",  # what decided the row (`validation.accuracy_cache`)
}
# What a saved accuracy CSV must hold to be merged or tabulated: a row's key and its error.
# Columns added later (device, ...) may be absent from older files; the tables show them blank.
REQUIRED_COLUMNS = (
    "backend", "against", "family", "depth", "width", "dtype", "quantity", "max_abs_ulp", "flag",
)  # fmt: skip


def _quantities(ref, value, grads, outputs) -> dict:
    """name -> (computed, reference) arrays, restricted to the reference's elements."""
    grads = [np.asarray(g) for g in grads]
    if ref.elements is None:
        out = {"value": (np.asarray(value), ref.value), "grad": (grads[0], ref.grads[0])}
    else:
        out = {
            "value": (np.asarray(outputs).ravel()[ref.elements], ref.outputs),
            "grad": (grads[0].ravel()[ref.elements], ref.grads[0]),
        }
    if len(grads) > 1:
        out["grad_params"] = (
            np.concatenate([g.ravel() for g in grads[1:]]),
            np.concatenate([np.ravel(g) for g in ref.grads[1:]]),
        )
    return out


def measure(case: AccuracyCase, backends: Iterable[str], profile: Profile) -> list[dict]:
    """All rows of one case: each backend against the reference, pairwise, finite differences."""
    grid = profile.accuracy
    chain = make_chain(case.family, case.depth, case.width, seed=SEED)
    ref = reference(case.family, case.depth, case.width, SEED, case.dtype)
    dtype = np.dtype(case.dtype)
    x = np.asarray(chain.x, dtype=dtype)
    params = tuple(np.asarray(p, dtype=dtype) for p in chain.params)
    base = {
        "family": case.family,
        "depth": case.depth,
        "width": case.width,
        "op_count": chain.op_count,
        "dtype": case.dtype,
        "reference": ref.kind,
        "ref_bits": ref.bits,
    }
    rows, computed, placed = [], {}, {}
    for name in backends:
        backend = plugins.lookup(name)  # a spawned worker loads the run's plugins here
        placed[name] = _device_fields(backend)
        row = base | {"backend": name, "against": EXACT, "version": backend.version()}
        row |= placed[name]
        note = backend.unsupported(chain, dtype)
        if case.depth > grid.max_depth.get(name, math.inf):
            note = f"depth above {grid.max_depth[name]} for this backend in this profile"
        elif chain.op_count > grid.max_ops_per_backend.get(name, math.inf):
            limit = grid.max_ops_per_backend[name]
            note = f"{chain.op_count} ops, above {limit} for this backend in this profile"
        if note is not None:
            rows.append(row | {"quantity": "grad", "flag": SKIPPED, "note": note})
            continue
        try:
            prepared = backend.prepare(chain, dtype)
            start = time.perf_counter()
            value, grads = prepared.value_and_grad(x, params)
            seconds = time.perf_counter() - start
            outputs = None if ref.elements is None else prepared.forward(x, params)
        except Exception as exc:  # a crash is a measurement too: the gate fails on it
            note = f"{type(exc).__name__}: {exc}"[:300]
            rows.append(row | {"quantity": "grad", "flag": ERROR, "note": note})
            continue
        computed[name] = _quantities(ref, value, grads, outputs)
        for quantity, (got, want) in computed[name].items():
            metrics = compare(got, want, dtype)
            rows.append(row | {"quantity": quantity, "seconds": seconds} | metrics)
    for a, b in itertools.combinations(computed, 2):
        for quantity, (got, want) in computed[a].items():
            other = computed[b][quantity][0]
            if not np.all(np.isfinite(other)):
                continue  # b's own row already says nonfinite
            metrics = compare(got, other.astype(np.longdouble), dtype, at=want)
            row = base | placed[a] | {"backend": a, "against": b, "quantity": quantity}
            rows.append(row | metrics)
    if chain.elementwise and case.width == 1 and case.depth <= grid.fd_max_depth:
        rows += _finite_difference_rows(chain, dtype, ref, base)
    floors = case_floor(case.family, case.depth, case.width, SEED, case.dtype)
    for row in rows:
        ulp = row.get("max_abs_ulp", math.nan)
        row["ulp_per_sqrt_depth"] = ulp / math.sqrt(case.depth)
        # the elementwise reading, as max_abs_ulp is; the depth tables read value and grad
        # only (a parameter's gradient cancels elementwise: the gate judges it normwise)
        if row["against"] == EXACT and row["quantity"] in ("value", "grad"):
            row["floor_ulp"] = floors[row["quantity"]].ulp
            row["excess"] = ulp / row["floor_ulp"]
    return rows


def _device_fields(backend) -> dict:
    device = backend.device()
    return {"device": device.platform, "device_name": device.name, "simd": backend.simd_level()}


def _measure_in_worker(job: tuple[AccuracyCase, list[str]], profile: str | Profile) -> list[dict]:
    case, backends = job
    return measure(case, backends, PROFILES[profile] if isinstance(profile, str) else profile)


def _finite_difference_rows(chain, dtype, ref, base) -> list[dict]:
    base = base | _device_fields(BACKENDS["dezero"])
    prepared = BACKENDS["dezero"].prepare(chain, dtype)
    params = tuple(np.asarray(p, dtype=dtype) for p in chain.params)
    x = np.asarray(chain.x, dtype=dtype)
    estimates = finite_diff.central_differences(lambda v: prepared.forward(v, params), x)
    book = next(e for e in estimates if e[0] == finite_diff.BOOK_EPS)
    best = finite_diff.best_eps(estimates, ref.grads[0])
    rows = []
    for name, (eps, estimate) in ((NUMERICAL_DIFF, book), (NUMERICAL_DIFF_BEST, best)):
        metrics = compare(estimate, ref.grads[0], dtype)
        rows.append(base | {"backend": name, "against": EXACT, "quantity": "grad", "eps": eps})
        rows[-1] |= metrics
    return rows


def default_backends() -> list[str]:
    """Every registered backend whose `available()` says yes."""
    return [name for name, backend in BACKENDS.items() if backend.available()[0]]


def to_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows to the typed long-form DataFrame (missing fields become NA)."""
    df = pd.DataFrame(rows).reindex(columns=list(COLUMNS))
    for column in ("ref_bits", "n_elements"):
        df[column] = df[column].fillna(0)
    return df.astype(COLUMNS)


def run_accuracy(
    profile: str | Profile = "full",
    backends: Iterable[str] | None = None,
    families: Iterable[str] | None = None,
    depths: Iterable[int] | None = None,
    dtypes: Iterable[str] | None = None,
    progress: Callable[[AccuracyCase, int, int], None] | None = None,
    jobs: int = 1,
    executor=None,
    saved: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Measure every case of `profile`'s accuracy grid (`bench.workloads.profiles`), narrowed to the
    given families, depths and dtypes; `progress(case, done, total)` is called after each
    case measured.

    Rows of `saved` (an earlier table) whose fingerprint still holds are kept instead of
    measured (`validation.accuracy_cache`); the frame's `attrs` say how many rows were
    `reused` and `computed`. `jobs > 1` spreads cases over that many processes; rows keep the
    grid's order. `executor` (`validation.executors`: a Dask cluster) runs the cases instead,
    mapped in order.
    """
    profile = PROFILES[profile] if isinstance(profile, str) else profile
    backends = list(backends) if backends is not None else default_backends()
    grid = accuracy_cases(profile, families, depths, dtypes)
    plan = accuracy_cache.plan(grid, backends, profile.accuracy, SEED, saved)
    jobs_todo = plan.jobs()
    results = {}
    total = len(jobs_todo)
    if executor is not None:
        measured = executor.map(functools.partial(_measure_in_worker, profile=profile), jobs_todo)
        for done, (job, case_rows) in enumerate(zip(jobs_todo, measured, strict=True), 1):
            results[job[0]] = case_rows
            if progress is not None:
                progress(job[0], done, total)
    elif jobs > 1 and total > 1:
        # Cases are independent; spawn (not fork) because JAX and torch hold threads. Deepest
        # first, so the long cases do not start last.
        order = sorted(jobs_todo, key=lambda j: -j[0].depth * max(j[0].width, 8))
        context = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_ignore_ctrl_c)
        try:
            # a registered profile travels by name: its MappingProxyType does not pickle
            sent = profile.name if PROFILES.get(profile.name) is profile else profile
            futures = {pool.submit(_measure_in_worker, job, sent): job[0] for job in order}
            for done, future in enumerate(as_completed(futures), 1):
                results[futures[future]] = future.result()
                if progress is not None:
                    progress(futures[future], done, total)
        except KeyboardInterrupt:
            _terminate(pool)
            raise
        pool.shutdown()
    else:
        for done, (case, run) in enumerate(jobs_todo, 1):
            results[case] = measure(case, run, profile)
            if progress is not None:
                progress(case, done, total)
    new = {case: to_frame(rows) for case, rows in results.items()}
    df, reused, computed = accuracy_cache.assemble(plan, new)
    df = df.reindex(columns=list(COLUMNS)).astype(COLUMNS)
    df.attrs.update(reused=reused, computed=computed)
    return df


def _ignore_ctrl_c():
    """Workers leave Ctrl-C to the parent, which stops them: one message, not one traceback
    per worker (JAX's are pages long)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Stop a pool's workers now (shutdown alone would wait for the running cases)."""
    # NOTE: `_processes` is private; concurrent.futures has no public way to kill workers.
    for process in list((pool._processes or {}).values()):
        process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


def read_accuracy(path) -> pd.DataFrame:
    """Read a CSV written by `write_accuracy` or `write_baseline` back with its column types."""
    df = pd.read_csv(path, keep_default_na=False, na_values=[""])
    return df.astype({c: t for c, t in COLUMNS.items() if c in df.columns})
