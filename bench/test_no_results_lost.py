"""No run loses results: a failed, filtered, foreign or concurrent run leaves every file it
did not re-measure as it was. Runs are synthetic (no timing): sweeps and benchmarks are
replaced by small known tables."""

from pathlib import Path

import numpy as np
import pytest

import dezero.layers as L
from bench import cli
from bench.build_tables import RESULTS
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
    import bench.accuracy_results

    saved_accuracy.to_csv(tmp_path / "accuracy.csv", index=False)
    monkeypatch.setattr(bench.accuracy_results, "run_accuracy", _fake_sweep(saved_accuracy))
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
