"""No run loses results: a failed, filtered, foreign or concurrent run leaves every file it
did not re-measure as it was. Runs are synthetic (no timing): sweeps and benchmarks are
replaced by small known tables."""

import json
from pathlib import Path

import numpy as np
import pytest

import dezero.layers as L
from bench import cli
from bench.files.destinations import RESULTS
from bench.report.markdown import README_BEGIN, README_END
from bench.timing.testing_runs import sin_run, write_json
from dezero.core import Parameter
from dezero.models import Sequential
from validation.accuracy import read_accuracy


class _Unpicklable:
    def __reduce__(self):
        raise RuntimeError("cannot pickle this parameter")


def _model():
    model = Sequential(L.Linear(3, in_size=2), L.Linear(2, in_size=3))
    return model


def _break(model):
    """A parameter whose save raises half-way through the archive."""
    model.layers[1].b = Parameter(np.array([_Unpicklable()], dtype=object), name="b")


@pytest.mark.parametrize("as_path", [str, Path], ids=["str", "Path"])
def test_a_failed_save_weights_keeps_the_previous_file(tmp_path, as_path):
    target = tmp_path / "model.npz"
    model = _model()
    model.save_weights(as_path(target))
    before = target.read_bytes()
    _break(model)
    with pytest.raises(RuntimeError, match="cannot pickle"):
        model.save_weights(as_path(target))
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]  # no temporary left
    _model().load_weights(as_path(target))  # still a whole archive


@pytest.mark.parametrize("as_path", [str, Path], ids=["str", "Path"])
def test_a_failed_save_weights_without_suffix_touches_no_other_file(tmp_path, as_path):
    # numpy appends '.npz': saving to 'model' writes 'model.npz', so 'model' is not ours
    unrelated = tmp_path / "model"
    unrelated.write_text("someone else's file")
    model = _model()
    _break(model)
    with pytest.raises(RuntimeError, match="cannot pickle"):
        model.save_weights(as_path(unrelated))
    assert unrelated.read_text() == "someone else's file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no partial model.npz


def test_save_weights_without_suffix_writes_the_npz_and_keeps_the_name(tmp_path):
    unrelated = tmp_path / "model"
    unrelated.write_text("someone else's file")
    model = _model()
    model.save_weights(Path(unrelated))
    assert unrelated.read_text() == "someone else's file"
    other = _model()
    other.load_weights(tmp_path / "model.npz")
    for (key, p), q in zip(model.named_params().items(), other.params(), strict=True):
        assert np.array_equal(p.data, q.data), key


def test_save_weights_replaces_a_previous_file_with_its_permissions(tmp_path):
    target = tmp_path / "model.npz"
    target.write_bytes(b"old")
    target.chmod(0o640)
    _model().save_weights(target)
    assert target.stat().st_mode & 0o777 == 0o640
    _model().load_weights(target)


@pytest.mark.parametrize(
    "content",
    [b"not a weights file at all", b"\x80\x04K\x01."],  # text; a pickle of the number 1
    ids=["text", "pickle"],
)
@pytest.mark.parametrize("as_path", [str, Path], ids=["str", "Path"])
def test_loading_garbage_weights_is_one_clear_error(tmp_path, content, as_path):
    path = tmp_path / "w.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError) as raised:
        _model().load_weights(as_path(path))
    message = str(raised.value)
    assert str(path) in message and "not an .npz archive written by save_weights" in message
    assert "pickle" not in message and "\n" not in message


def test_loading_a_single_npy_array_is_named(tmp_path):
    path = tmp_path / "w.npy"
    np.save(path, np.zeros(3))
    with pytest.raises(ValueError, match="single .npy array"):
        _model().load_weights(path)


@pytest.mark.parametrize("as_path", [str, Path], ids=["str", "Path"])
def test_loading_a_missing_or_folder_weights_file_names_it(tmp_path, as_path):
    with pytest.raises(FileNotFoundError, match="nowhere.npz"):
        _model().load_weights(as_path(tmp_path / "nowhere.npz"))
    with pytest.raises(ValueError, match="is not a file"):
        _model().load_weights(as_path(tmp_path))


