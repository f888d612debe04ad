"""`compare`: did a change make dezero slower? Two pytest-benchmark runs, one verdict per family.

The machines this runs on drift by up to 2x within a run, so raw times of two runs cannot be
compared. Each case (family, depth, width, dtype, pass) is measured as dezero's time
*relative to a yardstick* timed on the same case in the same run, moments apart (the suite
runs a group's backends back to back): the hand-written numpy tape by default. The ratio
uses each backend's fastest round (`min`, pytest-benchmark's own default for comparisons):
other processes only ever add time, so the fastest round is the least disturbed one.

Measured on the 2-core shared machine (see README), one case's ratio still moves by up to 2x
between two runs of the same code, and a Mann-Whitney U test on one case's per-round ratios
flags almost every clean-vs-clean comparison: rounds within a run are not independent of
that run's luck. What is stable is a family's cases taken together. So the gate, per chain
family, takes the per-case changes (candidate ratio / baseline ratio) and fails when both:

- their median grew by more than `threshold` (default 10 %): the median, because one run's
  bad luck can make a single case 4x slower, and
- a one-sided Wilcoxon signed-rank test across the family's cases gives p < `alpha`
  (default 0.05): most cases moved up, not one or two noisy ones.

A family of few cases cannot reach p < `alpha` at all (n cases give p >= 0.5**n); when its
median moved beyond the threshold anyway it is "too few cases", and the gate says so in its
summary line instead of calling it a pass. Exit codes: 0 every family judged and none
slower, 1 a family slower, 2 a bad file or argument, 3 none slower but a family not judged.
Runs of different profiles or machines are still compared on their shared cases, with a note
naming the difference (`run_differences`).

Each case's change and the Mann-Whitney p-value of its per-round ratios are printed too, to
say where a slowdown sits; they do not decide the exit code. pytest-benchmark's own
`--benchmark-compare-fail=min:10%` compares raw times of saved runs: the right tool on a
quiet, dedicated machine, not on a drifting one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bench.files.inputs import InputError, read_benchmark_json
from bench.files.table_format import markdown_table

GATED = "dezero"
YARDSTICK = "numpy"
CASE_KEYS = ("family", "depth", "width", "dtype", "pass")
THRESHOLD = 0.10
ALPHA = 0.05
MIN_ROUNDS = 3  # cases timed fewer times (the graph-memory record) are left out
SLOWER, FASTER, SAME, TOO_FEW = "slower", "faster", "same", "too few cases"


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
        times = np.asarray(data, dtype=float)
        if not np.all(times > 0):  # a ratio of fastest rounds needs a time to divide by
            raise InputError(
                path,
                f"benchmark {bench.get('name')!r} has a round of {times.min():g} s; the gate "
                "compares positive times only",
            )
        out[case] = times
    return out


def paired_samples(document: dict, path, yardstick: str | None) -> dict[tuple, tuple]:
    """Case -> (dezero's per-round seconds, the yardstick's, or None without a yardstick)."""
    gated = round_samples(document, path, GATED)
    if not gated:
        raise InputError(path, f"holds no {GATED} benchmarks to compare")
    if yardstick is None:
        return {case: (times, None) for case, times in gated.items()}
    measured = round_samples(document, path, yardstick)
    if not measured:
        raise InputError(path, f"holds no {yardstick} benchmarks to use as the yardstick")
    return {case: (times, measured[case]) for case, times in gated.items() if case in measured}


def _fastest(times: np.ndarray) -> float:
    return float(np.min(times))


def case_table(
    baseline: dict[tuple, tuple[np.ndarray, np.ndarray | None]],
    candidate: dict[tuple, tuple[np.ndarray, np.ndarray | None]],
) -> pd.DataFrame:
    """One row per case in both runs: ratio of fastest rounds in each run, their change,
    and the one-sided Mann-Whitney p-value of the per-round ratios (informational)."""
    from scipy.stats import mannwhitneyu  # the bench extra, slow to import: compare alone

    rows = []
    for case in sorted(set(baseline) & set(candidate), key=str):
        samples = [s for s in (*baseline[case], *candidate[case]) if s is not None]
        if min(len(s) for s in samples) < MIN_ROUNDS:  # a one-shot measurement: no minimum
            continue
        ratios = []
        for gated, yardstick in (baseline[case], candidate[case]):
            ratios.append(_fastest(gated) / (_fastest(yardstick) if yardstick is not None else 1))
        old, new = (_per_round(*baseline[case]), _per_round(*candidate[case]))
        rows.append(
            dict(zip(CASE_KEYS, case))
            | {
                "baseline_ratio": ratios[0],
                "candidate_ratio": ratios[1],
                "change": ratios[1] / ratios[0],
                "p_rounds": float(mannwhitneyu(new, old, alternative="greater").pvalue),
                "rounds": f"{len(old)}/{len(new)}",
            }
        )
    return pd.DataFrame(rows)


def _per_round(gated: np.ndarray, yardstick: np.ndarray | None) -> np.ndarray:
    if yardstick is None:
        return gated
    n = min(len(gated), len(yardstick))
    return gated[:n] / yardstick[:n]


def family_verdicts(cases: pd.DataFrame, threshold=THRESHOLD, alpha=ALPHA) -> pd.DataFrame:
    """Per family: median change over its cases, Wilcoxon p, verdict."""
    from scipy.stats import wilcoxon  # the bench extra, slow to import: compare alone

    rows = []
    for family, part in cases.groupby("family", sort=True):
        logs = np.log(part["change"].to_numpy())
        change = float(np.exp(np.median(logs)))  # the median change (logs: ratios average)
        n = int(np.count_nonzero(logs))
        p_slower = float(wilcoxon(logs, alternative="greater").pvalue) if n else 1.0
        p_faster = float(wilcoxon(logs, alternative="less").pvalue) if n else 1.0
        beyond = change > 1 + threshold or change < 1 / (1 + threshold)
        if beyond and 0.5 ** len(part) >= alpha:  # the smallest p-value so many cases give
            verdict = TOO_FEW
        elif change > 1 + threshold and p_slower < alpha:
            verdict = SLOWER
        elif change < 1 / (1 + threshold) and p_faster < alpha:
            verdict = FASTER
        else:
            verdict = SAME
        rows.append(
            {
                "family": family,
                "cases": len(part),
                "change": change,
                "p_value": p_slower if change >= 1 else p_faster,
                "verdict": verdict,
            }
        )
    return pd.DataFrame(rows)


def compare_files(
    baseline_path, candidate_path, threshold=THRESHOLD, alpha=ALPHA, yardstick=YARDSTICK
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(case table, family verdicts) of two pytest-benchmark JSON files (both checked first)."""
    documents = [read_benchmark_json(p) for p in (baseline_path, candidate_path)]
    base, cand = (
        paired_samples(d, p, yardstick) for d, p in zip(documents, (baseline_path, candidate_path))
    )
    cases = case_table(base, cand)
    if cases.empty:
        raise InputError(candidate_path, f"shares no {GATED} case with {baseline_path}")
    return cases, family_verdicts(cases, threshold, alpha)


