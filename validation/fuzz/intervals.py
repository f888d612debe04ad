"""What a fuzz program's builder knows of a node before running it (shape, an interval holding
every value, whether values can tie) and the seed-only integer draw every choice goes through.
"""

from __future__ import annotations

from hypothesis import strategies as st

# NOTE: values stay within +-1e6 so every op is far from overflow and no gradient is
# dominated by an op's conditioning at extreme arguments.
MAGNITUDE = 1e6
MAX_DIM = 4
SMALL = 100  # hypothesis mixes in constants of magnitude >= this from local modules


def integer(draw, lo: int, hi: int) -> int:
    """An integer in [lo, hi] that depends on the seed alone.

    hypothesis mixes into its draws numbers it reads from the source of every local module
    the process has imported (those of magnitude 100 or more, and floats): the same seed
    would give other programs in a worker process, after an edit anywhere in the project,
    or once another module is imported. A range within (-100, 100) never gets one, so wider
    ranges are drawn as base-100 digits, and no float is drawn at all.
    """
    if -SMALL < lo and hi < SMALL:
        return draw(st.integers(lo, hi))
    value, scale = 0, 1
    while scale <= hi - lo:
        value += draw(st.integers(0, SMALL - 1)) * scale
        scale *= SMALL
    return lo + value % (hi - lo + 1)


class Node:
    """A drawn node: its shape, an interval [lo, hi] holding all its values, and `tied`: it
    can hold exactly equal values (where max, maximum and clip would meet a convention)."""

    __slots__ = ("shape", "lo", "hi", "tied")

    def __init__(self, shape, lo, hi, tied=False):
        self.shape, self.lo, self.hi, self.tied = tuple(shape), lo, hi, tied


def corners(a, b):
    """The interval of products of a value of `a` and one of `b`."""
    products = (a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi)
    return min(products), max(products)


def within(node, domain):
    return domain[0] <= node.lo and node.hi <= domain[1]


class Reject(Exception):
    """A drawn op would leave the magnitude bound; the step is drawn again."""
