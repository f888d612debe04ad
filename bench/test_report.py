"""Timing tables, plots, report and CLI built from a small synthetic pytest-benchmark JSON.

The synthetic run follows exact power laws (time = us_per_op[backend] x op_count**exponent,
backward = 3 x forward), so ratios, IQRs and fitted exponents have known values.
"""

import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from bench import cli
from bench.cli import accuracy_sweep as accuracy_results
from bench.report import markdown as report
from bench.report import plots
from bench.timing import tables as timing
from validation.accuracy import COLUMNS as ACCURACY_COLUMNS

US_PER_OP = {"dezero": 10.0, "torch": 5.0, "numpy": 0.5, "jax_jit": 0.1}
EXPONENT = {"dezero": 1.0, "torch": 1.0, "numpy": 1.0, "jax_jit": 1.25}
DEPTHS = (1, 10, 100, 1000)
BACKWARD_FACTOR = 3.0
IQR_FRACTION = 0.2  # q3 - q1 as a fraction of the median


def unpadded(markdown: str) -> str:
    """`markdown` with table cells' alignment padding squeezed to one space."""
    return re.sub(r" {2,}", " ", markdown)


def synthetic_document(node="box", commit="abc123", scale=1.0, backends=US_PER_OP):
    """A pytest-benchmark JSON document over sin (1 op/layer) and sin_exp (2 ops/layer)."""
    benchmarks = []
    for backend in backends:
        for family, ops_per_layer in (("sin", 1), ("sin_exp", 2)):
            for depth in DEPTHS:
                op_count = ops_per_layer * depth
                forward = scale * US_PER_OP[backend] * 1e-6 * op_count ** EXPONENT[backend]
                for pass_, median in (("forward", forward), ("backward", 3 * forward)):
                    iqr = IQR_FRACTION * median
                    extra = {
                        "backend": backend,
                        "backend_version": f"{backend}-1.0",
                        "family": family,
                        "depth": depth,
                        "width": 1,
                        "dtype": "float64",
                        "pass": pass_,
                        "op_count": op_count,
                    }
                    if backend == "jax_jit":
                        extra["compile_seconds"] = 1e-3 * depth
                    stats = {
                        "min": 0.8 * median, "max": 1.5 * median, "mean": median,
                        "stddev": 0.1 * median, "rounds": 5, "median": median,
                        "iqr": iqr, "q1": median - iqr / 2, "q3": median + iqr / 2,
                    }  # fmt: skip
                    name = f"test_chain[{family}-d{depth}-w1-{pass_}-{backend}]"
                    benchmarks.append(
                        {
                            "group": f"{family}-d{depth}-w1-{pass_}",
                            "name": name,
                            "fullname": f"bench/test_benchmarks.py::{name}",
                            "params": {},
                            "extra_info": extra,
                            "stats": stats,
                        }
                    )
    return {
        "machine_info": {
            "node": node,
            "processor": "x86_64",
            "python_version": "3.11.9",
            "cpu": {"brand_raw": "Synthetic CPU", "count": 2},
        },
        "commit_info": {"id": commit, "dirty": False, "branch": "main"},
        "benchmarks": benchmarks,
        "datetime": "2026-11-25T12:00:00",
        "version": "5.1.0",
    }


def synthetic_accuracy() -> pd.DataFrame:
    """dezero's gradient error = sqrt(depth) ULP, torch's = depth ULP, one underflow."""
    rows = []
    for family in ("sin", "gauss"):
        for depth in (1, 10, 100, 1000, 10_000):
            for backend, ulp in (("dezero", math.sqrt(depth)), ("torch", float(depth))):
                flag = "underflow" if family == "gauss" and depth == 10_000 else "ok"
                rows.append({
                    "backend": backend, "against": "exact", "family": family,
                    "depth": depth, "width": 1, "op_count": depth, "dtype": "float64",
                    "quantity": "grad", "reference": "mpmath", "ref_bits": 200,
                    "max_abs_ulp": ulp if flag == "ok" else math.nan,
                    "signed_ulp": -ulp if flag == "ok" else math.nan,
                    "flag": flag, "version": "1.0",
                })  # fmt: skip
    df = pd.DataFrame(rows).reindex(columns=list(ACCURACY_COLUMNS))
    df[["ref_bits", "n_elements"]] = df[["ref_bits", "n_elements"]].fillna(0)
    return df.astype(ACCURACY_COLUMNS)