# what decides a machine's speed ratios: a run from another of these is another machine
MACHINE_FIELDS = (
    "node", "machine", "system", "cpu.brand_raw", "cpu.count", "cpu.flags", "bench_threads",
)  # fmt: skip


def run_differences(baseline_path, candidate_path) -> list[str]:
    """One line per way the two runs are not alike (profile, machine): the gate compares
    their shared cases anyway, and its reader should know what was compared with what."""
    infos = [
        read_benchmark_json(p).get("machine_info") or {} for p in (baseline_path, candidate_path)
    ]
    notes = []
    profiles = [info.get("bench_profile") for info in infos]
    if profiles[0] != profiles[1]:
        notes.append(
            f"note: the baseline is a {profiles[0]}-profile run, the candidate a "
            f"{profiles[1]}-profile run: only their shared cases are compared"
        )
    fields = [f for f in MACHINE_FIELDS if _field(infos[0], f) != _field(infos[1], f)]
    if fields:
        notes.append(
            f"note: the runs come from different machines ({', '.join(fields)} differ): "
            "dezero's ratio to the yardstick moves with the CPU, so a change may be the machine's"
        )
    return notes


def _field(info: dict, dotted: str):
    for key in dotted.split("."):
        info = info.get(key) if isinstance(info, dict) else None
    return info


