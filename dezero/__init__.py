"""dezero: a DeZero-compatible reverse-mode autodiff engine, iterative and fast."""

import dezero.functions  # noqa: E402,F401  (so `dezero.functions` is always loaded)
import dezero.utils  # noqa: E402,F401
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

__all__ = [
    "Config",
    "Function",
    "Parameter",
    "Variable",
    "as_array",
    "as_variable",
    "no_grad",
    "test_mode",
    "using_config",
]
