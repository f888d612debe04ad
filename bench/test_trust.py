"""No run clobbers the published results, bad input is one line and exit 2, Ctrl-C
is one line and exit 130. Runs are synthetic (no timing) except the one real Ctrl-C test."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import cli
from bench.files.destinations import RESULTS
from bench.report.markdown import README_BEGIN, README_END
from bench.timing.testing_runs import sin_run, write_json
from validation.accuracy import read_accuracy

REPO = Path(__file__).resolve().parent.parent


def _snapshot(*roots) -> dict[str, bytes]:
    """Every file under `roots` except run folders, by path -> bytes."""
    files = {}
    for root in roots:
        paths = [root] if root.is_file() else sorted(root.rglob("*"))
        for path in paths:
            if path.is_file() and "runs" not in path.relative_to(root.parent).parts:
                files[str(path)] = path.read_bytes()
    return files


@pytest.fixture(scope="module")
def accuracy_rows():
    """A slice of the committed accuracy table (dezero, numpy, torch on sin)."""
    df = read_accuracy(RESULTS / "accuracy.csv")
    keep = df["family"].eq("sin") & df["backend"].isin(["dezero", "numpy", "torch"])
    return df[keep & df["depth"].le(100)].reset_index(drop=True)


@pytest.fixture(scope="module")
def published_template(tmp_path_factory, accuracy_rows):
    """A published results folder and README built by `tables` (plots included), as a
    default run leaves it; built once, copied for each test."""
    tmp_path = tmp_path_factory.mktemp("published")
    results, readme = tmp_path / "results", tmp_path / "README.md"
    results.mkdir()
    document = sin_run(seed=1)
    document["machine_info"]["bench_profile"] = "default"
    write_json(results / "benchmark-default-float64.json", document)
    accuracy_rows.to_csv(results / "accuracy.csv", index=False)
    readme.write_text(f"# project\n\n{README_BEGIN}\nold\n{README_END}\n")
    assert cli.main(["tables", "--results", str(results), "--readme", str(readme)]) == 0
    assert "old" not in readme.read_text()
    assert (results / "time_per_op.png").exists()
    return results, readme


@pytest.fixture
def published(published_template, tmp_path, monkeypatch):
    """A copy of the published folder; plots drawn as tiny files (drawing takes seconds, the
    tests here are about where files go, not what they show)."""
    from bench.files import atomic_write
    from bench.report import plots

    results, readme = tmp_path / "results", tmp_path / "README.md"
    shutil.copytree(published_template[0], results)
    shutil.copy(published_template[1], readme)

    def write_plots(results_dir, timing=None, accuracy=None, workloads=None):
        return [atomic_write.write_text(Path(results_dir) / name, "plot") for name in plots.PLOTS]

    monkeypatch.setattr(plots, "write_plots", write_plots)
    return results, readme


def _one_line_error(capsys, *expected):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for text in expected:
        assert text in err, err
    return err


BAD_JSON = {
    "not_a_run.json": ('{"foo": 1}', "is not a pytest-benchmark run: no 'benchmarks' list"),
    "truncated.json": ('{"benchmarks": [{"name": "x", "st', "is not valid JSON"),
    "empty.json": ("", "is empty"),
    "no_benchmarks.json": ('{"benchmarks": []}', "holds no benchmarks"),
    "a_list.json": ("[1, 2]", "is not a pytest-benchmark run"),
    "no_stats.json": ('{"benchmarks": [{"name": "x"}]}', "has no 'stats' object"),
    "string_median.json": (
        '{"benchmarks": [{"name": "x", "stats": {"min": 1, "max": 1, "mean": 1, "stddev": 0, '
        '"rounds": 1, "median": "fast", "iqr": 0, "q1": 1, "q3": 1}}]}',
        "stats lack numeric median",
    ),
}


@pytest.mark.parametrize("name", list(BAD_JSON))
def test_tables_with_a_bad_benchmark_json_changes_nothing(published, tmp_path, name, capsys):
    results, readme = published
    before = _snapshot(results, readme)
    text, problem = BAD_JSON[name]
    bad = tmp_path / name
    bad.write_text(text)
    argv = ["tables", str(bad), "--results", str(results), "--readme", str(readme)]
    assert cli.main(argv) == 2
    _one_line_error(capsys, str(bad), problem)
    assert _snapshot(results, readme) == before
    assert not (results / "runs").exists()


def test_benchmark_without_the_suite_keys_is_one_line(published, tmp_path, capsys):
    results, readme = published
    document = sin_run()
    del document["benchmarks"][0]["extra_info"]["family"]
    bad = write_json(tmp_path / "foreign.json", document)
    assert cli.main(["tables", str(bad), "--results", str(results), "--no-readme"]) == 2
    _one_line_error(capsys, "foreign.json", "has no family")


def test_missing_benchmark_json_is_one_line(published, capsys):
    results, readme = published
    assert cli.main(["tables", "nowhere.json", "--results", str(results)]) == 2
    _one_line_error(capsys, "nowhere.json", "no such benchmark JSON file")


@pytest.mark.parametrize(
    "text, problem",
    [
        ("backend,family\ndezero,sin\n", "lacks column(s)"),
        ("", "is empty"),
        ("backend,against,family,depth\n", "lacks column(s)"),
    ],
)
def test_tables_with_a_bad_accuracy_csv_changes_nothing(published, tmp_path, text, problem, capsys):
    results, readme = published
    before = _snapshot(results, readme)
    bad = tmp_path / "accuracy.csv"
    bad.write_text(text)
    argv = ["tables", "--accuracy", str(bad), "--results", str(results), "--readme", str(readme)]
    assert cli.main(argv) == 2
    _one_line_error(capsys, str(bad), problem)
    assert _snapshot(results, readme) == before


def test_accuracy_csv_with_wrong_types_is_one_line(published, tmp_path, accuracy_rows, capsys):
    results, readme = published
    bad = tmp_path / "accuracy.csv"
    accuracy_rows.assign(depth="deep").to_csv(bad, index=False)
    assert cli.main(["tables", "--accuracy", str(bad), "--results", str(results)]) == 2
    _one_line_error(capsys, str(bad), "not a readable CSV of the expected types")


def test_check_with_a_bad_baseline_is_one_line_before_measuring(tmp_path, monkeypatch, capsys):
    from validation import gate

    bad = tmp_path / "accuracy_baseline.csv"
    bad.write_text("family,depth\nsin,1\n")
    monkeypatch.setattr(gate, "BASELINE_PATH", bad)
    monkeypatch.setattr(gate, "ci_accuracy", lambda *a: pytest.fail("measured before checking"))
    assert cli.main(["check"]) == 2
    _one_line_error(capsys, str(bad), "lacks column(s) width")


def test_unwritable_output_folder_is_one_line(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    json = write_json(tmp_path / "run.json", sin_run())
    assert cli.main(["tables", str(json), "--results", str(blocker / "results")]) == 2
    _one_line_error(capsys, "output folder is not writable")


@pytest.mark.parametrize(
    "argv", [["run", "--backends", "nope"], ["accuracy", "--profile", "huge"], ["run", "--depths"]]
)
def test_bad_arguments_are_one_line(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    _one_line_error(capsys, "dezero-bench")


def test_tables_with_another_json_writes_its_own_folder(published, tmp_path):
    results, readme = published
    before = _snapshot(results, readme)
    other = write_json(tmp_path / "laptop.json", sin_run(1.5, seed=4))
    assert cli.main(["tables", str(other), "--results", str(results), "--readme", str(readme)]) == 0
    assert _snapshot(results, readme) == before
    folder = results / "runs" / "laptop"
    assert {"timing.csv", "timing.md", "REPORT.md"} <= {p.name for p in folder.iterdir()}


def _fake_benchmarks(monkeypatch, document):
    """`run` without timing: the suite's subprocess replaced by writing `document`."""
    from bench.timing import run_suite

    def run_benchmarks(args, json_path, log_path):
        write_json(json_path, document)
        return 0, []

    monkeypatch.setattr(run_suite, "run_benchmarks", run_benchmarks)


