"""Standalone reproducers of fuzz findings, in the engine's own API: one script per row of the
findings record (`validation.fuzz.published`), importing only that engine and numpy.

A script rebuilds the shrunk program from its nodes, each op spelled through the engine's
row of `validation.fuzz.spellings` (the table the fuzzer itself ran), takes the derivative
the finding is about as the engine's users do (autograd.grad, tf.GradientTape,
paddle.grad(create_graph=True), mygrad's backward, tinygrad's Tensor.gradient), prints it
next to the exact one (hard-coded as float.hex, from the project's reference) and exits 1
while the finding holds: the engine raises, or a quantity has the wrong shape, is not
finite or is further from the exact one than the fuzzer's tolerance; 0 once it does not.
"""

from __future__ import annotations

import json
import textwrap

import numpy as np

from validation.fuzz.programs import input_arrays, inputs, op_names, sinks
from validation.fuzz.reference import RULES
from validation.fuzz.spellings import IMPORTS, PRELUDES, sources

FOLDER = "fuzz"  # under REPORT.md's findings/: beside the accuracy findings' scripts
GENERATED = (
    "# Written by `python -m bench tables` (validation/fuzz/standalone.py) from\n"
    "# results/fuzz_findings.csv.\n# ruff: noqa\n"
)
VERSION = {
    "autograd": "importlib.metadata.version('autograd')",
    "mygrad": "mg.__version__",
    "paddle": "paddle.__version__",
    "tensorflow": "tf.__version__",
    "tinygrad": "importlib.metadata.version('tinygrad')",
}

# `derivatives()`: the engine's value, gradients and (with SECOND) H v, as numpy arrays
DERIVATIVES = {
    "autograd": """
def objective(xs):
    return program(*xs)


def derivatives():
    xs = tuple(INPUTS)
    result = {"value": objective(xs)}
    result |= named("grad", autograd.grad(objective)(xs))
    if SECOND:
        hvp = autograd.grad(lambda xs: dot(autograd.grad(objective)(xs), DIRECTION))(xs)
        result |= named("hvp", hvp)
    return result
""",
    "mygrad": """
def derivatives():
    leaves = [mg.tensor(x) for x in INPUTS]
    out = program(*leaves)
    out.backward()
    return {"value": out.data} | named("grad", [t.grad for t in leaves])
""",
    "paddle": """
def derivatives():
    leaves = [paddle.to_tensor(x, stop_gradient=False) for x in INPUTS]
    out = program(*leaves)
    grads = paddle.grad([out], leaves, create_graph=SECOND, allow_unused=True)
    result = {"value": out.numpy()}
    result |= named("grad", [None if g is None else g.numpy() for g in grads])
    if SECOND:
        pairs = [(g, v) for g, v in zip(grads, DIRECTION) if g is not None]
        total = dot([g for g, _ in pairs], [paddle.to_tensor(v) for _, v in pairs])
        hvp = [None] * len(leaves)
        if total is not None and not total.stop_gradient:  # else: a constant gradient
            hvp = paddle.grad([total], leaves, allow_unused=True)
        result |= named("hvp", [None if h is None else h.numpy() for h in hvp])
    return result
""",
    "tensorflow": """
def dense(grads):
    return [None if g is None else tf.convert_to_tensor(g).numpy() for g in grads]


def derivatives():
    leaves = [tf.constant(x) for x in INPUTS]
    with tf.GradientTape(watch_accessed_variables=False) as outer:
        outer.watch(leaves)
        with tf.GradientTape(watch_accessed_variables=False) as inner:
            inner.watch(leaves)
            out = program(*leaves)
        grads = inner.gradient(out, leaves)
        if SECOND:
            reached = [(g, v) for g, v in zip(grads, DIRECTION) if g is not None]
            pairs = [(tf.convert_to_tensor(g), v) for g, v in reached]
            total = dot([g for g, _ in pairs], [tf.constant(v) for _, v in pairs])
    result = {"value": out.numpy()} | named("grad", dense(grads))
    if SECOND:
        hvp = outer.gradient(total, leaves) if pairs else [None] * len(leaves)
        result |= named("hvp", dense(hvp))
    return result
""",
    "tinygrad": """
# the device the fuzzer ran on: CPU where clang compiles its kernels, else the PYTHON
# emulator, which then runs the CPU device's polynomial sin/exp/log (TRANSCENDENTAL=2)
DEVICE = "CPU" if shutil.which("clang") else "PYTHON"
CONTEXT = {"DEV": DEVICE, "TRANSCENDENTAL": 2 if DEVICE == "PYTHON" else 1}


def leaf(a):
    return Tensor(np.reshape(a, -1), device=DEVICE).reshape(np.shape(a))


def read(t):
    return (t if t.device is not None else t.clone(DEVICE)).numpy()


def derivatives():
    with Context(**CONTEXT):
        leaves = [leaf(x) for x in INPUTS]
        out = program(*leaves)
        grads = out.gradient(*leaves)
        hvp = dot(grads, [leaf(v) for v in DIRECTION]).gradient(*leaves) if SECOND else []
        Tensor.realize(out, *grads, *hvp)
        return {"value": read(out)} | named("grad", map(read, grads)) | named("hvp", map(read, hvp))
""",
}
EXTRA_IMPORTS = {
    "autograd": "import importlib.metadata\n",
    "tinygrad": "import importlib.metadata\nimport shutil\n",
}
ENGINE_IMPORTS = {"tinygrad": "from tinygrad.helpers import Context\n"}

