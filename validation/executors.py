"""Where independent work runs: in process, local processes, or a Dask cluster.

The accuracy sweep and the fuzzer hand their independent tasks (one accuracy case, one
chunk of fuzz programs) to an executor's `map(fn, items)`, which returns the results in
the order of `items`; results are merged by the caller exactly as in-process ones, so
the output does not depend on where the tasks ran.

* `jobs > 1`: a `ProcessPoolExecutor` (spawn: JAX and torch hold threads a fork would copy).
* `scheduler="local"`: a `dask.distributed.LocalCluster` of `jobs` single-threaded workers.
* `scheduler="tcp://host:8786"`: an existing Dask cluster (`dask scheduler` on one machine,
  `dask worker tcp://host:8786` on each other one, all with this project installed).
  A task whose worker dies is rescheduled by Dask on another worker; one that raises is
  retried `RETRIES` times.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

RETRIES = 2
CONNECT_SECONDS = 3  # how long a --scheduler address may take to answer before the run stops
SCHEMES = ("tcp://", "tls://")


class SchedulerUnreachable(ValueError):
    """No Dask scheduler answered at the --scheduler address: the CLI prints this one line
    and exits 2, before any work is handed out."""


class DaskExecutor:
    """`map` over a `dask.distributed.Client`, results in input order."""

    def __init__(self, client):
        self.client = client

    def map(self, fn, items):
        futures = self.client.map(fn, list(items), pure=False, retries=RETRIES)
        return self.client.gather(futures)


def check_scheduler(scheduler: str) -> str:
    """`scheduler` when it is 'local' or a tcp:// / tls:// host:port address, else ValueError.

    Only the form is checked here; whether a scheduler answers there is `open_executor`'s."""
    if scheduler == "local":
        return scheduler
    host, _, port = scheduler.removeprefix(SCHEMES[0]).removeprefix(SCHEMES[1]).rpartition(":")
    if scheduler.startswith(SCHEMES) and host.strip("[]") and port.isdigit():
        return scheduler
    raise ValueError(
        f"--scheduler must be 'local' or an address like tcp://host:8786, got {scheduler!r}"
    )


def _connect(scheduler: str):
    """A Client of the scheduler at `scheduler`, or SchedulerUnreachable naming the address
    when none answers within CONNECT_SECONDS (before any work is handed out)."""
    from dask.distributed import Client

    try:
        return Client(scheduler, timeout=CONNECT_SECONDS)
    except (OSError, ValueError, TypeError) as error:  # TypeError: tls:// without a TLS set-up
        raise SchedulerUnreachable(
            f"--scheduler {scheduler}: cannot reach a Dask scheduler within {CONNECT_SECONDS} s "
            f"({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''})"
        ) from None


@contextlib.contextmanager
def _sigint_ignored():
    """Ctrl-C ignored while local workers start: a process started with SIGINT ignored keeps
    ignoring it (Python installs no KeyboardInterrupt handler then), so Ctrl-C reaches only
    the parent, which closes the cluster, instead of each worker printing its traceback."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _silence_dask() -> None:
    """After Ctrl-C, the cluster's shutdown (cancelled tasks, workers killed) is expected:
    its log lines and never-retrieved task errors would bury the CLI's one line."""
    for name in ("distributed", "asyncio", "tornado"):
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)


@contextlib.contextmanager
def open_executor(jobs: int = 1, scheduler: str | None = None, processes: bool = True):
    """An executor for `jobs` / `scheduler` (see the module doc), or None for in process.

    `processes=False` makes a local Dask cluster of threads (tests: no process start-up).
    A local cluster's own log lines are silenced: a task's error reaches the caller through
    `map` anyway, and its shutdown after Ctrl-C (workers cut off mid-task) is expected.
    """
    if scheduler is None:
        if jobs <= 1:
            yield None
            return
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(jobs, mp_context=context) as pool:
            yield pool
        return
    from dask.distributed import Client, LocalCluster

    check_scheduler(scheduler)
    if scheduler == "local":
        with _sigint_ignored():
            cluster = LocalCluster(
                n_workers=max(jobs, 1), threads_per_worker=1, processes=processes,
                dashboard_address=None, silence_logs=logging.CRITICAL,
            )  # fmt: skip
        with cluster, Client(cluster) as client:
            try:
                yield DaskExecutor(client)
            except KeyboardInterrupt:
                _silence_dask()
                raise
    else:
        with _connect(scheduler) as client:
            yield DaskExecutor(client)
