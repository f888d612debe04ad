"""docs/adding-an-engine.md's adapter, exactly as printed, passes the conformance kit."""

import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

from bench.backends import conformance
from bench.workloads.profiles import DTYPES

DOC = Path(__file__).resolve().parent.parent / "docs" / "adding-an-engine.md"


@pytest.fixture(scope="module")
def adapter(tmp_path_factory):
    """The first python block of the walk-through, imported as a module; its `make()`."""
    pytest.importorskip("torch")
    code = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    path = tmp_path_factory.mktemp("engine") / "torch_func.py"
    path.write_text(code)
    spec = importlib.util.spec_from_file_location("torch_func", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make()


@pytest.mark.parametrize("case", conformance.CHAINS, ids=lambda c: c[0])
def test_the_documented_adapter_passes_the_kit(adapter, case):
    assert adapter.name == "torch_func" and adapter.second_order
    for dtype in DTYPES.values():
        conformance.check_inputs(adapter, case, dtype)
        conformance.check_outputs(adapter, case, dtype)
        conformance.check_matches_reference(adapter, case, dtype)
    conformance.check_unlisted_dtype(adapter)
    conformance.check_reasons(adapter)
    assert adapter.unsupported(conformance.chain_of(case), np.float16).startswith("torch_func:")
