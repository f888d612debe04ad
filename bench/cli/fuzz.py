"""`fuzz`: random programs in every backend against the exact reference (`validation.fuzz.checker`);
shrunk findings and reproducers under results/fuzz/, or one saved program re-checked."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bench.backends import BACKENDS
from bench.cli import args as shared
from bench.files import destinations
from bench.files.destinations import RESULTS
from bench.report import fuzz_files
from validation.executors import open_executor
from validation.fuzz import checker as fuzzer

# paddle before tensorflow: paddle's library crashes the process when loaded after TensorFlow's
FUZZ_BACKENDS = (
    "dezero",
    "numpy",
    "torch",
    "jax",
    "autograd",
    "mygrad",
    "paddle",
    "tensorflow",
    "tinygrad",
)
# what a replay (one program, in process, printed) has no use for
REPLAY_IGNORES = ("programs", "seconds", "seed", "max_nodes", "jobs", "scheduler", "publish")


def add_parser(sub) -> None:
    """Declare `fuzz` on the CLI's subparsers."""
    fuzz = sub.add_parser(
        "fuzz", help="random programs in every backend against the exact reference"
    )
    fuzz.add_argument(
        "--programs", type=shared.count, help="programs to run (default 100; with --seconds, a cap)"
    )
    fuzz.add_argument(
        "--seconds",
        type=shared.count,
        help="fuzz for about this long: chunks of 25 programs stop starting once it is spent",
    )
    fuzz.add_argument("--seed", type=int, default=0, help="the run's seed (same seed, same run)")
    fuzzable = fuzz_backends()
    fuzz.add_argument(
        "--backends",
        nargs="+",
        choices=fuzzable,
        metavar="NAME",
        help=f"backends to check (of {', '.join(fuzzable)}; default: the installed ones)",
    )
    shared.backend_module_arg(fuzz)
    fuzz.add_argument("--max-nodes", type=shared.count, default=8, help="ops per program, at most")
    fuzz.add_argument("--jobs", type=shared.count, default=1, help="local processes")
    fuzz.add_argument("--scheduler", type=shared.scheduler, help=shared.SCHEDULER_HELP)
    fuzz.add_argument("--out", type=Path, default=RESULTS / "fuzz", help="output folder")
    fuzz.add_argument(
        "--publish",
        nargs="?",
        type=Path,
        const=RESULTS / fuzz_files.RECORD,
        metavar="CSV",
        help="merge the shrunk findings into the committed record (default "
        f"results/{fuzz_files.RECORD}): these engines' rows replaced, others' kept",
    )
    fuzz.add_argument(
        "--replay", type=Path, metavar="PROGRAM_JSON", help="re-check one saved program instead"
    )
    fuzz.set_defaults(fuzz_defaults={name: fuzz.get_default(name) for name in REPLAY_IGNORES})


def main(args) -> int:
    """Fuzz (or replay one program); exit 1 when dezero fails, other backends' are findings."""
    if args.replay is not None:
        _check_replay(args)
    backends = args.backends or [b for b in fuzz_backends() if _installed(b)]
    if args.replay is not None:
        rows = fuzz_files.replay(args.replay, backends)
        print(rows.to_string(index=False))
        return 1 if ((rows["backend"] == "dezero") & (rows["status"] == "fail")).any() else 0
    destinations.check_files([args.out / name for name in fuzz_files.FUZZ_FILES])
    if args.publish is not None:
        _check_publish(args.publish)
    start = time.perf_counter()
    with open_executor(args.jobs, args.scheduler) as executor:
        programs = args.programs or (10**7 if args.seconds else 100)
        rows, findings = fuzzer.run_fuzz(
            args.seed,
            programs,
            backends,
            executor,
            args.max_nodes,
            progress=progress(args.seconds, args.programs),
            seconds=args.seconds,
        )
    seconds = time.perf_counter() - start
    table = fuzz_files.write_results(args.out, rows, findings)
    info = fuzzer.summary(rows, findings)
    print(
        f"{info['programs']} programs in {seconds:.1f} s ({info['programs'] / seconds:.1f}/s), "
        f"backends {', '.join(backends)}; {len(info['ops_covered'])} ops covered: "
        f"{', '.join(info['ops_covered'])}"
    )
    print(table.to_string(index=False) if len(table) else "no findings")
    print(f"wrote {args.out}")
    if args.publish is not None:
        versions = {b: _version(b) for b in backends}
        fuzz_files.publish(
            args.publish, findings, backends, args.seed, info, versions,
            command(backends, info["programs"], args.seed, args.max_nodes),
        )  # fmt: skip
        print(f"merged {len(findings)} finding(s) of {', '.join(backends)} into {args.publish}")
    return 1 if (table["backend"] == "dezero").any() else 0


def _check_replay(args) -> None:
    """--replay takes none of the run's own options, and a program file that loads."""
    given = [n for n, default in args.fuzz_defaults.items() if getattr(args, n) != default]
    if given:
        flags = ", ".join(f"--{n.replace('_', '-')}" for n in given)
        raise argparse.ArgumentError(
            None, f"argument --replay: re-checks one saved program; {flags} do not apply"
        )
    try:
        fuzz_files.load(args.replay)
    except (OSError, ValueError) as error:
        raise argparse.ArgumentError(None, f"argument --replay: {error}") from None


def _check_publish(path: Path) -> None:
    """--publish's record reads (or is not there yet) and may be written, before any work."""
    destinations.check_files([path])
    try:
        fuzz_files.read_published(path)
    except (OSError, ValueError) as error:
        raise argparse.ArgumentError(None, f"argument --publish: {error}") from None


def command(backends, programs: int, seed: int, max_nodes: int) -> str:
    """The command line that runs the same programs again (a --seconds run's count of them)."""
    nodes = f" --max-nodes {max_nodes}" if max_nodes != 8 else ""
    return (
        f"python -m bench fuzz --backends {' '.join(backends)} --programs {programs} "
        f"--seed {seed}{nodes}"
    )


def _version(backend: str) -> str:
    if backend == "numpy":
        import numpy

        return numpy.__version__
    return BACKENDS[backend].version()


def progress(seconds: int | None, programs: int | None):
    """The line printed after each chunk: chunks of all, or with --seconds the time spent
    (its chunk count is only a cap, and none at all without --programs)."""
    start = time.perf_counter()

    def show(chunks_done, chunks, programs_done, findings):
        found = ", ".join(f"{f.backend} {f.failure} ({','.join(f.ops)})" for f in findings)
        where = f"{chunks_done}/{chunks}"
        if seconds:
            spent = min(time.perf_counter() - start, seconds)
            cap = f" of at most {chunks}" if programs else ""
            where = f"{chunks_done} chunks{cap}, {spent:.0f}/{seconds} s"
        print(f"[{where}] {programs_done} programs; findings: {found or 'none'}", flush=True)

    return show


def fuzz_backends() -> list[str]:
    """The built-in fuzz backends, then every plugin engine that offers a fuzz runner."""
    plugins = [n for n, b in BACKENDS.items() if n not in FUZZ_BACKENDS and b.fuzz_runner()]
    return [b for b in FUZZ_BACKENDS if b in BACKENDS] + plugins


def _installed(backend: str) -> bool:
    return backend == "numpy" or BACKENDS[backend].available()[0]
