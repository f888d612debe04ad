"""bench.experiments.ratio and .op_cost: the views they print and the inputs they refuse."""

import pandas as pd
import pytest

from bench.experiments import op_cost, ratio


def test_ratio_view_divides_dezero_by_each_peer_per_depth():
    table = pd.DataFrame(
        [
            {"depth": 10, "backend": "dezero", "us_per_op": 2.0},
            {"depth": 10, "backend": "torch", "us_per_op": 8.0},
            {"depth": 10, "backend": "numpy", "us_per_op": 1.0},
            {"depth": 10**6, "backend": "dezero", "us_per_op": 3.0},
        ]
    )
    view = ratio.ratio_view(table)
    assert view.loc[10, "dezero/torch"] == pytest.approx(0.25)
    assert view.loc[10, "dezero/numpy"] == pytest.approx(2.0)
    assert pd.isna(view.loc[10**6, "dezero/torch"])


def test_depth_table_has_one_row_per_backend_and_depth():
    table = ratio.depth_table(depths=(3,), repeats=1)
    assert set(table["backend"]) >= {"dezero", "numpy"}
    assert (table["depth"] == 3).all() and (table["us_per_op"] > 0).all()


@pytest.mark.parametrize("module", [ratio, op_cost], ids=["ratio", "op_cost"])
def test_a_depth_below_one_exits_2_naming_it(module, capsys):
    with pytest.raises(SystemExit) as exit_info:
        module.main(["--depths", "0"])
    assert exit_info.value.code == 2
    assert "--depths" in capsys.readouterr().err


def test_a_sin_chain_keeps_a_constant_number_of_collector_tracked_objects():
    # No Function (made only when someone reads `creator`) and, past the last two nodes,
    # no Variable: the chain's arrays sit in one stretch (core.Stretch).
    alloc = op_cost.allocation_per_op(depth=2000)
    assert alloc["tracked_objects"] * 2000 <= 10
    assert alloc["bytes"] < 140


def test_op_cost_splits_a_call_into_phases_with_the_collector_share():
    with op_cost.CollectorClock() as clock:
        call = op_cost.one_call(50, clock)
    for phase in op_cost.PHASES:
        assert call[phase] > 0 and 0 <= call[f"gc_{phase}"] <= call[phase]