CHECK = """
def named(prefix, arrays):
    return {f"{prefix}{i}": a for i, a in enumerate(arrays)}


def dot(grads, direction):
    total = None
    for g, v in zip(grads, direction):
        term = OPS["sum"](OPS["mul"](g, v))
        total = term if total is None else OPS["add"](total, term)
    return total


print(ENGINE, VERSION)
try:
    got = derivatives()
except Exception as error:  # the finding, when it is that the engine raises
    print(f"{ENGINE} raises {type(error).__name__}: {str(error)[:300]}")
    print("finding holds")
    sys.exit(1)
if "total" in EXACT:  # a tie: each gradient is a convention, only their total is not
    for name in sorted(got):
        if name.startswith("grad"):
            print(f"{name} {ENGINE}:", repr(np.asarray(got[name], np.float64).tolist()))
    print("(the derivative along both inputs together is their total)")
    grads = [0.0 if g is None else g for n, g in got.items() if n.startswith("grad")]
    got["total"] = sum(np.sum(np.asarray(g, np.float64)) for g in grads)
problems = []
for name, want in EXACT.items():
    # an input the objective does not reach: no gradient, which is a zero one
    have = got.get(name)
    have = np.zeros_like(want) if have is None else np.asarray(have, dtype=np.float64)
    print(f"{name} {ENGINE}:", repr(have.tolist()))
    print(f"{name} exact: ", repr(want.tolist()))
    if have.shape != want.shape:
        problems.append(f"{name} has shape {have.shape}, exact {want.shape}")
    elif not np.all(np.isfinite(have)):
        problems.append(f"{name} is not finite")
    elif np.max(np.abs(have - want), initial=0.0) > TOLERANCE[name]:
        error = np.max(np.abs(have - want))
        problems.append(f"{name} is {error:.3g} off, beyond {TOLERANCE[name]:.3g}")
print("finding holds: " + "; ".join(problems) if problems else "fixed in this version")
sys.exit(1 if problems else 0)
"""


def script_name(engine: str, cause: str) -> str:
    """The script's file name, e.g. 'autograd-tanh-hvp-nonfinite.py'."""
    return f"{engine}-{cause}.py"


def _array(values_hex, shape) -> str:
    flat = ", ".join(repr(v) for v in values_hex)
    return f"np.array([float.fromhex(v) for v in ({flat},)], np.float64).reshape({tuple(shape)})"


def _float_array(a) -> str:
    a = np.asarray(a, np.float64)
    return _array([float(v).hex() for v in a.ravel()], a.shape)


def _arg_shapes(program: dict) -> list:
    """Every node's shape, by running the program forward in numpy."""
    values = iter(input_arrays(program))
    shapes, results = [], []
    with np.errstate(all="ignore"):
        for node in program["nodes"]:
            if node["op"] == "input":
                results.append(next(values))
            else:
                args = [results[a] for a in node["args"]]
                results.append(np.asarray(RULES[node["op"]][0](*args, **node.get("attrs", {}))))
            shapes.append(results[-1].shape)
    return shapes