@pytest.fixture
def results(tmp_path):
    """A results directory holding one synthetic benchmark JSON and an accuracy CSV."""
    (tmp_path / "benchmark-default-float64.json").write_text(json.dumps(synthetic_document()))
    synthetic_accuracy().to_csv(tmp_path / "accuracy.csv", index=False)
    return tmp_path


def _table(*documents, tmp_path):
    paths = []
    for i, document in enumerate(documents):
        paths.append(tmp_path / f"run{i}.json")
        paths[-1].write_text(json.dumps(document))
    raw, _ = timing.load_benchmarks(paths)
    return timing.timing_table(raw)


def _row(df, pass_="forward", **where):
    where = where | {"pass": pass_}
    mask = np.ones(len(df), dtype=bool)
    for key, value in where.items():
        mask &= df[key] == value
    assert mask.sum() == 1, f"expected one row for {where}, found {mask.sum()}"
    return df[mask].iloc[0]


def test_us_per_op_divides_median_by_op_count(tmp_path):
    df = _table(synthetic_document(), tmp_path=tmp_path)
    row = _row(df, backend="torch", family="sin_exp", depth=100, pass_="forward")
    assert row["op_count"] == 200
    assert row["us_per_op"] == pytest.approx(5.0)
    assert row["iqr_us_per_op"] == pytest.approx(5.0 * IQR_FRACTION)


def test_ratio_to_dezero_compares_the_same_work(tmp_path):
    df = _table(synthetic_document(), tmp_path=tmp_path)
    torch = _row(df, backend="torch", family="sin", depth=1000, pass_="backward")
    dezero = _row(df, backend="dezero", family="sin", depth=1000, pass_="backward")
    assert torch["ratio_to_dezero"] == pytest.approx(0.5)
    assert dezero["ratio_to_dezero"] == pytest.approx(1.0)
    # jax_jit grows like op_count**1.25: at depth 1000 of sin_exp (2000 ops) it is
    # 0.1 * 2000**0.25 us per op against dezero's 10.
    jit = _row(df, backend="jax_jit", family="sin_exp", depth=1000, pass_="forward")
    assert jit["ratio_to_dezero"] == pytest.approx(0.01 * 2000**0.25)


def test_backward_forward_ratio_only_on_backward_rows(tmp_path):
    df = _table(synthetic_document(), tmp_path=tmp_path)
    assert df.loc[df["pass"] == "backward", "bwd_fwd_ratio"].to_numpy() == pytest.approx(
        BACKWARD_FACTOR
    )
    assert df.loc[df["pass"] == "forward", "bwd_fwd_ratio"].isna().all()


def test_depth_exponent_recovers_the_power_law(tmp_path):
    df = _table(synthetic_document(), tmp_path=tmp_path)
    for backend, exponent in EXPONENT.items():
        fitted = df.loc[df["backend"] == backend, "depth_exponent"]
        assert fitted.to_numpy() == pytest.approx(exponent), backend


def test_fit_exponent_needs_two_depths():
    assert math.isnan(timing.fit_exponent([100], [1e-3]))
    assert timing.fit_exponent([10, 100, 1000], [2e-4, 2e-3, 2e-2]) == pytest.approx(1.0)
    assert timing.fit_exponent([10, 100], [1.0, 100.0]) == pytest.approx(2.0)


def test_compile_seconds_kept_for_jit_rows_only(tmp_path):
    df = _table(synthetic_document(), tmp_path=tmp_path)
    jit = _row(df, backend="jax_jit", family="sin", depth=100, pass_="backward")
    assert jit["compile_seconds"] == pytest.approx(0.1)
    assert df.loc[df["backend"] != "jax_jit", "compile_seconds"].isna().all()


def test_graph_memory_rows_carry_bytes_not_timing(tmp_path):
    document = synthetic_document()
    record = json.loads(json.dumps(document["benchmarks"][0]))
    record["extra_info"] |= {"pass": "record", "graph_bytes_per_node": 352.0, "depth": 10**5}
    document["benchmarks"].append(record)
    df = _table(document, tmp_path=tmp_path)
    row = _row(df, backend="dezero", family="sin", depth=10**5, pass_="record")
    assert row["bytes_per_node"] == 352.0
    assert math.isnan(row["us_per_op"]) and math.isnan(row["ratio_to_dezero"])
    assert "### Graph memory, bytes per node" in timing.render_markdown(df)


