"""Keep freed memory in the heap, so a timing does not depend on allocation history.

glibc's malloc moves its mmap threshold as blocks are freed and trims the heap top back
to the kernel; whether a 1e6-element (8 MB) array then costs ~2,000 page faults depends
on what ran before. Measured here: the same dezero call took 205 ms alone and 260-320 ms
interleaved with another backend (6,000 extra faults per call). Fixing both thresholds
makes steady-state calls fault-free for every backend in the process alike.
"""

import ctypes
import ctypes.util

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's maximum on 64-bit: larger blocks still mmap
_TRIM_THRESHOLD = 1 << 30


def keep_freed_memory() -> bool:
    """Fix glibc's mmap/trim thresholds; False where the C library is not glibc."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    mallopt = getattr(ctypes.CDLL(name), "mallopt", None)
    if mallopt is None:
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)
    )
