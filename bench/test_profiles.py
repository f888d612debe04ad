"""What the default profile times: a grid whose timed work fits its budget, chosen families
and depths, and a family named on the command line timed even where the grid leaves it out."""

import tomllib
from pathlib import Path

from bench.backends import BACKENDS
from bench.workloads.profiles import DEFAULT_TIMED_FAMILIES, PROFILES, cases, plan
from bench.workloads.workload_costs import CALLS, over_budget

ROOT = Path(__file__).resolve().parent.parent
# Estimated seconds of timed chain work (warm-ups and compiles included) the default profile
# may plan for the engines `pip install .[all]` brings: with the workloads (~1.5 min) and the
# tables, `make results` with every accuracy row reused stays near 5 minutes on 2 cores.
DEFAULT_BUDGET_S = 180


def _engines_in_all() -> list[str]:
    """The registry's engines that the `all` extra installs (the others are extras apart)."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    (requirement,) = extras["all"]  # "dezero-bench[torch,jax,...]"
    in_all = set(requirement.partition("[")[2].rstrip("]").split(","))
    apart = {"tensorflow", "paddle", "tinygrad"}
    assert "mygrad" in in_all and not apart & in_all, f"the `all` extra changed: {in_all}"
    return [name for name in BACKENDS if name not in apart]


def test_the_default_timing_grid_fits_its_budget():
    rows = plan(PROFILES["default"], _engines_in_all())
    seconds = sum(estimate for _, reason, estimate in rows if reason is None)
    assert 60 < seconds <= DEFAULT_BUDGET_S, f"default grid plans {seconds:.0f} s of timed work"


def test_the_default_grid_times_one_family_per_graph_shape_and_wide_chains_to_1000():
    grid = cases(PROFILES["default"], ["dezero"])
    assert {case.family for case in grid} == set(DEFAULT_TIMED_FAMILIES)
    assert max(case.depth for case in grid if case.family == "sin" and case.width == 1) == 100_000
    assert max(case.depth for case in grid if case.width > 1) == 1000
    assert {case.width for case in grid if case.family == "sin"} == {1, 1000, 10**6}


def test_a_family_named_by_the_user_is_timed_even_where_the_grid_leaves_it_out():
    assert "tanh" not in DEFAULT_TIMED_FAMILIES
    grid = cases(PROFILES["default"], ["dezero"], families=["tanh"])
    assert grid and {case.family for case in grid} == {"tanh"}


def test_the_full_and_ci_profiles_still_time_every_family():
    for name in ("full", "ci"):
        families = {case.family for case in cases(PROFILES[name], ["dezero"])}
        assert {"sin_exp", "tanh", "gauss", "random"} <= families, name


def test_a_workload_call_over_the_budget_is_not_timed_and_says_why():
    (evaluation, backend, grid), seconds = next(
        (key, s) for key, (s, _) in CALLS.items() if key[2] == "default" and s > 5
    )
    why = over_budget(evaluation, backend, grid, PROFILES["default"].max_workload_call_seconds)
    assert why and f"{seconds:g} s" in why and "--sizes full" in why
    assert (
        over_budget(evaluation, backend, grid, PROFILES["full"].max_workload_call_seconds) is None
    )
    assert over_budget("hello", "dezero", "default", 5.0) is None  # not a long pair
