"""The book's `dezero.core_simple` (steps 1-32): the same engine, but a Variable made here
exposes its gradient as a plain ndarray, as the simple core did (`x.data -= lr * x.grad`).

Only Variables created from this module behave so; everything a Function returns is a
regular dezero Variable. `setup_variable()` exists for the book's scripts and does nothing:
operators are installed when dezero is imported.
"""

from dezero import core
from dezero.core import Config, Function, as_array, as_variable, no_grad, using_config

_grad_slot = core.Variable.grad  # the slot descriptor the engine writes


class Variable(core.Variable):
    __slots__ = ()

    @property
    def grad(self):
        g = _grad_slot.__get__(self)
        return g.data if isinstance(g, core.Variable) else g

    @grad.setter
    def grad(self, value):
        _grad_slot.__set__(self, value)


def setup_variable():
    """Kept for the book's scripts: dezero installs Variable's operators on import."""


__all__ = [
    "Config",
    "Function",
    "Variable",
    "as_array",
    "as_variable",
    "no_grad",
    "setup_variable",
    "using_config",
]
