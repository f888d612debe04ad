"""GradBench's twelve evaluations, each written once against an op namespace.

Written from GradBench's specifications (evals/<name>/README.md in gradbench/gradbench) and
its generators' sizes and seed; where GradBench reads data files (ba, ht, lstm) inputs of
the same shapes are drawn here (each module says how). No file is downloaded. The op
namespaces every backend supplies are in bench.backends.workload_ops; what a `run` may ask
of them is in `workload`.
"""

from bench.workloads.gradbench import ba, det, gmm, hello, ht, kmeans, llsq, lse, lstm, nested, ode
from bench.workloads.gradbench.det import det_inputs
from bench.workloads.gradbench.gmm import gmm_inputs
from bench.workloads.gradbench.lstm import lstm_inputs
from bench.workloads.gradbench.nested import PARTICLE_EXPECTED, SADDLE_EXPECTED
from bench.workloads.gradbench.workload import Workload

WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        gmm.WORKLOAD,
        lstm.WORKLOAD,
        ba.WORKLOAD,
        ht.WORKLOAD,
        llsq.WORKLOAD,
        lse.WORKLOAD,
        det.WORKLOAD,
        ode.WORKLOAD,
        kmeans.WORKLOAD,
        nested.SADDLE,
        nested.PARTICLE,
        hello.WORKLOAD,
    )
}

__all__ = ["PARTICLE_EXPECTED", "SADDLE_EXPECTED", "WORKLOADS", "Workload", "det_inputs",
           "gmm_inputs", "lstm_inputs"]  # fmt: skip
