"""The depth views of the accuracy table: growth exponents, excess over the floor, findings."""

import math
from pathlib import Path

import pandas as pd
import pytest

from bench.report.depth_sections import render_depth_sections
from validation.depth_report import (
    excess_headline,
    findings,
    growth_exponents,
    reproducer,
    root_causes,
)


def _rows(backend, errors, floor=2.0, family="tanh", dtype="float64"):
    return [
        {"backend": backend, "against": "exact", "family": family, "depth": depth, "width": 1,
         "op_count": depth, "dtype": dtype, "quantity": "grad", "max_abs_ulp": error,
         "signed_ulp": -error, "flag": "ok", "floor_ulp": floor, "excess": error / floor}
        for depth, error in errors.items()
    ]  # fmt: skip


DEPTHS = (10, 100, 1000, 10_000)


@pytest.fixture
def frame():
    steady = _rows("dezero", {d: 3.0 * d**0.5 for d in DEPTHS})
    biased = _rows("torch", {d: 0.5 * d for d in DEPTHS})
    return pd.DataFrame(steady + biased)


def test_growth_exponent_tells_random_walk_from_systematic(frame):
    table = growth_exponents(frame, "float64").set_index("family")
    assert float(table.loc["tanh", "dezero"]) == pytest.approx(0.5, abs=0.01)
    assert float(table.loc["tanh", "torch"]) == pytest.approx(1.0, abs=0.01)
    assert float(table.loc["tanh", "floor"]) == pytest.approx(0.0, abs=0.01)


def test_findings_name_the_backend_and_the_depth_it_starts(frame):
    found = findings(frame)
    # torch: 0.5 d > 8 x 3 sqrt(d) first at depth 10,000 (5,000 vs 300; at 1,000: 500 vs 95)
    assert list(found["backend"]) == ["torch"]
    assert int(found["from_depth"].iloc[0]) == 10_000
    assert found["best_backend"].iloc[0] == "dezero"
    (cause,) = root_causes(frame).itertuples(index=False)
    assert reproducer(cause) == (
        "python -m bench accuracy --backends dezero torch --families tanh --depths 10000 "
        "--dtypes float64"
    )


def _shared(backends, errors, floor=2.0):
    """Rows where every backend in `backends` has the same signed error by depth."""
    return [row for b in backends for row in _rows(b, errors, floor)]


def test_one_cause_in_four_backends_is_one_finding_naming_all_four():
    best = _rows("torch", {1000: 2.0, 10_000: 3.0})
    same = _shared(["dezero", "numpy", "autograd", "dezero_replay"], {1000: 100.0, 10_000: 90.0})
    other = _rows("jax", {1000: 300.0, 10_000: 400.0})  # off too, but rounds differently
    frame = pd.DataFrame(best + same + other)
    assert len(findings(frame)) == 5
    causes = root_causes(frame)
    assert list(causes["backends"]) == [
        ("dezero", "dezero_replay", "numpy", "autograd"),
        ("jax",),
    ]
    lines = [line for line in render_depth_sections(frame) if line.startswith("- ")]
    # the two causes, then the numpy exp kernel's entry
    assert len(lines) == 3 and "dezero, dezero_replay, numpy, autograd;" in lines[0]
    assert lines[2].startswith("- **numpy's float64 `exp` near 0**")


def test_backends_that_part_where_one_is_off_are_two_causes():
    # same error at depth 1,000, but at 10,000 (where both are off) they differ
    best = _rows("torch", {1000: 2.0, 10_000: 3.0})
    a = _rows("dezero", {1000: 100.0, 10_000: 90.0})
    b = _rows("numpy", {1000: 100.0, 10_000: 95.0})
    assert len(root_causes(pd.DataFrame(best + a + b))) == 2


def test_committed_findings_section_fits_four_lines_a_cause():
    """An entry, its command and its standalone script: no per-backend repetition."""
    accuracy = pd.read_csv(Path(__file__).parents[1] / "results" / "accuracy.csv")
    lines = render_depth_sections(accuracy)
    section = lines[lines.index("## Findings") :]
    entries = [line for line in section if line.startswith("- ")]
    assert entries
    assert len(section) <= 10 + 3 * len(entries), len(section)
    assert len(entries) <= len(root_causes(accuracy)) + 1


def test_findings_need_both_the_factor_and_the_ulp_margin():
    # 10x worse but only 9 ULP beyond: rounding noise at a shallow depth, not a finding
    df = pd.DataFrame(_rows("a", {10: 1.0}) + _rows("b", {10: 10.0}))
    assert findings(df).empty


def test_excess_headline_carries_the_floor_and_flags(frame):
    frame.loc[frame.index[0], ["flag", "excess"]] = ["underflow", math.nan]
    table = excess_headline(frame, 10, "float64").set_index("family")
    assert table.loc["tanh", "floor (ULP)"] == "2.0"
    assert table.loc["tanh", "dezero"] == "underflow"
    assert table.loc["tanh", "torch"] == "2.50"  # 0.5 x 10 ULP over a 2-ULP floor


def test_an_error_within_the_rounding_floor_is_not_a_finding():
    # 30x worse than a lucky best backend, but correct rounding can give 500 ULP here
    df = pd.DataFrame(_rows("a", {1000: 1.0}, floor=500.0) + _rows("b", {1000: 30.0}, floor=500.0))
    assert findings(df).empty


def test_excess_headline_shows_no_floor_figure_where_the_gradient_underflows(frame):
    frame["floor_ulp"] = math.nan  # the floor of an underflowing case is not in ULPs
    frame["flag"], frame["excess"] = "underflow", math.nan
    table = excess_headline(frame, 10, "float64").set_index("family")
    assert table.loc["tanh", "floor (ULP)"] == "–"
    assert table.loc["tanh", "dezero"] == "underflow"
