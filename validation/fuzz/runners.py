"""Which function runs a fuzz program in a backend: the built-in frameworks' runners
(validation.fuzz.backends), the other engines' (validation.fuzz.engines), else the one a
plugin engine's adapter offers (`Backend.fuzz_runner()`)."""

from bench.backends.plugins import lookup
from validation.fuzz.backends import RUNNERS as BUILT_IN_RUNNERS
from validation.fuzz.engines import RUNNERS as ENGINE_RUNNERS

RUNNERS = BUILT_IN_RUNNERS | ENGINE_RUNNERS


def runner(name: str):
    """The runner of backend `name`; KeyError naming it when there is none."""
    if name in RUNNERS:
        return RUNNERS[name]
    found = lookup(name).fuzz_runner()
    if found is None:
        raise KeyError(f"backend {name!r} offers no fuzz runner (Backend.fuzz_runner)")
    return found


def second_order(name: str) -> bool:
    """Whether the fuzzer checks `name`'s H v too: its adapter declares `second_order`."""
    return lookup(name).second_order
