"""Has numpy's global random generator drawn? `state()` before and after, compared.

`dezero.trace` refuses a function that draws from `np.random`, as replay would freeze the
draws. The answer comes from numpy's public API alone: `np.random.get_state(legacy=False)`
(the bit generator's state and the legacy RandomState's cached normal deviate) and
`np.random.get_bit_generator()` (which `np.random.set_bit_generator` swaps). It costs
some tens of microseconds per call, two per trace, and compares equal exactly when
nothing was drawn, including the draws that leave MT19937's key and position as they
were: a cached normal (legacy normals come in pairs, and the second changes only
`has_gauss`) and a draw of a full turn of 624 words (which regenerates the key).
"""

import numpy as np


def _frozen(value):
    """A comparable copy of a get_state() dict: arrays become their bytes."""
    if isinstance(value, dict):
        return tuple((key, _frozen(item)) for key, item in value.items())
    if isinstance(value, np.ndarray):
        return (value.dtype.str, value.shape, value.tobytes())
    return value


def state():
    """A token of numpy's global random state: equal before and after a call iff the call
    drew nothing from `np.random` (or drew and restored the state, which replays alike)."""
    return (np.random.get_bit_generator(), _frozen(np.random.get_state(legacy=False)))