def verdict_line(cases: pd.DataFrame, families: pd.DataFrame, threshold: float, alpha: float):
    """(the summary line, the exit code): 1 when a family is slower; 3 when none is slower
    but a family could not be judged (too few cases for p < alpha at its change); else 0."""
    slower = families[families["verdict"] == SLOWER]
    unjudged = families[families["verdict"] == TOO_FEW]
    judged = len(families) - len(unjudged)
    counted = f"{len(cases)} cases in {len(families)} families"
    not_judged = "; ".join(
        f"{row.family} ({row.cases} cases, {_percent(row.change)})"
        for row in unjudged.itertuples(index=False)
    )
    if len(slower):
        line = f"timing gate: fail ({len(slower)} of {judged} judged families slower; {counted})"
        code = 1
    elif len(unjudged):
        line = f"timing gate: not judged ({judged} of {len(families)} families judged"
        line += f", none slower by > {threshold:.0%}; {counted})"
        code = 3
    else:
        return f"timing gate: pass ({counted}, none slower by > {threshold:.0%})", 0
    if len(unjudged):
        line += f"; could not judge, too few cases for p < {alpha:g} at their change: {not_judged}"
    return line, code


def newest_run(results: Path, profile: str, exclude: Path) -> Path | None:
    """The most recently written benchmark-<profile>-*.json under `results` (runs/ too)."""
    found = [
        p
        for p in Path(results).rglob(f"benchmark-{profile}-*.json")
        if p.resolve() != Path(exclude).resolve()
    ]
    return max(found, key=lambda p: p.stat().st_mtime, default=None)


def render_markdown(
    cases: pd.DataFrame, families: pd.DataFrame, yardstick: str | None, threshold: float
) -> str:
    """The verdict per family, then every case (largest change first), as Markdown."""
    ratio = f"dezero / {yardstick}" if yardstick else "dezero seconds"
    verdicts = pd.DataFrame(
        {
            "family": families["family"],
            "cases": families["cases"].astype(str),
            "change (median)": families["change"].map(_percent),
            "p-value (Wilcoxon)": families["p_value"].map("{:.2g}".format),
            "verdict": families["verdict"],
        }
    )
    shown = cases.sort_values("change", ascending=False)
    detail = pd.DataFrame(
        {
            "case": [
                f"{r['family']} d{r['depth']:,} w{r['width']:,} {r['dtype']} {r['pass']}"
                for _, r in shown.iterrows()
            ],
            f"baseline ({ratio})": shown["baseline_ratio"].map("{:.4g}".format),
            f"candidate ({ratio})": shown["candidate_ratio"].map("{:.4g}".format),
            "change": shown["change"].map(_percent),
            "p (rounds)": shown["p_rounds"].map("{:.2g}".format),
            "rounds": shown["rounds"],
        }
    )
    legend = (
        f"Ratios of each backend's fastest round ({ratio}). A family is 'slower' when its "
        f"cases' median change is above +{threshold:.0%} and a one-sided Wilcoxon "
        "signed-rank test across them gives p below alpha; 'p (rounds)' (Mann-Whitney U on "
        "one case's per-round ratios) is informational."
    )
    return "\n\n".join([markdown_table(verdicts), markdown_table(detail), legend]) + "\n"


def _percent(change: float) -> str:
    return f"{(change - 1) * 100:+.1f} %"
