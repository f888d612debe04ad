"""Running the pytest-benchmark suite in a subprocess, with a progress bar and a summary.

The suite runs as `pytest --benchmark-only` in a child process (profile and dtype passed as
DEZERO_BENCH_PROFILE / DEZERO_BENCH_DTYPE, filters and per-test events through the
`bench.timing.progress` plugin), so a crash in one framework cannot take the CLI down with it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from bench.backends import BACKENDS
from bench.files.table_format import markdown_table
from bench.workloads.profiles import PROFILES, plan

REPO = Path(__file__).resolve().parents[2]
CHAINS_SUITE = "bench/timing/test_benchmarks.py"
PER_CASE_OVERHEAD_S = 0.02  # pytest and prepare() per case, for the progress estimate


def filter_tag(backends=None, families=None, depths=None) -> str:
    """'' for an unfiltered run, else e.g. '-dezero-sin-d1000': a filtered run writes its own
    JSON, so it never overwrites a full run's (`tables` pools them, latest first)."""
    parts = [*(backends or ()), *(families or ())]
    parts += [f"d{d}" for d in depths or ()]
    return "".join(f"-{p}" for p in parts)


def _estimates(profile_name: str, families=None) -> dict[tuple, float]:
    """(backend, family, depth, width, pass) -> estimated seconds, for a weighted ETA."""
    return {
        (c.backend, c.family, c.depth, c.width, c.pass_): seconds + PER_CASE_OVERHEAD_S
        for c, _, seconds in plan(PROFILES[profile_name], list(BACKENDS), families)
    }


def _case_key(case: dict) -> tuple:
    return tuple(case.get(k) for k in ("backend", "family", "depth", "width", "pass"))


def _case_label(case: dict) -> str:
    if case.get("backend") is None:
        return case["nodeid"].rsplit("::", 1)[-1]
    return (
        f"{case['backend']} {case['family']} d{case['depth']:,} w{case['width']:,} {case['pass']}"
    )


def run_benchmarks(
    args, json_path: Path, log_path: Path, suite: str = CHAINS_SUITE, extra_env: dict | None = None
) -> tuple[int, list[dict]]:
    """Run `suite` in a subprocess; returns pytest's exit code and one event per test.

    `args` carries profile, dtype, backends, families, depths and quiet (the `run` command's);
    `extra_env` adds variables for the suite (the workloads' filter).
    """
    read_fd, write_fd = os.pipe()
    wanted = {"backends": args.backends, "families": args.families, "depths": args.depths}
    # PYTEST_* from an enclosing pytest (xdist worker ids, PYTEST_ADDOPTS=-n ...) would make
    # pytest-benchmark switch itself off: the subprocess's command line says all it needs.
    env = (
        {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        | {
            "DEZERO_BENCH_PROFILE": args.profile,
            "DEZERO_BENCH_DTYPE": args.dtype or "float64",
            "DEZERO_BENCH_FILTER": json.dumps(wanted),
            "DEZERO_BENCH_PROGRESS_FD": str(write_fd),
        }
        | (extra_env or {})
    )
    command = [
        sys.executable,
        "-m",
        "pytest",
        suite,
        "--benchmark-only",
        f"--benchmark-json={json_path}",
        "-p",
        "bench.timing.progress",
        "-p",
        "no:cacheprovider",
        "-rs",
        "-q",
    ]
    estimates = _estimates(args.profile, args.families)
    done: list[dict] = []
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, pass_fds=(write_fd,)
        )
        os.close(write_fd)  # the child holds the only write end: EOF when it exits
        bar, weights = None, {}
        try:
            with os.fdopen(read_fd) as events:
                for line in events:
                    event = json.loads(line)
                    if event["event"] == "collected":
                        cases = event["cases"]
                        # whole milliseconds of estimated time: integer steps add up to the
                        # total exactly (float ones overshoot it: a warning, a negative ETA)
                        weights = {
                            c["nodeid"]: max(1, round(1000 * estimates.get(_case_key(c), 1.0)))
                            for c in cases
                        }
                        labels = {c["nodeid"]: _case_label(c) for c in cases}
                        bar = tqdm(
                            total=sum(weights.values()),
                            disable=args.quiet,
                            desc=f"benchmarks ({args.profile}, {len(cases)} cases)",
                            bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}"
                            "{postfix}",
                        )
                        continue
                    done.append(event | {"label": labels.get(event["nodeid"], event["nodeid"])})
                    if bar is not None:
                        bar.set_postfix_str(f"{len(done)}/{len(labels)} {done[-1]['label']}")
                        bar.update(weights.pop(event["nodeid"], 0))  # each case counted once
        except KeyboardInterrupt:
            # the child got the same Ctrl-C from the terminal, or not (a signal sent to this
            # process alone): stop it either way, so no benchmark keeps running on its own
            _stop(process)
            raise
        finally:
            if bar is not None:
                bar.close()
        code = process.wait()
    return code, done


def summary(events: list[dict]) -> str:
    """Passed/skipped/failed per backend as a Markdown table, then skip reasons by pattern."""
    counts = Counter((e["label"].split(" ", 1)[0], e["outcome"]) for e in events)
    backends = list(dict.fromkeys(e["label"].split(" ", 1)[0] for e in events))
    outcomes = ("passed", "skipped", "failed")
    table = pd.DataFrame(
        [{"backend": b, **{o: counts[(b, o)] for o in outcomes}} for b in backends]
    )
    text = markdown_table(table)
    # skip reasons differ only in their estimates: count them by pattern
    reasons = Counter(re.sub(r"\d[\d.,e+-]*", "#", e["reason"]) for e in events if e.get("reason"))
    for reason, count in reasons.most_common():
        text += f"\n{count:5d} skipped: {reason}"
    return text


def _stop(process: subprocess.Popen, grace_s: float = 10.0) -> None:
    """Terminate the benchmark subprocess, kill it if it does not end within `grace_s`."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
