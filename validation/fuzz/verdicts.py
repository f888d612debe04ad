"""What each fuzz root cause is: an engine's bug, a limitation it states, or a defensible design
choice, and why. A person's judgment, written down once per root cause (`published.root_cause`)
and read by REPORT and the reproducers; a cause nobody has judged yet says so.
"""

from __future__ import annotations

from typing import NamedTuple

BUG, LIMITATION, DESIGN = "bug", "stated limitation", "defensible design choice"
UNJUDGED = "not yet judged"


class Verdict(NamedTuple):
    title: str  # the root cause in words
    kind: str
    reason: str


VERDICTS = {
    "where-raises": Verdict(
        "`where` with a broadcast operand: its gradient keeps the broadcast shape",
        BUG,
        "where's vjp does not sum a broadcast operand's gradient back to the operand's shape "
        "(a 0-d operand gets a (1,)-shaped gradient), so accumulating it raises (or, alone, "
        "returns the wrong shape). Every other broadcasting op unbroadcasts; where is a "
        "documented differentiable numpy function.",
    ),
    "tanh-hvp-nonfinite": Verdict(
        "tanh's second derivative is NaN at large |x|",
        BUG,
        "the exact second derivative there is 0 (it underflows); the engine's formula "
        "overflows on the way (autograd's vjp is g / cosh(x)**2, cosh overflowing past "
        "|x| = 710; tinygrad writes tanh as 2 sigmoid(2x) - 1 with sigmoid 1 / (1 + exp(-x)), "
        "exp overflowing for large negative x), and differentiating it gives inf / inf or "
        "inf * 0 = NaN. A formula-robustness bug: written through 1 - tanh(x)**2, or exp "
        "of -|x|, it stays finite.",
    ),
    "maximum-grad-wrong": Verdict(
        "`maximum` at a tie gives both inputs a zero gradient",
        BUG,
        "at x0 == x1 the engine sends the gradient to neither input. Which input gets it at "
        "a tie is a convention, but the two must total 1 (along x0 = x1 = t, maximum is t): "
        "a total of 0 is wrong for every convention.",
    ),
    "minimum-grad-wrong": Verdict(
        "`minimum` at a tie gives both inputs a zero gradient",
        BUG,
        "as for maximum: any tie convention must give the two inputs a total of 1.",
    ),
    "softmax-raises": Verdict(
        "no second derivative of softmax",
        LIMITATION,
        "paddle's softmax_grad has no grad op; the error says so and asks to set "
        "create_graph=False. Not a wrong number: the first derivative is right.",
    ),
    "abs-hvp-wrong": Verdict(
        "abs's second derivative near 0 is a rounding residue, not 0",
        DESIGN,
        "abs's derivative is written x / |x| (exact in real arithmetic), whose own derivative "
        "(|x| - x sign(x)) / x**2 leaves the rounding of the numerator divided by x**2: "
        "about 1e-10 at x = 1e-7 against an exact 0. Minor, and only next to the kink.",
    ),
}


def verdict(cause: str) -> Verdict:
    """The verdict on root cause `cause`; an unjudged one says so."""
    return VERDICTS.get(
        cause, Verdict(cause, UNJUDGED, "no verdict written yet (validation/fuzz/verdicts.py)")
    )