def test_two_machines_are_grouped_not_mixed(tmp_path):
    fast = synthetic_document(node="fast", commit="c1", scale=0.5)
    slow = synthetic_document(node="slow", commit="c2", scale=2.0, backends=("dezero",))
    df = _table(fast, slow, tmp_path=tmp_path)
    assert sorted(df["machine"].unique()) == ["fast (Synthetic CPU)", "slow (Synthetic CPU)"]
    # ratios are within one machine and commit: the slow box's dezero is its own reference
    assert df.loc[df["machine"].str.startswith("slow"), "ratio_to_dezero"].to_numpy() == (
        pytest.approx(1.0)
    )
    torch = _row(df, backend="torch", family="sin", depth=10, pass_="forward")
    assert torch["ratio_to_dezero"] == pytest.approx(0.5)
    text = timing.render_markdown(df)
    assert "## machine fast (Synthetic CPU), commit c1" in text
    assert "## machine slow (Synthetic CPU), commit c2" in text


def test_repeated_benchmark_keeps_the_last_file_read(tmp_path):
    first = synthetic_document(scale=1.0)
    second = synthetic_document(scale=3.0)
    df = _table(first, second, tmp_path=tmp_path)
    row = _row(df, backend="dezero", family="sin", depth=10, pass_="forward")
    assert row["us_per_op"] == pytest.approx(30.0)


def test_missing_case_fields_name_the_benchmark(tmp_path):
    document = synthetic_document()
    del document["benchmarks"][0]["extra_info"]["family"]
    with pytest.raises(ValueError, match="test_chain.*has no family"):
        _table(document, tmp_path=tmp_path)


def test_timing_csv_round_trips(results):
    raw, _ = timing.load_benchmarks([results / "benchmark-default-float64.json"])
    df = timing.timing_table(raw)
    csv_path, md_path = timing.write_timing(df, results)
    back = timing.read_timing(csv_path)
    pd.testing.assert_frame_equal(back, df)
    assert "| dezero | numpy | torch | jax_jit |" in unpadded(md_path.read_text()).replace(
        "| family | width | dtype | depth ", ""
    )


def test_per_op_headline_lists_dezero_first_with_ratios(tmp_path):
    df = _table(synthetic_document(), tmp_path=tmp_path)
    table = report.per_op_headline(df, "sin", 1000, 1)
    assert list(table["backend"]) == ["dezero", "numpy", "torch", "jax_jit"]
    torch = table.set_index("backend").loc["torch"]
    assert torch["fwd+bwd µs/op"] == "15.0"
    assert torch["fwd+bwd vs dezero"] == "0.500"
    assert torch["fwd+bwd / fwd"] == "3.00"


def test_ulp_headline_flags_underflow():
    table = report.ulp_headline(synthetic_accuracy()).set_index("family")
    assert table.loc["sin", "dezero"] == "-100"
    assert table.loc["sin", "torch"] == "-10,000"
    assert table.loc["gauss", "dezero"] == "underflow"


def test_update_readme_rewrites_only_between_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{report.README_BEGIN}\nold\n{report.README_END}\noutro\n")
    assert report.update_readme(readme, "new table")
    assert readme.read_text() == (
        f"intro\n{report.README_BEGIN}\nnew table\n{report.README_END}\noutro\n"
    )
    plain = tmp_path / "PLAIN.md"
    plain.write_text("no markers\n")
    assert not report.update_readme(plain, "new table")
    assert plain.read_text() == "no markers\n"


def test_plots_are_written_with_log_axes(results, tmp_path):
    raw, _ = timing.load_benchmarks([results / "benchmark-default-float64.json"])
    df = timing.timing_table(raw)
    path = plots.plot_time_per_op(df, tmp_path / "t.png")
    assert path.stat().st_size > 10_000
    figure = plots.plt.figure()  # the plot closed its own figure: nothing left open
    assert plots.plt.get_fignums() == [figure.number]
    plots.plt.close(figure)
    written = plots.write_plots(tmp_path, timing=df, accuracy=synthetic_accuracy())
    assert sorted(p.name for p in written) == [
        "bwd_fwd_ratio.png", "time_per_op.png", "ulp_error.png"
    ]  # fmt: skip


GENERATED = (
    "timing.csv",
    "timing.md",
    "accuracy.md",
    "time_per_op.png",
    "bwd_fwd_ratio.png",
    "ulp_error.png",
    "REPORT.md",
)


