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
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

RETRIES = 2


class DaskExecutor:
    """`map` over a `dask.distributed.Client`, results in input order."""

    def __init__(self, client):
        self.client = client

    def map(self, fn, items):
        futures = self.client.map(fn, list(items), pure=False, retries=RETRIES)
        return self.client.gather(futures)


def check_scheduler(scheduler: str) -> str:
    """`scheduler` when it is 'local' or a tcp:// / tls:// address, else ValueError."""
    if scheduler == "local" or scheduler.startswith(("tcp://", "tls://", "inproc://")):
        return scheduler
    raise ValueError(
        f"--scheduler must be 'local' or an address like tcp://host:8786, got {scheduler!r}"
    )


@contextlib.contextmanager
def open_executor(jobs: int = 1, scheduler: str | None = None, processes: bool = True):
    """An executor for `jobs` / `scheduler` (see the module doc), or None for in process.

    `processes=False` makes a local Dask cluster of threads (tests: no process start-up).
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
        cluster = LocalCluster(
            n_workers=max(jobs, 1), threads_per_worker=1, processes=processes,
            dashboard_address=None,
        )  # fmt: skip
        with cluster, Client(cluster) as client:
            yield DaskExecutor(client)
    else:
        with Client(scheduler) as client:
            yield DaskExecutor(client)
