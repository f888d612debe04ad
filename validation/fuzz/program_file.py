"""A saved fuzz program's checks (`fuzz --replay`, the reproducers), before anything runs it.

A program file may have been edited by hand, so before any backend runs it every node is
checked against the format of `validation.fuzz.programs` (known op, its number of
arguments, each an earlier node; an input's shape and finite values agreeing), and then
the program is run forward once in numpy so that an op given arguments of the wrong shape
or attributes it cannot take is named here, with its node, instead of as a traceback or a
"reference run fail" row. Every problem is one line; reading the file and naming it are the
caller's (`bench.report.fuzz_files.load`).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from validation.fuzz.numpy_api_draws import NUMPY_API_BINARY, NUMPY_API_VARIADIC
from validation.fuzz.programs import BINARY, OP_NAMES, input_arrays, sinks

INPUT = "input"


def program_problem(program) -> str | None:
    """What keeps `program` (read from JSON) from running, or None: its nodes as data first,
    then a forward run."""
    return structure_problem(program) or forward_problem(program)


def structure_problem(program) -> str | None:
    """What is wrong with `program`'s nodes as data, or None."""
    if not isinstance(program, dict) or not isinstance(program.get("nodes"), list):
        return "expected an object with a 'nodes' list"
    nodes = program["nodes"]
    for i, node in enumerate(nodes):
        problem = _node_problem(i, node)
        if problem:
            return f"node {i}: {problem}"
    if not sinks(program):
        return "no op node (a program needs at least one op on its inputs)"
    read = {a for node in nodes for a in node.get("args", ())}
    unread = [i for i, node in enumerate(nodes) if node["op"] == INPUT and i not in read]
    if unread:
        return f"input node {unread[0]} is read by no op"
    return None


def _node_problem(i: int, node) -> str | None:
    if not isinstance(node, dict):
        return f"is a {type(node).__name__}, expected an object"
    op = node.get("op")
    if op not in (*OP_NAMES, INPUT):
        return f"unknown op {op!r}"
    if op == INPUT:
        shape, values = node.get("shape"), node.get("values")
        if not isinstance(shape, list) or not all(_is_int(n) and n >= 1 for n in shape):
            return f"input shape {shape!r} is not a list of positive integers"
        if not isinstance(values, list) or not all(_is_finite(v) for v in values):
            return "input values are not a list of finite numbers"
        if len(values) != math.prod(shape):
            return f"input shape {shape} holds {math.prod(shape)} values, got {len(values)}"
        return None
    args, attrs = node.get("args"), node.get("attrs", {})
    arity = 2 if op in (*BINARY, *NUMPY_API_BINARY) else 1
    variadic = op in NUMPY_API_VARIADIC
    if (
        not isinstance(args, list)
        or not (len(args) >= 1 if variadic else len(args) == arity)
        or not all(map(_is_int, args))
    ):
        wanted = "1 or more" if variadic else str(arity)
        return f"{op} takes {wanted} node index(es) as 'args', got {args!r}"
    if not all(0 <= a < i for a in args):
        return f"{op} reads node(s) {args}; only earlier nodes 0..{i - 1} can be read"
    if not isinstance(attrs, dict):
        return f"{op}'s 'attrs' is a {type(attrs).__name__}, expected an object"
    return None


def forward_problem(program: dict) -> str | None:
    """The first node whose op cannot run on its arguments (float64, numpy), or None."""
    from validation.fuzz.reference import RULES

    nodes = program["nodes"]
    leaves = iter(input_arrays(program))
    values = []
    with np.errstate(all="ignore"):  # a value outside an op's domain is a finding, not a misuse
        for i, node in enumerate(nodes):
            if node["op"] == INPUT:
                values.append(next(leaves))
                continue
            forward = RULES[node["op"]][0]
            try:
                values.append(np.asarray(forward(*(values[a] for a in node["args"]),
                                                 **node.get("attrs", {}))))  # fmt: skip
            except (TypeError, ValueError, IndexError) as error:
                first = str(error).splitlines()[0] if str(error) else type(error).__name__
                shapes = " and ".join(str(values[a].shape) for a in node["args"])
                return f"node {i} ({node['op']} of shape {shapes}) cannot run: {first}"
    return None


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_finite(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
