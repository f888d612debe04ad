"""The findings' saved exact gradients: the reference's own values bit for bit, reused while
their key holds, recomputed when it does not, and a bad saved file is one clear error."""

from pathlib import Path

import numpy as np
import pytest

from bench.files.inputs import InputError
from bench.report.exact_gradients import FILE, SavedExact
from validation.accuracy import read_accuracy
from validation.depth_report import root_causes
from validation.reproducers import exact_gradient, exact_key, reproducers

RESULTS = Path(__file__).resolve().parents[1] / "results"


def _shallow_causes(n):
    """The committed findings' `n` cheapest causes (shallowest first) with different cases
    (causes on one case share its exact gradient)."""
    causes = root_causes(read_accuracy(RESULTS / "accuracy.csv")).sort_values("from_depth")
    by_key = {}
    for cause in causes.itertuples(index=False):
        by_key.setdefault(exact_key(cause), cause)
    return list(by_key.values())[:n]


def test_a_saved_gradient_is_the_references_bit_for_bit_and_is_used_again(tmp_path):
    cause = _shallow_causes(1)[0]
    first = SavedExact(tmp_path)
    got = first(cause)
    assert first.computed == 1
    assert np.array_equal(got, np.asarray(exact_gradient(cause), dtype=np.float64))
    first.save()
    again = SavedExact(tmp_path)
    assert np.array_equal(again(cause), got) and again.computed == 0


def test_a_key_that_no_longer_matches_is_computed_again_and_dropped(tmp_path):
    old, new = _shallow_causes(2)
    saved = SavedExact(tmp_path)
    saved(old)
    saved.save()
    later = SavedExact(tmp_path)
    later(new)
    assert later.computed == 1
    later.save()
    assert set(SavedExact(tmp_path).saved) == {exact_key(new)}


def test_the_committed_scripts_come_out_the_same_from_the_saved_gradients():
    folder = RESULTS / "findings"
    saved = SavedExact(folder)
    scripts = reproducers(read_accuracy(RESULTS / "accuracy.csv"), saved)
    assert scripts and saved.computed == 0, "a finding's gradient is missing from " + FILE
    for script in scripts:
        assert (folder / script.name).read_text() == script.text, script.name


@pytest.mark.parametrize("text", ["{not json", '["a list"]', '{"k": {"grad": []}}'])
def test_a_bad_saved_file_is_one_error_naming_it(tmp_path, text):
    (tmp_path / FILE).write_text(text)
    with pytest.raises(InputError, match=FILE):
        SavedExact(tmp_path)
