"""bench: every chain written once, run in every backend.

Layout: `ops` (the op registry), `chains` (chain families built from it), `backends`
(one adapter per framework, each turning a chain into `forward` and `value_and_grad`),
`profiles` (grids, cost model and time budget), `memory` (graph bytes per node),
`ratio` (the headline dezero/torch/numpy ratios) and the pytest-benchmark suite in
`test_benchmarks.py`.

Importing `bench` pins every numerical library to one thread before numpy, torch or
jax are loaded (see `bench.threads`); set DEZERO_BENCH_THREADS=all to use every core.
It also fixes glibc's malloc thresholds (see `bench.allocator`) so large arrays are
reused instead of page-faulted afresh, equally for every backend.
"""

from bench import allocator, threads

threads.configure()
allocator.keep_freed_memory()
