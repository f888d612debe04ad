"""The README a newcomer reads: short, the generated results near the top and equal to what
`python -m bench tables` writes, links that resolve, and no lab-notebook references (issue
numbers, commit hashes) in it or in docs/."""

import re

import pandas as pd

from bench import cli
from bench.files.destinations import README, RESULTS
from bench.report import markdown as report
from bench.timing import tables as timing
from bench.timing.workload_tables import WORKLOADS_CSV, read_workloads

REPO = README.parent
DOCS = sorted((REPO / "docs").glob("*.md"))
# "issue #9", "(#13)", or a hex word of 7-40 characters holding a digit and a letter (not
# the digits of a float such as 8.246324826140356e-06)
NOTEBOOK = re.compile(
    r"\bissues? #?\d+|(?<![\w&])#\d+\b"
    r"|(?<!\.)\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}\b",
    re.IGNORECASE,
)


def _readme_lines() -> list[str]:
    return README.read_text().splitlines()


def test_readme_fits_160_lines_with_the_results_block_near_the_top():
    lines = _readme_lines()
    assert len(lines) <= 160, len(lines)
    assert lines.count(report.README_BEGIN) == 1 and lines.count(report.README_END) == 1
    # after the two commands, before the API and the command table
    begin = lines.index(report.README_BEGIN)
    assert begin < 40, begin
    assert any(line.startswith("make results") for line in lines[:begin])
    assert any(line.startswith("make test") for line in lines[:begin])
    assert begin < next(i for i, line in enumerate(lines) if line.startswith("## dezero"))


def test_readme_block_is_what_tables_writes_from_the_committed_runs():
    raw, _ = timing.load_benchmarks([RESULTS / "benchmark-default-float64.json"])
    accuracy = pd.read_csv(RESULTS / "accuracy.csv")
    saved = RESULTS / WORKLOADS_CSV  # the evaluations' lines, once a run has committed them
    workloads = read_workloads(saved) if saved.exists() else None
    block = report.readme_block(timing.timing_table(raw), accuracy, workloads)
    text = README.read_text()
    assert f"{report.README_BEGIN}\n{block}\n{report.README_END}" in text


def test_readme_names_every_command_of_the_cli():
    text = README.read_text()
    for command in cli.COMMANDS:
        assert re.search(rf"^\| `{command}\b", text, re.MULTILINE), command


def test_readme_and_docs_links_resolve():
    for page in [README, *DOCS]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text()):
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


def test_readme_and_docs_carry_no_issue_numbers_or_commit_hashes():
    assert len(DOCS) >= 4, [p.name for p in DOCS]
    for page in [README, *DOCS]:
        for number, line in enumerate(page.read_text().splitlines(), 1):
            assert not NOTEBOOK.search(line), f"{page.name}:{number}: {line}"


def test_the_notebook_pattern_catches_what_it_is_for():
    for text in ("until issue #9", "issue 14", "targets (#13)", "commit 93594d5", "7d5ce8f"):
        assert NOTEBOOK.search(text), text
    harmless = (
        "depth 10,000",
        "float64",
        "`#` comment",
        "deadbeef",
        "x86_64",
        "&#1234;",
        "8.2463e-06",
    )
    for text in harmless:
        assert not NOTEBOOK.search(text), text
