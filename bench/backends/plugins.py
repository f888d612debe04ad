"""Engines from outside this repository: entry points and `--backend-module` specs.

An engine joins the registry without an edit here. A package declares an entry point in the
group `dezero_bench.backends` whose value is `module:factory`, or a user names
`module:factory` on the command line; the factory is called with no arguments and returns a
`Backend`. Loading is an explicit call (`register`), never a side effect of importing, so a
broken plugin costs one line in the commands that use backends and nothing elsewhere.

A spec named on the command line must load (the user asked for it: `PluginError`, exit 2);
a broken entry point is recorded in `BROKEN` with its reason and the others still load.
The specs of a run travel to its child processes (the benchmark suite, spawned accuracy
workers) in `DEZERO_BENCH_BACKEND_MODULES` (comma-separated), set by `export` at the command
line's start.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import re
from dataclasses import dataclass

from bench.backends import BACKENDS
from bench.backends.base import Backend

GROUP = "dezero_bench.backends"
MODULES_ENV = "DEZERO_BENCH_BACKEND_MODULES"
BUILT_IN, ENTRY_POINT, COMMAND_LINE = "built-in", "entry point", "command line"
SPEC = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")
# a backend's name goes into test ids and result file names
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


class PluginError(ValueError):
    """A plugin that cannot join the registry; the message is one line naming it."""


@dataclass(frozen=True)
class Found:
    """An engine found outside the built-ins: where, by which spec, and why not, if not."""

    name: str  # the backend's name; an entry point's own name when it did not load
    source: str  # ENTRY_POINT or COMMAND_LINE
    spec: str  # 'module:factory'
    error: str = ""  # why it is not in the registry ('' when it is)


REGISTERED: dict[str, Found] = {}  # backend name -> how a plugin engine got in
BROKEN: dict[str, Found] = {}  # spec -> a plugin that did not load, with its reason
_BUILT_INS = frozenset(BACKENDS)


def check_spec(text: str) -> str:
    """`text` when it has the form 'package.module:factory', else PluginError."""
    if not SPEC.fullmatch(text):
        raise PluginError(f"--backend-module must look like 'package.module:factory', got {text!r}")
    return text


def load(spec: str, label: str) -> Backend:
    """Import `spec`'s module, call its factory, check what it returns; PluginError naming
    `label` (how the user knows this plugin) when any step fails."""
    module_name, _, attr = check_spec(spec).partition(":")
    try:
        target = importlib.import_module(module_name)
    except Exception as error:  # a plugin's import may fail in any way: one line, not a trace
        raise PluginError(f"{label}: cannot import {module_name!r} ({_one_line(error)})") from None
    for part in attr.split("."):
        target = getattr(target, part, None)
        if target is None:
            raise PluginError(f"{label}: module {module_name!r} has no {attr!r}")
    if not callable(target):
        raise PluginError(f"{label}: {attr!r} is a {type(target).__name__}, not a factory")
    try:
        backend = target()
    except Exception as error:
        raise PluginError(f"{label}: factory {attr!r} raised {_one_line(error)}") from None
    if not isinstance(backend, Backend):
        raise PluginError(
            f"{label}: factory {attr!r} returned a {type(backend).__name__}, "
            "not a bench.backends.base.Backend"
        )
    if not isinstance(backend.name, str) or not NAME.fullmatch(backend.name):
        raise PluginError(
            f"{label}: backend name must be letters, digits and '_', got {backend.name!r}"
        )
    return backend


def _add(backend: Backend, found: Found) -> None:
    """Put `backend` in the registry, unless its name is taken by another engine."""
    if backend.name in _BUILT_INS:
        raise PluginError(f"{found.spec}: backend name {backend.name!r} is a built-in backend's")
    earlier = REGISTERED.get(backend.name)
    if earlier is not None and earlier.spec != found.spec:
        raise PluginError(
            f"{found.spec}: backend name {backend.name!r} is taken by {earlier.spec} "
            f"({earlier.source})"
        )
    BACKENDS[backend.name] = backend
    REGISTERED[backend.name] = found


def _registered_spec(spec: str) -> bool:
    return any(found.spec == spec for found in REGISTERED.values())


def load_entry_points() -> list[Found]:
    """Every entry point of GROUP into the registry; one that fails is kept in BROKEN with its
    reason (and returned) so the others still load."""
    broken = []
    for entry in importlib.metadata.entry_points(group=GROUP):
        spec = entry.value.split("[")[0].strip()  # an entry point may name extras: 'm:f [x]'
        if _registered_spec(spec) or spec in BROKEN:
            continue
        label = f"entry point {entry.name!r} ({spec})"
        try:
            backend = load(spec, label)
            _add(backend, Found(backend.name, ENTRY_POINT, spec))
        except PluginError as error:
            BROKEN[spec] = Found(entry.name, ENTRY_POINT, spec, str(error))
            broken.append(BROKEN[spec])
    return broken


def load_modules(specs) -> None:
    """Every 'module:factory' the user named into the registry; PluginError on the first bad one."""
    for spec in specs:
        if not _registered_spec(spec):
            backend = load(spec, f"--backend-module {spec}")
            _add(backend, Found(backend.name, COMMAND_LINE, spec))


def export(specs) -> None:
    """Hand `specs` to this run's child processes (call it where the run sets itself up)."""
    if specs:
        os.environ[MODULES_ENV] = ",".join(specs)


def register_from_environment() -> list[Found]:
    """Entry points and the specs a parent run exported (a child process's set-up); returns
    the broken entry points."""
    broken = load_entry_points()
    load_modules(s for s in os.environ.get(MODULES_ENV, "").split(",") if s)
    return broken


def lookup(name: str) -> Backend:
    """The registered backend `name`, loading plugins first where a child process has not yet."""
    if name not in BACKENDS:
        register_from_environment()
    try:
        return BACKENDS[name]
    except KeyError:
        raise KeyError(f"unknown backend {name!r}; registered: {', '.join(BACKENDS)}") from None


def source(name: str) -> Found:
    """How the registered backend `name` was found."""
    return REGISTERED.get(name) or Found(name, BUILT_IN, "")


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or "no message"
    return f"{type(error).__name__}: {text}"[:300]
