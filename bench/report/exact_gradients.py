"""The findings' exact gradients, saved beside their scripts so `tables` computes each once.

A deep finding's exact gradient is seconds of mpmath (about 10 s for the committed findings
on 2 cores), and a timing-only `make results` rebuilds the scripts from the same findings.
Each gradient is saved in `exact_gradients.json` next to the scripts, under
`validation.reproducers.exact_key` (the case, and the code and platform that decide it), as
the float64 values the scripts print (hex, so nothing rounds on the way). A key that no
longer matches is computed again; the file keeps only the current findings' gradients.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from bench.files.atomic_write import write_text
from bench.files.inputs import InputError, parse_json, read_text
from validation.reproducers import exact_gradient, exact_key

FILE = "exact_gradients.json"


class SavedExact:
    """`exact(cause)` for `validation.reproducers.reproducers`, reading and keeping the
    gradients saved in `folder`; `save()` writes the ones this build used."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / FILE
        self.saved = self._read() if self.path.exists() else {}
        self.used: dict[str, dict] = {}
        self.computed = 0

    def _read(self) -> dict:
        saved = parse_json(self.path, read_text(self.path))
        if not isinstance(saved, dict) or not all(
            isinstance(v, dict) and {"shape", "grad"} <= set(v) for v in saved.values()
        ):
            raise InputError(self.path, "is not a table of saved exact gradients")
        return saved

    def __call__(self, cause) -> np.ndarray:
        key = exact_key(cause)
        entry = self.saved.get(key)
        if entry is None:
            grad = np.asarray(exact_gradient(cause), dtype=np.float64)
            entry = {"shape": list(grad.shape), "grad": [float(g).hex() for g in grad.ravel()]}
            self.computed += 1
        self.used[key] = entry
        return np.array([float.fromhex(h) for h in entry["grad"]]).reshape(entry["shape"])

    def save(self) -> Path | None:
        """Write the gradients this build used (none: leave the folder as it is)."""
        if not self.used:
            return None
        return write_text(self.path, json.dumps(self.used, indent=1, sort_keys=True) + "\n")
