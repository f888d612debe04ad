"""dezero: a DeZero-compatible reverse-mode autodiff engine, iterative and fast.

Layers point one way: core (Variable, Function, the sweep) <- arithmetic <- losses <-
functions, with array_ops (the sweep's numpy namespace) under core and utils on top.
core knows nothing of the modules built on it; setup_variable() below wires them in.
"""

from dezero import arithmetic, core, functions, utils  # noqa: F401  (utils: dezero.utils)
from dezero.core import (
    Config,
    Function,
    Parameter,
    Variable,
    as_array,
    as_variable,
    no_grad,
    test_mode,
    using_config,
)


def setup_variable():
    """Install Variable's operators and the namespace create_graph records with (book step 22)."""
    for name, operator in arithmetic.VARIABLE_OPERATORS.items():
        setattr(Variable, name, operator)
    core.graph_ops = functions


setup_variable()

__all__ = [
    "Config",
    "Function",
    "Parameter",
    "Variable",
    "as_array",
    "as_variable",
    "no_grad",
    "setup_variable",
    "test_mode",
    "using_config",
]
