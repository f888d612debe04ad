"""`compare`: did a change make dezero slower? Two pytest-benchmark runs, one verdict per case.

The machines this runs on drift by up to 2x within a run, so raw times of two runs cannot be
compared. Each case (family, depth, width, dtype, pass) is instead measured as dezero's time
*relative to a yardstick* timed on the same case in the same run, moments apart (the suite
runs a group's backends back to back): the hand-written numpy tape by default. Per round,
ratio_i = dezero's round i / the yardstick's round i, from the rounds pytest-benchmark keeps
in `stats.data`. The two runs' per-round ratios are compared with a one-sided Mann-Whitney U
test (scipy), and a case is a regression only when both hold:

- the median ratio grew by more than `threshold` (default 10 %): noise alone can make a
  tiny shift significant over many rounds, and a shift that small is not worth failing on;
- p < `alpha` (default 0.01): a single slow burst of the machine is not a slowdown.

A case with too few rounds to reach `alpha` at all is reported, never flagged.
pytest-benchmark's own `--benchmark-compare-fail` compares raw times of two runs (e.g.
`min:10%`); that answers the question on a quiet machine, not on a drifting one.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from bench.inputs import InputError, read_benchmark_json

GATED = "dezero"
YARDSTICK = "numpy"
CASE_KEYS = ("family", "depth", "width", "dtype", "pass")
THRESHOLD = 0.10
ALPHA = 0.01
SLOWER, FASTER, SAME, TOO_FEW = "slower", "faster", "same", "too few rounds"


def _case(bench: dict) -> tuple | None:
    extra = bench.get("extra_info") or {}
    case = tuple(extra.get(k) for k in CASE_KEYS)
    if any(v is None for v in case[:3]) or case[4] is None:
        return None
    return (*case[:3], case[3] or "float64", case[4])


def round_samples(document: dict, path, backend: str) -> dict[tuple, np.ndarray]:
    """Case -> `backend`'s per-round seconds in a checked pytest-benchmark document."""
    out = {}
    for bench in document["benchmarks"]:
        extra = bench.get("extra_info") or {}
        case = _case(bench)
        if extra.get("backend") != backend or case is None:
            continue
        data = bench["stats"].get("data")
        if not data:
            raise InputError(
                path,
                f"benchmark {bench.get('name')!r} has no per-round samples (stats.data); "
                "record runs with `python -m bench run` or pytest --benchmark-json",
            )
        out[case] = np.asarray(data, dtype=float)
    return out


def per_round_ratios(document: dict, path, yardstick: str | None) -> dict[tuple, np.ndarray]:
    """Case -> dezero's round i / the yardstick's round i (rounds beyond the shorter list
    are dropped); raw dezero seconds when `yardstick` is None."""
    gated = round_samples(document, path, GATED)
    if not gated:
        raise InputError(path, f"holds no {GATED} benchmarks to compare")
    if yardstick is None:
        return gated
    measured = round_samples(document, path, yardstick)
    if not measured:
        raise InputError(path, f"holds no {yardstick} benchmarks to use as the yardstick")
    ratios = {}
    for case, times in gated.items():
        if case in measured:
            n = min(len(times), len(measured[case]))
            ratios[case] = times[:n] / measured[case][:n]
    return ratios


def min_p_value(n1: int, n2: int) -> float:
    """The smallest one-sided Mann-Whitney p-value reachable with n1 and n2 samples."""
    return 1.0 / math.comb(n1 + n2, n1)


def compare_runs(
    baseline: dict[tuple, np.ndarray],
    candidate: dict[tuple, np.ndarray],
    threshold: float = THRESHOLD,
    alpha: float = ALPHA,
) -> pd.DataFrame:
    """One row per case in both runs: medians, change, one-sided p-values, verdict."""
    from scipy.stats import mannwhitneyu

    rows = []
    for case in sorted(set(baseline) & set(candidate), key=str):
        old, new = baseline[case], candidate[case]
        change = float(np.median(new) / np.median(old))
        p_slower = float(mannwhitneyu(new, old, alternative="greater").pvalue)
        p_faster = float(mannwhitneyu(new, old, alternative="less").pvalue)
        if min_p_value(len(old), len(new)) >= alpha:
            verdict = TOO_FEW
        elif change > 1 + threshold and p_slower < alpha:
            verdict = SLOWER
        elif change < 1 / (1 + threshold) and p_faster < alpha:
            verdict = FASTER
        else:
            verdict = SAME
        rows.append(
            dict(zip(CASE_KEYS, case))
            | {
                "baseline_ratio": float(np.median(old)),
                "candidate_ratio": float(np.median(new)),
                "change": change,
                "p_value": p_slower if change >= 1 else p_faster,
                "rounds": f"{len(old)}/{len(new)}",
                "verdict": verdict,
            }
        )
    return pd.DataFrame(rows)


def compare_files(
    baseline_path, candidate_path, threshold=THRESHOLD, alpha=ALPHA, yardstick=YARDSTICK
) -> pd.DataFrame:
    """`compare_runs` on two pytest-benchmark JSON files (both checked first)."""
    documents = [read_benchmark_json(p) for p in (baseline_path, candidate_path)]
    base, cand = (
        per_round_ratios(d, p, yardstick)
        for d, p in zip(documents, (baseline_path, candidate_path))
    )
    table = compare_runs(base, cand, threshold, alpha)
    if table.empty:
        raise InputError(candidate_path, f"shares no {GATED} case with {baseline_path}")
    return table


def newest_run(results: Path, profile: str, exclude: Path) -> Path | None:
    """The most recently written benchmark-<profile>-*.json under `results` (runs/ too)."""
    found = [
        p
        for p in Path(results).rglob(f"benchmark-{profile}-*.json")
        if p.resolve() != Path(exclude).resolve()
    ]
    return max(found, key=lambda p: p.stat().st_mtime, default=None)


def render_markdown(table: pd.DataFrame, yardstick: str | None, threshold: float) -> str:
    """The comparison as a Markdown table, slowest change first, with a one-line legend."""
    from bench.table_format import markdown_table

    ratio = f"dezero / {yardstick}" if yardstick else "dezero seconds"
    shown = table.sort_values("change", ascending=False)
    view = pd.DataFrame(
        {
            "case": [
                f"{r['family']} d{r['depth']:,} w{r['width']:,} {r['dtype']} {r['pass']}"
                for _, r in shown.iterrows()
            ],
            f"baseline ({ratio})": shown["baseline_ratio"].map("{:.4g}".format),
            f"candidate ({ratio})": shown["candidate_ratio"].map("{:.4g}".format),
            "change": shown["change"].map(lambda c: f"{(c - 1) * 100:+.1f} %"),
            "p-value": shown["p_value"].map("{:.2g}".format),
            "rounds": shown["rounds"],
            "verdict": shown["verdict"],
        }
    )
    legend = (
        f"Per-round {ratio} (median), one-sided Mann-Whitney U; 'slower' = change above "
        f"+{threshold:.0%} with p below the gate's alpha."
    )
    return markdown_table(view) + "\n\n" + legend + "\n"
