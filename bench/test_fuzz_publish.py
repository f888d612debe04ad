"""`fuzz --publish`: a bad record is one line before any work; a run merges its engines' rows
into the record and keeps every other engine's."""

from __future__ import annotations

import pandas as pd
import pytest

from bench import cli
from bench.files.atomic_write import write_csv
from bench.report.markdown import README_BEGIN, README_END
from bench.timing.testing_runs import default_results
from validation.fuzz import checker
from validation.fuzz.published import read_record, records


def _exit_code(argv) -> int:
    try:
        return cli.main(argv)
    except SystemExit as exit_info:
        return exit_info.code


@pytest.mark.parametrize(
    "text", ["engine,root_cause\nmygrad,none\n", "not,a\ncsv"], ids=["columns", "junk"]
)
def test_publish_into_a_bad_record_is_one_line_before_any_work(text, tmp_path, monkeypatch, capsys):
    record = tmp_path / "record.csv"
    record.write_text(text)
    monkeypatch.setattr(checker, "run_fuzz", lambda *a, **k: pytest.fail("fuzzed before the check"))
    argv = ["fuzz", "--backends", "dezero", "--programs", "1", "--out", str(tmp_path / "out")]
    assert _exit_code([*argv, "--publish", str(record)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(record) in err and "--publish" in err, err
    assert "not a fuzz findings record" in err, err
    assert record.read_text() == text and not (tmp_path / "out").exists()


def _mygrad_record():
    """A record holding one planted mygrad finding (no engine has to fail for it)."""
    program = {"version": 1, "nodes": [{"op": "input", "shape": [2], "values": [0.5, 1.5]},
                                       {"op": "sin", "args": [0]}]}  # fmt: skip
    planted = {"backend": "mygrad", "quantity": "grad0", "status": "fail", "failure": "ulp"}
    planted |= {"norm_ulp": 1e9, "floor_ulp": 0.5, "allowance": 2.0**-44}
    finding = checker.Finding("mygrad", "ulp", program, [planted], 0)
    return records([finding], ["mygrad", "paddle"], 11, {"programs": 9, "ops_covered": ["sin"]},
                   {"mygrad": "2.5.0", "paddle": "3.3.1"}, "python -m bench fuzz")  # fmt: skip


def test_publish_merges_the_run_and_keeps_other_engines_rows(tmp_path, capsys):
    before = _mygrad_record()
    record = tmp_path / "record.csv"
    write_csv(before, record)
    argv = ["fuzz", "--backends", "dezero", "--programs", "2", "--seed", "3"]
    assert _exit_code([*argv, "--out", str(tmp_path / "out"), "--publish", str(record)]) == 0
    after = read_record(record)
    mygrad = after[after["engine"] != "dezero"].reset_index(drop=True)
    pd.testing.assert_frame_equal(mygrad, before)
    dezero = after[after["engine"] == "dezero"]
    assert list(dezero["root_cause"]) == ["none"] and list(dezero["programs"]) == [2]
    assert list(dezero["command"]) == [
        "python -m bench fuzz --backends dezero --programs 2 --seed 3"
    ]
    assert "merged 0 finding(s) of dezero" in capsys.readouterr().out


def _results(tmp_path):
    results, readme = default_results(tmp_path, (README_BEGIN, README_END))
    return results, ["tables", "--results", str(results), "--readme", str(readme)]


def test_tables_writes_the_fuzz_section_and_scripts_and_drops_stale_ones(tmp_path):
    results, argv = _results(tmp_path)
    write_csv(_mygrad_record(), results / "fuzz_findings.csv")
    stale = results / "findings" / "fuzz" / "mygrad-old-cause.py"
    stale.parent.mkdir(parents=True)
    stale.write_text("print('an older finding')\n")
    assert _exit_code(argv) == 0
    assert [p.name for p in stale.parent.iterdir()] == ["mygrad-sin-grad-wrong.py"]
    report = (results / "REPORT.md").read_text()
    assert "### Fuzzer findings" in report and "findings/fuzz/mygrad-sin-grad-wrong.py" in report
    assert "paddle 3.3.1: nothing found in 9 programs covering 1 of the" in report


def test_tables_with_a_bad_fuzz_record_is_one_line_and_changes_nothing(tmp_path, capsys):
    results, argv = _results(tmp_path)
    (results / "fuzz_findings.csv").write_text("engine,root_cause\nmygrad,none\n")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert _exit_code(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "fuzz_findings.csv" in err and "no column(s)" in err, err
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before
