"""Fingerprints: a short hash of everything that decides an accuracy row's numbers.

A row is a deterministic function of the code it runs (the chain, the exact reference and
its rounding floor, the comparison, the backend's adapter and engine), the backend's
version and device, the case (family, depth, width, dtype, seed), the profile's limits for
that backend, and the CPU features that can change a rounding (`Backend.simd_level`). Two
runs whose fingerprints agree give the same row, so a run may keep a saved row instead of
computing it again (`validation.accuracy_cache`).

Code is hashed by content under its path relative to the repository: a fresh clone of the
same commit gets the same fingerprints, whatever its folder, mtimes or stale bytecode.
Which files a piece of code depends on is read from its import statements (with `ast`;
nothing is imported): importing a project package by its name (`import dezero`, `from dezero
import Variable`) takes every file of that package; importing a module takes that module's
file. Both are followed transitively. A package's `__init__` is not taken for its
submodules: `bench.backends.base` does not depend on every backend the registry lists.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import platform
from pathlib import Path

from bench.backends import BACKENDS

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PACKAGES = ("dezero", "bench", "validation")
DIGITS = 16  # hex digits kept: 64 bits, no accidental collision across a results table


def digest(*parts) -> str:
    """The hash of JSON-serialisable `parts`, in order, as DIGITS hex digits."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:DIGITS]


def _files_of(dotted: str) -> list[Path]:
    """The project files an import of `dotted` runs: a module's file, or every file of a
    package (tests excluded); [] for anything outside the project."""
    if dotted.split(".")[0] not in PROJECT_PACKAGES:
        return []
    base = ROOT.joinpath(*dotted.split("."))
    if base.is_dir():
        return sorted(p for p in base.rglob("*.py") if not p.name.startswith("test_"))
    module = base.with_suffix(".py")
    return [module] if module.is_file() else []


def _imports(path: Path) -> set[str]:
    """Every dotted name `path` imports, at any depth of the file (lazy imports too)."""
    names = set()
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    for node in ast.walk(ast.parse(path.read_bytes(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative: resolved against this file's package
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{parent}.{module}".strip(".")
            for alias in node.names:
                submodule = f"{module}.{alias.name}"
                names.add(submodule if _files_of(submodule) else module)
    return names


@functools.cache
def source_files(*modules: str) -> tuple[Path, ...]:
    """The project files `modules` run, found by following their imports; sorted."""
    seen: set[Path] = set()
    todo = [path for name in modules for path in _files_of(name)]
    if not todo:
        raise ValueError(f"no project source for {modules!r}")
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        todo += [p for name in _imports(path) for p in _files_of(name) if p not in seen]
    return tuple(sorted(seen))


@functools.cache
def code_digest(*modules: str) -> str:
    """The hash of the contents of `source_files(*modules)`, each under its relative path."""
    return _digest_files(source_files(*modules))


def file_digest(relative: str) -> str:
    """The hash of one project file's contents, `relative` to the repository."""
    return _digest_files((ROOT / relative,))


def _digest_files(paths) -> str:
    entries = [
        (path.relative_to(ROOT).as_posix(), hashlib.sha256(path.read_bytes()).hexdigest())
        for path in paths
    ]
    return digest(*entries)


@functools.cache
def platform_digest() -> str:
    """What the reference and the chains' inputs round with, for every backend: numpy's and
    mpmath's versions, numpy's SIMD level and the CPU architecture (long double's format)."""
    from importlib.metadata import version

    # the numpy backend rounds with numpy's own kernels: its level is numpy's
    numpy_level = BACKENDS["numpy"].simd_level()
    return digest(version("numpy"), version("mpmath"), numpy_level, platform.machine())