def test_tables_command_rebuilds_everything_from_saved_results(results, capsys):
    readme = results / "README.md"
    readme.write_text(f"# x\n{report.README_BEGIN}\n{report.README_END}\n")
    saved = str(results / "benchmark-default-float64.json")
    code = cli.main(["tables", saved, "--results", str(results), "--readme", str(readme)])
    assert code == 0
    for name in GENERATED:
        assert (results / name).exists(), name
    text = unpadded((results / "REPORT.md").read_text())
    assert "![time per op](time_per_op.png)" in text
    assert "| sin | 1 | -100 | -10,000 |" in text
    assert "box (Synthetic CPU)" in text
    assert "[results/REPORT.md](results/REPORT.md)" in readme.read_text()
    # delete every generated file: `tables` brings them all back, byte for byte for text
    before = {name: (results / name).read_bytes() for name in GENERATED if "png" not in name}
    for name in GENERATED:
        (results / name).unlink()
    assert cli.main(["tables", "--results", str(results), "--no-readme"]) == 0
    for name in GENERATED:
        assert (results / name).exists(), name
    for name, content in before.items():
        assert (results / name).read_bytes() == content, name


def test_tables_with_nothing_saved_is_an_error(tmp_path, capsys):
    assert cli.main(["tables", "--results", str(tmp_path), "--no-readme"]) == 1
    assert "nothing to build from" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, valid",
    [
        (["run", "--backends", "theano"], "dezero"),
        (["run", "--families", "cosh"], "sin_exp"),
        (["run", "--depths", "5"], "1000"),
        (["run", "--dtype", "float16"], "float32"),
        (["run", "--quick", "--depths", "1000"], "valid depths: 1, 10, 100"),
    ],
)
def test_run_rejects_unknown_names_listing_valid_ones(argv, valid, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert valid in capsys.readouterr().err


def test_progress_filter_selects_by_case_not_by_substring():
    from bench.timing.progress import selected

    case = {"backend": "torch", "family": "sin", "depth": 100, "width": 1, "pass": "forward"}
    assert selected(case, {"depths": [100]})
    assert not selected(case, {"depths": [10]})
    assert not selected(case, {"backends": ["dezero"], "depths": [100]})
    assert selected(case, {"backends": ["torch"], "families": ["sin"], "depths": None})
    memory = case | {"depth": 100_000, "pass": "record"}
    assert selected(memory, {"depths": [10]})


def test_headline_falls_back_to_the_nearest_case_run(tmp_path):
    df = _table(synthetic_document(), tmp_path=tmp_path)
    assert report.nearest_case(df, "sin", 1000, 1) == (1000, 1)
    assert report.nearest_case(df, "sin", 10_000, 1) == (1000, 1)
    assert report.nearest_case(df, "sin", 10, 10**6) == (10, 1)
    assert report.nearest_case(df, "mlp", 10, 1) is None
    block = unpadded(report.readme_block(df))
    assert "depth 1,000, width 1" in block and "| dezero | dezero-1.0 | 10.0 |" in block


def test_run_benchmarks_only_the_filtered_cases(tmp_path):
    argv = ["run", "--quick", "--backends", "numpy", "dezero", "--families", "seed",
            "--skip-accuracy", "--quiet", "--results", str(tmp_path), "--no-readme"]  # fmt: skip
    assert cli.main(argv) == 0
    folder = tmp_path / "runs" / "quick-numpy-dezero-seed"  # a filtered quick run's own
    saved = folder / "benchmark-quick-float64-numpy-dezero-seed.json"
    rows, _ = timing.load_benchmarks([saved])
    assert set(rows["backend"]) == {"numpy", "dezero"}
    assert set(rows["family"]) == {"seed"}
    assert set(rows["pass"]) == {"forward", "backward"}
    assert (folder / "timing.csv").exists() and (folder / "REPORT.md").exists()
    assert not list(tmp_path.glob("*.*"))  # nothing in the published folder


def test_filtered_accuracy_replaces_only_its_own_rows():
    old = synthetic_accuracy()
    new = old[(old["backend"] == "dezero") & (old["family"] == "sin")].copy()
    new["max_abs_ulp"] = 0.0
    merged = accuracy_results.merge_accuracy(old, new)
    assert len(merged) == len(old)
    dezero_sin = (merged["backend"] == "dezero") & (merged["family"] == "sin")
    assert (merged.loc[dezero_sin, "max_abs_ulp"] == 0.0).all()
    torch_sin = merged[(merged["backend"] == "torch") & (merged["family"] == "sin")]
    assert torch_sin["max_abs_ulp"].max() == 10_000
