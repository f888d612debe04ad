"""The op table's record type, its common sample shapes, and the frameworks records compare
against (torch and jax are optional: their comparisons are skipped without them).

A chain primitive (`bench.workloads.ops`) is described once, by its `Op`; its record here is
built from it (`primitive_record`): the record's reference and vjp are the primitive's, and
`record.primitive` gives the rest (exact reference, chain domain, image, spellings).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from bench.workloads.ops import OPS as PRIMITIVES
from bench.workloads.ops import Op

try:
    import torch
    import torch.nn.functional as TF
except ImportError:  # the torch comparisons are skipped, the rest still runs
    torch = TF = None

try:
    import jax.numpy as jnp
except ImportError:  # the jax comparison of second derivatives is skipped
    jnp = None


@dataclass(frozen=True)
class OpRecord:
    """One op: dezero callable, numpy reference (and its vjp), sample shapes, input interval,
    torch/jax op."""

    name: str
    op: Callable
    ref: Callable
    shapes: tuple  # one tuple of input shapes per sample
    domain: tuple = (-2.0, 2.0)  # one (low, high) for every input, or one per input
    avoid: tuple = ()  # kinks (relu at 0, clip bounds) kept clear of by finite differences
    torch_op: Callable | None = None
    differentiable: bool = True
    jax_op: Callable | None = None  # elementwise ops only: their Hessian is checked with jax
    # The numpy vjp of `ref`, `vjp(gy, *xs, y, **attrs)` at the broadcast shape, for any dtype
    # (complex included): the ops the fuzzer draws have one, and the longdouble reference
    # tape runs them (`validation.fuzz.reference`). Such a record's `ref` takes the fuzzer's
    # attributes (axis, shape, index...) as keywords whose defaults are the record's sample.
    vjp: Callable | None = None
    # The chain primitive this record is, or None: `ref` and `vjp` are then that `Op`'s. Left
    # out of equality and hashing (an Op holds a dict of spellings); `ref` and `vjp` count.
    primitive: Op | None = field(default=None, compare=False)


def primitive_record(name: str, op: Callable, shapes: tuple, **facts) -> OpRecord:
    """The record of chain primitive `name`, its dezero callable `op` checked on `shapes`:
    forward and vjp come from the primitive's `Op`, `facts` are the record's other fields."""
    try:
        primitive = PRIMITIVES[name]
    except KeyError:
        raise KeyError(f"{name!r} is not a chain primitive; known: {sorted(PRIMITIVES)}") from None
    return OpRecord(
        name, op, primitive.np_forward, shapes, vjp=primitive.np_vjp, primitive=primitive, **facts
    )


UNARY = (((),), ((3,),), ((2, 3),))
BINARY = (
    ((2, 3), (2, 3)),
    ((2, 3), (3,)),
    ((2, 1), (1, 3)),
    ((), (2, 3)),
    ((2, 3), ()),
)