def _attrs_source(node, shapes) -> str:
    parts = []
    for key, value in sorted(node.get("attrs", {}).items()):
        if key == "mask":  # where's condition over the broadcast shape of its operands
            shape = np.broadcast_shapes(*(shapes[a] for a in node["args"]))
            flags = ", ".join(str(bool(v)) for v in value)
            value_source = f"np.array([{flags}], bool).reshape({shape})"
        else:
            value_source = repr(value)
        parts.append(f"{key}={value_source}")
    return "".join(f", {p}" for p in parts)


def program_source(program: dict) -> str:
    """`def program(v0, ...)`: the program's nodes through OPS, returning the summed sinks."""
    shapes = _arg_shapes(program)
    params = ", ".join(f"v{i}" for i in inputs(program))
    lines = [f"def program({params}):\n"]
    for i, node in enumerate(program["nodes"]):
        if node["op"] == "input":
            continue
        args = ", ".join(f"v{a}" for a in node["args"])
        lines.append(f"    v{i} = OPS[{node['op']!r}]({args}{_attrs_source(node, shapes)})\n")
    total = None
    for i in sinks(program):
        term = f"OPS['sum'](v{i})"
        total = term if total is None else f"OPS['add']({total}, {term})"
    return "".join(lines) + f"    return {total}\n"


def _ops_table(engine: str, names) -> str:
    spelled = sources(engine)
    return "OPS = {\n" + "".join(f"    {n!r}: {spelled[n]},\n" for n in sorted(names)) + "}\n"


def _listed(name: str, arrays: list[str]) -> str:
    return f"{name} = [\n" + "".join(f"    {a},\n" for a in arrays) + "]\n"


def script_text(row, verdict=None) -> str:
    """The standalone script for one finding row (a mapping with the record's columns);
    `verdict` (`validation.fuzz.verdicts.Verdict`) titles it and says what kind it is."""
    engine = row["engine"]
    program = json.loads(row["program"])
    exact = json.loads(row["exact"])
    second = bool(row["direction"])
    names = {node["op"] for node in program["nodes"] if node["op"] != "input"}
    names |= {"sum", "add"} | ({"mul"} if second else set())
    arrays = input_arrays(program)
    hexes = json.loads(row["direction"] or "[]")
    direction = [_array(v, np.shape(a)) for v, a in zip(hexes, arrays, strict=False)]
    tolerance = {q: e["tolerance"] for q, e in exact.items()}
    title = verdict.title if verdict else row["root_cause"]
    judged = f"Kind: {verdict.kind}: {verdict.reason}" if verdict else ""
    about = (
        "Found by dezero-bench's gradient fuzzer (seed {seed}, {programs} programs: "
        "`{command}`), shrunk by hypothesis to this {n}-op program. Root cause `{cause}`. "
    ).format(n=len(op_names(program)), cause=row["root_cause"], **row)
    doc = (
        f'"""{engine} {row["version"]}: {title}.\n\n'
        + textwrap.fill(about + judged, 92)
        + "\n\nPrints the engine's derivative next to the exact one (the project's longdouble "
        "reference);\nexits 1 while the finding holds, 0 once it does not.\n"
        '"""\n\n'
    )
    return (
        doc
        + GENERATED
        + EXTRA_IMPORTS.get(engine, "")
        + "import sys\n\nimport numpy as np\n"
        + IMPORTS[engine]
        + "\n"
        + ENGINE_IMPORTS.get(engine, "")
        + (PRELUDES[engine] + "\n" if PRELUDES[engine] else "")
        + f"\nENGINE = {engine!r}\nVERSION = {VERSION[engine]}\n"
        + f"SECOND = {second}  # whether the second derivative (H v) is taken too\n"
        + _ops_table(engine, names)
        + _listed("INPUTS", [_float_array(a) for a in arrays])
        + _listed("DIRECTION", direction).replace("[\n", "[  # v of H v\n", 1)
        + "# exact, from the project's reference (longdouble tape; H v by the complex step)\n"
        + "EXACT = {\n"
        + "".join(f"    {q!r}: {_array(e['hex'], e['shape'])},\n" for q, e in exact.items())
        + "}\n"
        + "# the fuzzer's tolerance: a correctly rounding engine is within it\n"
        + f"TOLERANCE = {tolerance!r}\n\n\n"
        + program_source(program)
        + "\n"
        + DERIVATIVES[engine]
        + "\n"
        + CHECK
    )