def test_quick_run_leaves_published_results_byte_identical(
    published, monkeypatch, accuracy_rows, capsys
):
    from bench.cli import accuracy_sweep as accuracy_results

    results, readme = published
    before = _snapshot(results, readme)
    _fake_benchmarks(monkeypatch, sin_run(2.0, seed=5))
    monkeypatch.setattr(accuracy_results, "run_accuracy", lambda *a, **k: accuracy_rows.head(30))
    argv = ["run", "--quick", "--quiet", "--skip-workloads", "--results", str(results)]
    assert cli.main([*argv, "--readme", str(readme)]) == 0
    assert _snapshot(results, readme) == before
    folder = results / "runs" / "quick"
    written = {p.name for p in folder.iterdir()}
    assert {"benchmark-quick-float64.json", "accuracy.csv", "timing.csv", "REPORT.md"} <= written
    assert len(read_accuracy(folder / "accuracy.csv")) == 30


@pytest.mark.parametrize(
    "flags, kind",
    [
        (["--dtype", "float32"], "default-float32"),
        (["--backends", "dezero", "--families", "sin"], "default-dezero-sin"),
    ],
)
def test_float32_and_filtered_runs_write_their_own_folder(
    published, monkeypatch, flags, kind, capsys
):
    results, readme = published
    before = _snapshot(results, readme)
    _fake_benchmarks(monkeypatch, sin_run(seed=6))
    argv = ["run", *flags, "--skip-accuracy", "--quiet", "--results", str(results)]
    assert cli.main([*argv, "--readme", str(readme)]) == 0
    assert _snapshot(results, readme) == before
    assert (results / "runs" / kind / "timing.csv").exists()


