"""`compare`: the timing gate. Exit 1 when dezero got slower relative to a yardstick backend
(`bench.timing.gate` judges; this module parses, prints and saves compare.md)."""

from __future__ import annotations

import sys
from pathlib import Path

from bench.cli import args as shared
from bench.files import atomic_write, destinations
from bench.files.destinations import RESULTS
from bench.files.inputs import InputError, read_benchmark_json
from bench.machine import simd
from bench.timing import gate as timing_gate


def add_parser(sub) -> None:
    """Declare `compare` on the CLI's subparsers."""
    compare = sub.add_parser(
        "compare",
        help="timing gate: exit 1 when dezero got slower relative to a yardstick backend",
        description="The timing gate. Exit 0: every chain family judged, none slower; "
        "1: a family slower beyond --threshold with p < --alpha; 2: a bad file or argument; "
        "3: none slower, but a family had too few cases to reach p < --alpha at its change "
        "(not a pass: the summary line names it).",
    )
    compare.add_argument("baseline", type=Path, help="pytest-benchmark JSON of the old code")
    compare.add_argument(
        "candidate",
        type=Path,
        nargs="?",
        help="pytest-benchmark JSON of the new code (default: the newest run of the "
        "baseline's profile under results/)",
    )
    compare.add_argument(
        "--threshold",
        type=shared.fraction,
        default=0.10,
        help="a family fails above this slowdown (median of its cases' ratio changes), "
        "as a fraction (default 0.10 = 10%%)",
    )
    compare.add_argument(
        "--alpha", type=shared.fraction, default=0.05, help="significance level (default 0.05)"
    )
    compare.add_argument(
        "--yardstick",
        choices=[*(b for b in shared.NAMES["backends"] if b != "dezero"), "none"],
        default="numpy",
        help="backend dezero is divided by, case by case (default numpy; none: raw seconds; "
        "not dezero itself, whose ratio is always 1)",
    )
    compare.add_argument("--results", type=Path, default=RESULTS, help="results folder")


def main(args) -> int:
    """The timing gate: 1 when a family's cases got slower beyond the threshold (p < alpha),
    3 when none did but a family could not be judged, 0 when every family passed."""
    candidate = args.candidate
    if candidate is None:
        info = read_benchmark_json(args.baseline).get("machine_info") or {}
        profile = info.get("bench_profile", "*")
        candidate = timing_gate.newest_run(args.results, profile, exclude=args.baseline)
        if candidate is None:
            raise InputError(args.results, f"holds no benchmark-{profile}-*.json to compare")
    yardstick = None if args.yardstick == "none" else args.yardstick
    out = args.results / destinations.RUNS / "compare.md"
    destinations.check_files([out])
    cases, families = timing_gate.compare_files(
        args.baseline, candidate, args.threshold, args.alpha, yardstick
    )
    notes = timing_gate.run_differences(args.baseline, candidate)
    infos = [read_benchmark_json(p).get("machine_info") or {} for p in (args.baseline, candidate)]
    simd_note = simd.compare_note(*infos)
    notes = [*notes, simd_note] if simd_note else list(notes)
    markdown = timing_gate.render_markdown(cases, families, yardstick, args.threshold)
    header = f"`python -m bench compare {args.baseline} {candidate}`\n\n"
    atomic_write.write_text(out, header + "".join(f"{n}\n\n" for n in notes) + markdown)
    print(markdown, end="")
    print(f"wrote {out}")
    for note in notes:
        print(note, file=sys.stderr)
    _name_the_slower(cases, families, args.threshold)
    line, code = timing_gate.verdict_line(cases, families, args.threshold, args.alpha)
    print(line)
    return code


def _name_the_slower(cases, families, threshold: float) -> None:
    """One stderr line per slower family, naming its slowest cases."""
    slower = families[families["verdict"] == timing_gate.SLOWER]
    for _, family in slower.iterrows():
        worst = cases[(cases["family"] == family["family"]) & (cases["change"] > 1 + threshold)]
        named = ", ".join(
            f"d{r['depth']} w{r['width']} {r['dtype']} {r['pass']} x{r['change']:.2f} "
            f"(p {r['p_rounds']:.2g})"
            for _, r in worst.sort_values("change", ascending=False).iterrows()
        )
        print(
            f"SLOWER: dezero {family['family']}: x{family['change']:.2f} over "
            f"{family['cases']} cases (median of ratio changes, Wilcoxon p = "
            f"{family['p_value']:.2g}); slowest: {named}",
            file=sys.stderr,
        )
