"""bench.experiments.gradbench_ratio: its runs, its table and the few reference values
GradBench publishes (gmm by densities, det, the nested solvers' answers).

Speed is not asserted here (the script reports it).
"""

import numpy as np
import pytest

from bench.backends.workloads import workload_ops
from bench.experiments import gradbench_ratio
from bench.workloads import gradbench as gradbench_workloads
from bench.workloads.gradbench import WORKLOADS
from bench.workloads.gradbench.det import det
from bench.workloads.gradbench.gmm import gmm

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def engines():
    return {name: workload_ops(name) for name in gradbench_ratio.ENGINES}


@pytest.fixture(scope="module")
def outputs(engines):
    """Each quick case's outputs per engine, computed once (the nested ones take seconds)."""
    cache = {}

    def get(name, size=None):
        size = WORKLOADS[name].quick[0] if size is None else size
        key = (name, WORKLOADS[name].size_label(size))
        if key not in cache:
            runs = gradbench_ratio.case_runs(WORKLOADS[name], size, engines)
            cache[key] = {engine: run() for engine, run in runs.items()}
        return cache[key]

    return get


def test_case_runs_give_each_engine_the_same_case(outputs):
    # every (evaluation, backend) pair is checked in bench/test_gradbench_workloads.py; here,
    # that the script's runs are those cases
    ours, theirs = outputs("llsq")["dezero"], outputs("llsq")["torch"]
    assert len(ours) == len(theirs) == 2
    assert gradbench_ratio.rel_diff(ours, theirs) <= 1e-10


def test_rel_diff_sees_one_wrong_element():
    good = [np.array([1.0, -4.0])]
    assert gradbench_ratio.rel_diff(good, good) == 0.0
    assert gradbench_ratio.rel_diff([np.array([1.0, -4.0 + 4e-9])], good) == pytest.approx(1e-9)


def test_gmm_matches_the_definition_by_densities(engines):
    # log of prod_i sum_k phi_k N(x_i; mu_k, (Q'Q)^-1) times the Wishart prior, computed
    # directly from scipy's densities: the vectorised objective's simplifications hold.
    from scipy.stats import multivariate_normal, wishart

    params, consts = gradbench_workloads.gmm_inputs({"d": 3, "k": 2, "n": 5})
    alpha, mu, q, l = params
    x = consts["xT"][0].T
    k, d = mu.shape
    phi = np.exp(alpha) / np.exp(alpha).sum()
    Qs = []
    for j in range(k):
        Q = np.diag(np.exp(q[j]))
        Q[np.triu_indices(d, 1)[1], np.triu_indices(d, 1)[0]] = l[j]  # column by column
        Qs.append(Q)
    lik = sum(
        np.log(sum(phi[j] * multivariate_normal(mu[j], np.linalg.inv(Qs[j].T @ Qs[j])).pdf(xi)
                   for j in range(k)))
        for xi in x
    )  # fmt: skip
    prior = sum(wishart(df=d + 1, scale=np.eye(d)).logpdf(Q.T @ Q) for Q in Qs)
    ops = engines["dezero"]
    ours = gmm(ops, *(ops.leaf(p) for p in params), **consts)
    assert float(ops.value(ours)) == pytest.approx(lik + prior, rel=1e-12)


def test_det_by_minors_is_the_determinant(engines):
    params, consts = gradbench_workloads.det_inputs({"ell": 5})
    ops = engines["dezero"]
    value = float(ops.value(det(ops, ops.leaf(params[0]), **consts)))
    assert value == pytest.approx(np.linalg.det(params[0]), rel=1e-12)


def test_quick_nested_solvers_reach_gradbench_answers(outputs):
    # --quick starts the solvers with a larger step; they stop within their 1e-5 tolerance
    # of the points GradBench's full-size runs publish (the full runs match them exactly).
    (w,) = outputs("particle")["dezero"]
    assert abs(w[0] - gradbench_workloads.PARTICLE_EXPECTED) < 1e-4
    (points,) = outputs("saddle")["dezero"]
    assert np.all(np.abs(points) < 1e-4) and np.all(points > 0)


def test_unknown_workload_exits_2_naming_it(capsys):
    with pytest.raises(SystemExit) as exit_info:
        gradbench_ratio.main(["--workloads", "gmm", "hessian"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "hessian" in err and len(err.strip().splitlines()) == 1


def test_summary_marks_the_worst_ratio_against_each_target():
    import pandas as pd

    table = pd.DataFrame(
        [
            {"workload": "ode", "ratio": 1.2, "grad_rel_diff": 0.0},
            {"workload": "ode", "ratio": 0.5, "grad_rel_diff": 1e-16},
            {"workload": "lse", "ratio": 1.1, "grad_rel_diff": 0.0},
        ]
    )
    view = gradbench_ratio.summary(table)
    assert view.loc["ode", "met"] and view.loc["ode", "worst_ratio"] == 1.2
    assert not view.loc["lse", "met"]