def test_publish_flag_writes_the_published_files(published, monkeypatch):
    results, readme = published
    _fake_benchmarks(monkeypatch, sin_run(3.0, seed=7))
    argv = ["run", "--quick", "--skip-accuracy", "--skip-workloads", "--quiet", "--publish"]
    argv += ["--results", str(results)]
    before = (results / "timing.csv").read_bytes()
    assert cli.main([*argv, "--readme", str(readme)]) == 0
    assert (results / "benchmark-quick-float64.json").exists()
    assert (results / "timing.csv").read_bytes() != before


def test_ctrl_c_in_the_accuracy_sweep_is_one_line_and_130(published, monkeypatch, capsys):
    from bench.cli import accuracy_sweep as accuracy_results

    results, readme = published
    before = _snapshot(results, readme)
    _fake_benchmarks(monkeypatch, sin_run(seed=8))

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(accuracy_results, "run_accuracy", interrupted)
    argv = ["run", "--quick", "--quiet", "--results", str(results), "--readme", str(readme)]
    assert cli.main(argv) == 130
    err = _one_line_error(capsys, "interrupted: saved 1 file(s)", "benchmark-quick-float64.json")
    assert "was not saved" in err
    assert _snapshot(results, readme) == before
    assert not (results / "runs" / "quick" / "accuracy.csv").exists()


def test_ctrl_c_before_anything_is_saved(monkeypatch, capsys):
    monkeypatch.setattr(cli.COMMANDS["check"], "main", lambda args: (_ for _ in ()).throw(
        KeyboardInterrupt))  # fmt: skip
    assert cli.main(["check"]) == 130
    _one_line_error(capsys, "interrupted: nothing was saved")


def _sigint_default():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_real_ctrl_c_during_benchmarks_stops_cleanly(tmp_path):
    """SIGINT to the whole process group, as a terminal sends it, mid benchmark run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = str(REPO)
    flags = ["--skip-accuracy", "--skip-workloads", "--quiet", "--backends", "dezero", "numpy"]
    flags += ["--no-readme"]
    command = [sys.executable, "-m", "bench", "run", "--quick", *flags, "--results", str(tmp_path)]
    # A job started in the background by a non-interactive shell inherits SIGINT ignored (so
    # Python installs no handler); a terminal's Ctrl-C reaches a process that does not ignore
    # it, so the child gets the default disposition whatever launched the test run.
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_sigint_default,
    )
    partial = tmp_path / "runs" / "quick-dezero-numpy"
    deadline = time.monotonic() + 60
    while not partial.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3)  # into the benchmarks
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("interrupted: nothing was saved")
    assert not list(partial.glob("*.json")) and not list(partial.glob(".*"))
