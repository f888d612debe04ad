"""The machine a run is set up on: threads, device, allocator and SIMD levels.

Nothing here acts on import; `configure()` (the entry points call it) sets the process up.
"""
