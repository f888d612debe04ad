"""dezero: a DeZero-compatible reverse-mode autodiff engine, iterative and fast."""

import dezero.functions  # noqa: E402,F401  (so `dezero.functions` is always loaded)
import dezero.utils  # noqa: E402,F401

# The rest of the book's API (layers, models, optimizers, data, convolutions, GPU arrays).
from dezero import (  # noqa: E402,I001
    cuda,
    dataloaders,
    datasets,
    functions_conv,  # noqa: E402,F401
    layers,
    models,
    optimizers,
    transforms,
)
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
from dezero.dataloaders import DataLoader, SeqDataLoader  # noqa: E402
from dezero.datasets import Dataset  # noqa: E402
from dezero.layers import Layer  # noqa: E402
from dezero.models import Model  # noqa: E402

# The book's step 28-29 scripts branch on this: False means the full dezero, not "simple_core".
is_simple_core = False

__all__ = [
    "Config",
    "DataLoader",
    "Dataset",
    "Layer",
    "Model",
    "SeqDataLoader",
    "cuda",
    "dataloaders",
    "datasets",
    "is_simple_core",
    "layers",
    "models",
    "optimizers",
    "transforms",
    "Function",
    "Parameter",
    "Variable",
    "as_array",
    "as_variable",
    "no_grad",
    "test_mode",
    "using_config",
]
