"""Atomic writes: an exception in the middle of a write leaves the previous file whole."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from bench.files import atomic_write  # noqa: E402
from bench.files.table_format import write_csv_and_markdown  # noqa: E402


class Boom(Exception):
    pass


def test_exception_mid_write_leaves_previous_file_whole(tmp_path):
    target = tmp_path / "timing.csv"
    target.write_text("old,content\n1,2\n")
    with pytest.raises(Boom):
        with atomic_write.replacing(target) as temporary:
            temporary.write_text("new,half")  # half of the new file is on disk...
            raise Boom  # ...when the writer dies
    assert target.read_text() == "old,content\n1,2\n"
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left behind


def test_keyboard_interrupt_mid_write_leaves_previous_file_whole(tmp_path):
    target = tmp_path / "REPORT.md"
    target.write_text("# previous report\n")
    with pytest.raises(KeyboardInterrupt):
        with atomic_write.replacing(target) as temporary:
            temporary.write_text("# new")
            raise KeyboardInterrupt
    assert target.read_text() == "# previous report\n"
    assert list(tmp_path.iterdir()) == [target]


def test_write_replaces_and_is_recorded(tmp_path):
    target = tmp_path / "sub" / "accuracy.md"
    atomic_write.write_text(target, "hello\n")
    assert target.read_text() == "hello\n"
    assert target.stat().st_mode & 0o777 == atomic_write.NEW_FILE_MODE
    assert atomic_write.WRITTEN[-1] == target


def test_render_error_leaves_csv_and_markdown_as_they_were(tmp_path):
    (tmp_path / "timing.csv").write_text("old\n")
    (tmp_path / "timing.md").write_text("old md\n")

    def render(df):
        raise Boom

    with pytest.raises(Boom):
        write_csv_and_markdown(pd.DataFrame({"a": [1]}), tmp_path, "timing", render)
    assert (tmp_path / "timing.csv").read_text() == "old\n"
    assert (tmp_path / "timing.md").read_text() == "old md\n"


def test_failing_savefig_leaves_previous_png_whole(tmp_path, monkeypatch):
    target = tmp_path / "time_per_op.png"
    target.write_bytes(b"previous png")
    fig = plt.figure()

    def savefig(path, **kwargs):
        open(path, "wb").write(b"\x89PNG half")
        raise Boom

    monkeypatch.setattr(fig, "savefig", savefig)
    with pytest.raises(Boom):
        atomic_write.save_figure(fig, target)
    plt.close(fig)
    assert target.read_bytes() == b"previous png"
    assert list(tmp_path.iterdir()) == [target]
