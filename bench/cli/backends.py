"""`backends`: every engine found (built-in, entry point, --backend-module) and what it supports."""

from __future__ import annotations

import json

import pandas as pd

from bench.backends.capabilities import every_engine
from bench.backends.capabilities import summary as summary_rows
from bench.cli import args as shared
from bench.files.table_format import markdown_table


def add_parser(sub) -> None:
    """Declare `backends` on the CLI's subparsers."""
    backends = sub.add_parser(
        "backends", help="list every engine found, its version, device and what it supports"
    )
    backends.add_argument(
        "--json", action="store_true", help="one JSON list with every field (machine-readable)"
    )
    backends.add_argument(
        "--backends",
        nargs="+",
        choices=shared.NAMES["backends"],
        metavar="NAME",
        help="only these engines (each one listed imports its framework)",
    )
    shared.backend_module_arg(backends)


def main(args) -> int:
    """Print the engines; a plugin that did not load is a row with its reason."""
    records = every_engine(args.backends)
    if args.json:
        print(json.dumps([r.as_dict() for r in records], indent=1))
    else:
        print(markdown_table(pd.DataFrame(summary_rows(records))))
    return 0