# --- filtered sweeps merge into the saved tables ---------------------------------------


@pytest.fixture(scope="module")
def saved_accuracy():
    """A slice of the committed accuracy table: sin and cos, depths up to 100, every backend
    against the exact reference and against each other."""
    df = read_accuracy(RESULTS / "accuracy.csv")
    return df[df["family"].isin(["sin", "cos"]) & df["depth"].le(100)].reset_index(drop=True)


def _fake_sweep(saved):
    """`run_accuracy` answering from `saved`: only the filtered cases, cross-checks only
    between the backends run, every measured ULP set to 12345 to tell new rows from old."""

    def run_accuracy(profile, backends=None, families=None, depths=None, dtypes=None, **_):
        keep = saved["backend"].isin(backends or saved["backend"].unique())
        keep &= saved["against"].isin(["exact", *(backends or saved["against"].unique())])
        for column, wanted in (("family", families), ("depth", depths), ("dtype", dtypes)):
            keep &= saved[column].isin(wanted) if wanted else True
        return saved[keep].assign(max_abs_ulp=12345.0).reset_index(drop=True)

    return run_accuracy


def _rows(df) -> set[tuple]:
    return set(df.astype(str).itertuples(index=False, name=None))


@pytest.mark.parametrize(
    "filters",
    [
        ["--dtypes", "float32"],
        ["--families", "sin", "--depths", "1", "--backends", "dezero", "--dtypes", "float64"],
        ["--backends", "dezero"],
    ],
    ids=["dtype_only", "one_case_one_backend", "one_backend"],
)
def test_a_filtered_published_accuracy_sweep_replaces_only_what_it_measured(
    tmp_path, monkeypatch, saved_accuracy, filters
):
    import bench.cli.accuracy_sweep

    saved_accuracy.to_csv(tmp_path / "accuracy.csv", index=False)
    monkeypatch.setattr(bench.cli.accuracy_sweep, "run_accuracy", _fake_sweep(saved_accuracy))
    argv = ["accuracy", *filters, "--publish", "--results", str(tmp_path), "--quiet"]
    assert cli.main(argv) == 0
    after = read_accuracy(tmp_path / "accuracy.csv")
    remeasured = after["max_abs_ulp"] == 12345.0
    assert remeasured.any()
    # every row is still there once: the re-measured ones new, every other one as it was
    assert len(after) == len(saved_accuracy)
    keys = ["backend", "against", "family", "depth", "width", "dtype", "quantity"]
    assert not after.duplicated(keys).any()
    assert _rows(after[~remeasured]) <= _rows(saved_accuracy)
    assert _rows(after[keys]) == _rows(saved_accuracy[keys])


def test_a_filtered_baseline_replaces_only_the_cases_it_measured(tmp_path):
    from validation.gate import read_baseline

    path = tmp_path / "accuracy_baseline.csv"
    saved = read_baseline(RESULTS / "accuracy_baseline.csv")
    sin_d1 = saved["family"].eq("sin") & saved["depth"].eq(1)
    saved.assign(norm_ulp=saved["norm_ulp"].mask(sin_d1, 999.0)).to_csv(path, index=False)
    argv = ["baseline", "--families", "sin", "--depths", "1", "--baseline", str(path)]
    assert cli.main(argv) == 0
    after = read_baseline(path)
    assert len(after) == len(saved)
    again = after["family"].eq("sin") & after["depth"].eq(1)
    assert again.sum() == sin_d1.sum() and not after.loc[again, "norm_ulp"].eq(999.0).any()
    assert _rows(after[~again]) == _rows(saved[~sin_d1])


# --- only the published inputs rebuild the published files ----------------------------


