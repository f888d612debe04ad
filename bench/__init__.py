"""bench: every chain written once, run in every backend, timed and reported.

Layers, lowest first; each imports only those below it:
- `files` (where a run writes, atomic writes, checked inputs, table writers) and `machine`
  (threads, device, allocator, SIMD levels; `configure()` sets the process up);
- `workloads` (ops, chain families, grids) and `backends` (one adapter per engine); the
  `validation` package sits on these;
- `timing` (the pytest-benchmark suite, memory, timing tables, the timing gate), `book` and
  `experiments` (`python -m bench.experiments.<name>`);
- `report` (every results file; reads timing's and validation's tables) and `cli`
  (`python -m bench`, one module per command).

Importing any of them changes nothing in the process: thread pinning, the JAX platform and
the allocator are set by `bench.machine.configure()`, which the entry points call.
"""
