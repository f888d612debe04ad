"""The benchmark grid of the active profile, with estimates: `python -m bench.timing.plan`.

Prints how many cases the profile (DEZERO_BENCH_PROFILE, default `default`) has, how many run
within its budget and the estimated seconds of timed work, without timing anything.
"""

from bench.backends import BACKENDS
from bench.workloads.profiles import active_profile, plan


def main() -> int:
    """Print the active profile's plan in one line."""
    chosen = active_profile()
    rows = plan(chosen, list(BACKENDS))
    ran = [r for r in rows if r[1] is None]
    print(f"profile {chosen.name}: {len(rows)} cases, {len(ran)} run, "
          f"{len(rows) - len(ran)} skipped, estimated {sum(r[2] for r in ran):.0f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
