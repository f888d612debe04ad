"""dezero: a DeZero-compatible reverse-mode autodiff engine, iterative and fast.

Layers point one way (tests/test_architecture.py holds it): array_ops, cuda and collector
at the bottom; core (Variable, Function: the model); compaction and the sweep on core;
the functions by family, gathered in dezero.functions; layers, models, optimizers and
data on top; trace and autodiff beside them, on the sweep. core knows nothing of the
modules built on it; setup_variable() below wires them in. Importing dezero changes
nothing process-wide: the collector policy starts with the first Variable (see
dezero.collector).
"""

# The rest of the book's API (layers, models, optimizers, data, convolutions, GPU arrays).
from dezero import (  # noqa: F401  (utils: dezero.utils)  # noqa: F401,I001
    arithmetic,
    autodiff,
    collector,
    compaction,
    core,
    cuda,
    dataloaders,
    datasets,
    functions,
    functions_conv,
    layers,
    models,
    optimizers,
    sweep,
    transforms,
    utils,
)
from dezero.autodiff import grad, hvp, jvp
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
from dezero.dataloaders import DataLoader, SeqDataLoader
from dezero.datasets import Dataset
from dezero.layers import Layer
from dezero.models import Model
from dezero.trace import Tape, trace

# The book's step 28-29 scripts branch on this: False means the full dezero, not "simple_core".
is_simple_core = False


def setup_variable():
    """Install Variable's `backward` (the sweep), its operators, its methods matmul/dot/max/min
    (book steps 22 and 37-39) and the namespace create_graph records with."""
    Variable.backward = sweep.backward
    for name, operator in arithmetic.VARIABLE_OPERATORS.items():
        setattr(Variable, name, operator)
    for name, method in functions.VARIABLE_METHODS.items():
        setattr(Variable, name, method)
    core.graph_ops = functions


def setup_collector():
    """Start the collector policy now (dezero.collector) rather than with the first Variable:
    full collections stop re-walking long-lived objects, so the recording cost of a large
    graph stays flat. `dezero.collector.uninstall()` undoes it."""
    collector.install()


setup_variable()

__all__ = [
    "Config",
    "DataLoader",
    "Dataset",
    "Layer",
    "Model",
    "SeqDataLoader",
    "Tape",
    "cuda",
    "dataloaders",
    "datasets",
    "grad",
    "hvp",
    "jvp",
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
    "setup_collector",
    "setup_variable",
    "test_mode",
    "trace",
    "using_config",
]
