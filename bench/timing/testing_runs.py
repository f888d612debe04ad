"""Small pytest-benchmark documents for tests: the shape the suite writes, any samples.

Tests of `tables`, `compare` and the results layout feed these instead of timing anything,
so they stay fast and their numbers are known.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def benchmark_entry(backend: str, family: str, depth: int, width: int, pass_: str, data):
    """One `benchmarks` entry with stats computed from the per-round samples `data`."""
    data = [float(v) for v in data]
    q1, median, q3 = np.percentile(data, [25, 50, 75])
    stats = {
        "min": min(data),
        "max": max(data),
        "mean": float(np.mean(data)),
        "stddev": float(np.std(data, ddof=1)) if len(data) > 1 else 0.0,
        "rounds": len(data),
        "median": float(median),
        "iqr": float(q3 - q1),
        "q1": float(q1),
        "q3": float(q3),
        "iterations": 1,
        "data": data,
    }
    name = f"test_chain[{family}-d{depth}-w{width}-{pass_}-{backend}]"
    extra = {
        "backend": backend,
        "backend_version": "0",
        "family": family,
        "depth": depth,
        "width": width,
        "op_count": depth,
        "dtype": "float64",
        "profile": "quick",
        "pass": pass_,
    }
    return {
        "group": f"{family}-d{depth}-w{width}-{pass_}",
        "name": name,
        "fullname": f"bench/test_benchmarks.py::{name}",
        "params": {},
        "extra_info": extra,
        "stats": stats,
    }


def benchmark_document(entries, profile: str = "quick", commit: str = "0123456789") -> dict:
    """A whole run: machine_info and commit_info as pytest-benchmark records them."""
    return {
        "machine_info": {"node": "testbox", "cpu": {"brand_raw": "test cpu"},
                         "bench_profile": profile},
        "commit_info": {"id": commit, "dirty": False},
        "benchmarks": list(entries),
        "datetime": "2026-01-01T00:00:00",
        "version": "5.1.0",
    }  # fmt: skip


def sin_run(dezero_scale: float = 1.0, rounds: int = 20, seed: int = 0, noise: float = 0.05):
    """dezero and numpy on sin at depths 1, 10, 100, both passes; numpy takes 1 us per op,
    dezero 4 us x `dezero_scale`, each round with `noise` relative scatter (lognormal)."""
    rng = np.random.default_rng(seed)
    entries = []
    for depth in (1, 10, 100):
        for pass_ in ("forward", "backward"):
            for backend, per_op in (("dezero", 4e-6 * dezero_scale), ("numpy", 1e-6)):
                data = per_op * depth * rng.lognormal(0.0, noise, rounds)
                entries.append(benchmark_entry(backend, "sin", depth, 1, pass_, data))
    return benchmark_document(entries)


def write_json(path, document) -> Path:
    path = Path(path)
    path.write_text(json.dumps(document))
    return path


def default_results(tmp_path: Path, readme_block: tuple[str, str]) -> tuple[Path, Path]:
    """A `results` folder under `tmp_path` holding one default-profile benchmark JSON, and a
    README whose results block (`readme_block`: its begin and end markers) says 'old'."""
    results = Path(tmp_path) / "results"
    results.mkdir()
    document = sin_run(seed=1)
    document["machine_info"]["bench_profile"] = "default"
    write_json(results / "benchmark-default-float64.json", document)
    readme = Path(tmp_path) / "README.md"
    begin, end = readme_block
    readme.write_text(f"# project\n\n{begin}\nold\n{end}\n")
    return results, readme
