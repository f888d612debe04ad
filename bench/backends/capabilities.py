"""What each registered engine supports, read from its adapter rather than declared twice.

- dtypes: the project's dtypes (`bench.workloads.profiles.DTYPES`) at which `unsupported()`
  raises no objection to a small repeated chain (the adapter's own answer, as every run asks it);
- orders: first always, second where the adapter declares `second_order`;
- ops: the chain registry's ops (`bench.workloads.ops.OPS`) its op namespace has;
- evaluations: the GradBench evaluations the workloads layer runs in it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from bench.backends import BACKENDS, plugins
from bench.backends.base import Backend, resolve
from bench.workloads.chains import make_chain
from bench.workloads.ops import OPS
from bench.workloads.profiles import DTYPES

PROBE = ("sin", 2, 1)  # family, depth, width: a repeated block every built-in runs


@dataclass
class Capabilities:
    """One engine as `python -m bench backends` lists it."""

    name: str
    source: str  # plugins.BUILT_IN, ENTRY_POINT or COMMAND_LINE
    spec: str = ""  # 'module:factory' of a plugin
    available: bool = False
    reason: str = ""  # why not available, or why a plugin did not load
    version: str = ""
    device: str = ""
    orders: list[str] = field(default_factory=list)
    dtypes: list[str] = field(default_factory=list)
    ops: list[str] = field(default_factory=list)
    evaluations: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def describe(name: str, backend: Backend) -> Capabilities:
    """The capabilities of the registered `backend` (imports its framework when installed)."""
    found = plugins.source(name)
    record = Capabilities(name, found.source, found.spec)
    record.available, record.reason = backend.available()
    if not record.available:
        return record
    try:
        record.version = backend.version()
        record.device = backend.device().label
        record.orders = ["first", "second"] if backend.second_order else ["first"]
        chain = make_chain(*PROBE)
        record.dtypes = [d for d, t in DTYPES.items() if backend.unsupported(chain, t) is None]
        record.ops = ops_of(backend)
        record.evaluations = evaluations_of(name)
    except Exception as error:  # an adapter's bug is reported in its row, not a traceback
        record.available = False
        record.reason = f"{name}: its adapter raised {type(error).__name__}: {error}"[:300]
    return record


def ops_of(backend: Backend) -> list[str]:
    """The registry ops `backend`'s namespace offers; op by op when the whole namespace fails
    to build (an adapter whose framework lacks one op still runs the chains without it)."""
    try:
        namespace = backend.ops
    except (ImportError, AttributeError, KeyError):
        namespace = None
    if namespace is not None:
        return [name for name in OPS if callable(getattr(namespace, name, None))]
    names = []
    for name, op in OPS.items():
        try:
            resolve(op.spelled(backend.spelling_key))
        except (ImportError, AttributeError, KeyError):
            continue
        names.append(name)
    return names


def evaluations_of(name: str) -> list[str]:
    """The GradBench evaluations the workloads layer can run in backend `name`."""
    try:
        import bench.backends.workloads as workloads
    except ModuleNotFoundError as error:
        if error.name != "bench.backends.workloads":
            raise
        return []  # this checkout has no workloads layer yet
    return [w for w in workloads.WORKLOADS if workloads.unsupported(name, w) is None]


def every_engine(names=None) -> list[Capabilities]:
    """Every registered engine (or those of `names`), then every plugin that did not load,
    with its reason."""
    chosen = BACKENDS if names is None else {name: BACKENDS[name] for name in names}
    records = [describe(name, backend) for name, backend in chosen.items()]
    for found in plugins.BROKEN.values():
        records.append(Capabilities(found.name, found.source, found.spec, reason=found.error))
    return records


def summary(records) -> list[dict]:
    """One row of text per engine for the listing (the JSON keeps every field)."""
    rows = []
    for r in records:
        if not r.available:
            state = f"not available: {r.reason}"
        elif len(r.ops) == len(OPS):
            state = f"all {len(OPS)} ops"
        else:
            missing = ", ".join(name for name in OPS if name not in r.ops)
            state = f"{len(r.ops)} of {len(OPS)} ops (no {missing})"
        rows.append(
            {
                "backend": r.name,
                "source": r.source + (f" ({r.spec})" if r.spec else ""),
                "version": r.version,
                "device": r.device,
                "orders": ", ".join(r.orders),
                "dtypes": ", ".join(r.dtypes),
                "ops": state,
                "evaluations": ", ".join(r.evaluations) or "-",
            }
        )
    return rows