@pytest.fixture
def published(tmp_path, monkeypatch, saved_accuracy):
    """A published results folder (a default-profile run and accuracy.csv) and a README with
    its generated block; plots drawn as tiny files (this is about where files go)."""
    from bench.files import atomic_write
    from bench.report import plots

    results, readme = tmp_path / "results", tmp_path / "README.md"
    results.mkdir()
    document = sin_run(seed=1)
    document["machine_info"]["bench_profile"] = "default"
    write_json(results / "benchmark-default-float64.json", document)
    saved_accuracy.to_csv(results / "accuracy.csv", index=False)
    readme.write_text(f"# project\n\n{README_BEGIN}\nold\n{README_END}\n")

    def write_plots(results_dir, timing=None, accuracy=None, workloads=None):
        return [atomic_write.write_text(Path(results_dir) / name, "plot") for name in plots.PLOTS]

    monkeypatch.setattr(plots, "write_plots", write_plots)
    return results, readme


def _published_files(results, readme) -> dict[str, bytes]:
    files = {p.name: p.read_bytes() for p in results.iterdir() if p.is_file()}
    return files | {"README.md": readme.read_bytes()}


@pytest.mark.parametrize(
    "name", ["timing_baseline.json", "benchmark-quick-float64.json"], ids=["baseline", "quick"]
)
def test_tables_of_a_foreign_json_in_results_leaves_the_published_files(published, name):
    results, readme = published
    write_json(results / name, sin_run(1.5, seed=4))  # a quick-profile run
    before = _published_files(results, readme)
    argv = ["tables", str(results / name), "--results", str(results), "--readme", str(readme)]
    assert cli.main(argv) == 0
    assert _published_files(results, readme) == before
    folder = results / "runs" / Path(name).stem
    assert {"timing.csv", "timing.md", "REPORT.md"} <= {p.name for p in folder.iterdir()}


def test_tables_of_a_foreign_accuracy_csv_leaves_the_published_files(
    published, tmp_path, saved_accuracy
):
    results, readme = published
    other = tmp_path / "some.csv"
    saved_accuracy.head(50).to_csv(other, index=False)
    before = _published_files(results, readme)
    argv = ["tables", "--accuracy", str(other), "--results", str(results), "--readme", str(readme)]
    assert cli.main(argv) == 0
    assert _published_files(results, readme) == before
    assert {"accuracy.md", "REPORT.md"} <= {p.name for p in (results / "runs" / "some").iterdir()}


def test_tables_of_the_published_inputs_or_publish_rewrites_the_published_files(
    published, tmp_path, saved_accuracy
):
    results, readme = published
    argv = ["tables", str(results / "benchmark-default-float64.json"), "--results", str(results)]
    assert cli.main([*argv, "--readme", str(readme)]) == 0
    assert "old" not in readme.read_text() and (results / "timing.csv").exists()
    assert not (results / "runs").exists()
    other = tmp_path / "some.csv"
    saved_accuracy.head(50).to_csv(other, index=False)
    argv = ["tables", "--accuracy", str(other), "--results", str(results), "--publish"]
    assert cli.main([*argv, "--readme", str(readme)]) == 0
    assert (results / "accuracy.md").read_text().count("\n") < 80  # built from the 50 rows
    assert not (results / "runs").exists()


# --- concurrent runs --------------------------------------------------------------------


def test_two_identical_runs_at_once_both_finish_whole(tmp_path, monkeypatch, published):
    """The second run starts and finishes while the first one's benchmarks are running."""
    from bench.timing import run_suite

    results = tmp_path / "results"
    argv = ["run", "--quick", "--families", "sin", "--backends", "dezero", "numpy"]
    argv += ["--depths", "1", "10", "--skip-accuracy", "--quiet", "--results", str(results)]
    codes = []

    def run_benchmarks(args, json_path, log_path):
        write_json(json_path, sin_run(seed=len(codes)))
        if not codes:
            codes.append("first in flight")
            codes.append(cli.main(argv))  # the identical second run, start to finish
        return 0, []

    monkeypatch.setattr(run_suite, "run_benchmarks", run_benchmarks)
    codes.append(cli.main(argv))
    assert codes[1:] == [0, 0]
    (folder,) = (results / "runs").iterdir()
    (saved,) = folder.glob("benchmark-*.json")
    assert json.loads(saved.read_text()) == json.loads(json.dumps(sin_run(seed=0)))
    assert not list(folder.glob(".*"))  # no temporary left behind
