"""The REPORT's depth sections, in Markdown: the depth views of the accuracy table
(`validation.depth_report`: excess over the floor, growth exponents, findings by root cause)
with the words that say how to read them.
"""

from __future__ import annotations

import pandas as pd

from bench.files.table_format import markdown_table
from bench.workloads.chains import make_chain
from validation.depth_report import (
    FINDING_FACTOR,
    FINDING_ULP,
    FINDINGS_FOLDER,
    GROWTH_MIN_DEPTH,
    GROWTH_MIN_DEPTHS,
    NO_SCRIPT,
    excess_headline,
    growth_exponents,
    numpy_exp_entry,
    reproducer,
    root_causes,
    script_engine,
    script_name,
)
from validation.reference.tape import CHAIN_RULES, Tape


def _ops_of(family: str, depth: int) -> str:
    """The op names `family` calls at `depth` (a program's own ops; else one layer's, read off
    a depth-1 chain on a tape)."""
    chain = make_chain(family, depth, 1)
    if chain.program:
        return ", ".join(sorted(set(chain.program)))
    chain = make_chain(family, 1, 1)
    tape = Tape(CHAIN_RULES)
    chain.apply(tape.ops, *map(tape.leaf, (chain.x, *chain.params)))
    return ", ".join(sorted({name for name, *_ in tape.records}))


def render_depth_sections(accuracy: pd.DataFrame) -> list[str]:
    """The REPORT's Markdown lines: excess headline at 10^4 and 10^5, growth, findings."""
    if "excess" not in accuracy or accuracy["floor_ulp"].isna().all():
        return []
    out = []
    for depth in (10_000, 100_000):
        for dtype in ("float64", "float32"):
            table = excess_headline(accuracy, depth, dtype)
            if table.empty:
                continue
            out += [
                "",
                f"## Gradient error over the rounding floor, depth {depth:,}, {dtype}",
                "",
                "Each cell is the backend's worst-element gradient error divided by the floor "
                "(the error of a correctly rounding engine: every op's output moved by up to "
                "half an ULP, 8 random roundings, at least 0.5 ULP). 1 is as good as rounding "
                "allows; `underflow` = the exact gradient is not a normal number of the dtype.",
                "",
                markdown_table(table),
            ]
    for dtype in ("float64", "float32"):
        table = growth_exponents(accuracy, dtype)
        if table.empty:
            continue
        out += [
            "",
            f"## Growth of the gradient error with depth, {dtype}",
            "",
            "Slope of log(max |ULP error|) against log(depth) over depths >= "
            f"{GROWTH_MIN_DEPTH} with an error figure (at least {GROWTH_MIN_DEPTHS}): 0.5 is "
            "random-walk rounding (sqrt(depth)), 1 a systematic bias (depth); `floor` is the "
            "floor's own slope, what a correctly rounding engine would show.",
            "",
            markdown_table(table),
        ]
    causes = root_causes(accuracy)
    out += ["", "## Findings", ""]
    if causes.empty:
        out.append(
            f"No backend's gradient error exceeds the best backend's by more than "
            f"{FINDING_FACTOR:g}x and {FINDING_ULP:g} ULP and the rounding floor on any case."
        )
        return out
    out += [
        f"A finding is a backend whose gradient error exceeds the best backend's on the same "
        f"case by more than {FINDING_FACTOR:g}x and {FINDING_ULP:g} ULP, and the rounding floor "
        "(correct rounding cannot explain it). Backends with the same signed error wherever "
        "one of them is a finding compute the same roundings, so they share one entry: one "
        "per family, dtype and cause. `from depth` is the shallowest depth where it shows; "
        "the numbers are its worst case, and the command below each entry measures it again.",
        "",
        "Each entry has a standalone script in the engine's own API (numpy and that engine "
        f"only), in `{FINDINGS_FOLDER}/`: it runs the entry's shallowest case, prints the "
        "engine's gradient and the exact one, and exits 1 while it is still a finding (0 once "
        "it is not: the mlp entries depend on the machine's matmul kernels). Kind: none of "
        "them is a wrong derivative: each is an "
        "engine's roundings, a kernel that is not correctly rounded or a derivative formula "
        "that rounds worse, adding up over a deep chain: a defensible design choice (speed "
        "over correct rounding), worth a maintainer's look where the rounding is biased, "
        "since a bias grows like the depth instead of its square root.",
        "",
    ]
    for c in causes.itertuples(index=False):
        out += [
            f"- **`{c.family}` {c.dtype}, width {c.width}** (ops: {_ops_of(c.family, c.depth)}): "
            f"{', '.join(c.backends)}; from depth {c.from_depth:,}; at depth {c.depth:,} "
            f"{c.error_ulp:,.0f} ULP against {c.best_ulp:,.1f} for {c.best_backend} "
            f"(floor {c.floor_ulp:,.1f} ULP).",
            f"  `{reproducer(c)}`",
        ]
        name = script_name(c)
        if name:
            engine = script_engine(c)
            out.append(
                f"  Standalone ({'numpy' if engine == 'numpy' else engine + ' and numpy'} "
                f"only): [`{FINDINGS_FOLDER}/{name}`]({FINDINGS_FOLDER}/{name})"
            )
        else:
            out.append(f"  No standalone script: {NO_SCRIPT}.")
    out += numpy_exp_entry()
    return out
