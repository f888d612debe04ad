"""`python -m validation {run,baseline,check}`: the accuracy sweep, the baseline, the gate."""

from __future__ import annotations

import argparse
import sys
import time

from validation import gate
from validation.accuracy import PROFILES, run_accuracy
from validation.tables import write_accuracy


def _progress(case, done, total):
    print(
        f"{time.strftime('%H:%M:%S')} [{done}/{total}] {case.family} depth {case.depth:,} "
        f"width {case.width} {case.dtype}",
        file=sys.stderr,
        flush=True,
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m validation", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="accuracy sweep -> results/accuracy.csv and .md")
    run.add_argument("--profile", choices=sorted(PROFILES), default="full")
    run.add_argument("--backends", nargs="+")
    run.add_argument("--families", nargs="+")
    run.add_argument("--depths", nargs="+", type=int)
    run.add_argument("--results", default="results")
    run.add_argument("--jobs", type=int, default=1, help="processes (cases are independent)")
    sub.add_parser("baseline", help=f"rewrite {gate.BASELINE_PATH.name} from the CI grid")
    sub.add_parser("check", help="run the CI gate; exit 1 on any regression")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    if args.command == "run":
        df = run_accuracy(
            args.profile,
            args.backends,
            args.families,
            args.depths,
            progress=_progress,
            jobs=args.jobs,
        )
        for path in write_accuracy(df, args.results):
            print(f"wrote {path}")
    elif args.command == "baseline":
        df = run_accuracy("ci", backends=[gate.GATED], progress=_progress)
        print(f"wrote {gate.write_baseline(df)}")
    else:
        messages = gate.gate_messages(gate.ci_accuracy(), gate.read_baseline())
        print("\n".join(messages) or "accuracy gate: pass")
        if messages:
            return 1
    print(f"{args.command} took {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
