"""The Dask path: a 2-worker LocalCluster gives exactly the in-process accuracy rows and
fuzz results (tasks are independent and merged in input order), and bad addresses are named."""

from __future__ import annotations

import pytest

from dezero import arithmetic
from validation.accuracy import run_accuracy
from validation.executors import check_scheduler, open_executor
from validation.fuzz.checker import run_fuzz


def _findings(findings):
    return [(f.backend, f.failure, f.program) for f in findings]


def test_local_dask_cluster_matches_in_process_accuracy_and_fuzz(monkeypatch):
    # a planted bug, so the findings compared are not empty (threads share the patch)
    monkeypatch.setattr(arithmetic.Neg, "vjp", lambda self, m, gy, x, y: gy)
    grid = {"backends": ["dezero", "numpy"], "families": ["sin", "mlp"], "depths": [10]}
    with open_executor(jobs=2, scheduler="local", processes=False) as executor:
        assert len(executor.client.scheduler_info()["workers"]) == 2
        accuracy_dask = run_accuracy("ci", executor=executor, **grid)
        rows_dask, findings_dask = run_fuzz(4, 6, ["dezero"], executor, chunk_size=3)
    accuracy = run_accuracy("ci", **grid)
    rows, findings = run_fuzz(4, 6, ["dezero"], chunk_size=3)
    timing = ["seconds"]
    assert len(accuracy) > 4
    assert accuracy_dask.drop(columns=timing).equals(accuracy.drop(columns=timing))
    assert rows_dask.equals(rows)
    assert rows["chunk"].nunique() == 2
    assert _findings(findings_dask) == _findings(findings) != []


@pytest.mark.parametrize("address", ["local", "tcp://10.0.0.1:8786", "tls://h:1"])
def test_scheduler_addresses_are_accepted(address):
    assert check_scheduler(address) == address


def test_a_bad_scheduler_address_is_named():
    with pytest.raises(ValueError, match="got 'host:8786'"):
        check_scheduler("host:8786")
