"""bench: every chain written once, run in every backend.

Layout, in two layers. Below `validation` (never importing it): `ops` (the op registry),
`chains` (chain families built from it, one `Family` record each), `backends` (one adapter
per framework, each turning a chain into `forward` and `value_and_grad`), `profiles`
(benchmark and accuracy grids, cost model and time budget), `table_format` (Markdown/CSV
writers and the table vocabulary), `timing` (timing tables), `plots`, `memory` (graph bytes
per node), `ratio` (the headline dezero/torch/numpy ratios), `run_suite` (the benchmark
subprocess) and the pytest-benchmark suite in `test_benchmarks.py`. Above `validation`:
`cli` (`python -m bench`), `accuracy_results` (the sweep and merging its results),
`build_tables` (every results file) and `report`.

Importing `bench` pins every numerical library to one thread before numpy, torch or
jax are loaded (see `bench.threads`); set DEZERO_BENCH_THREADS=all to use every core.
It also fixes glibc's malloc thresholds (see `bench.allocator`) so large arrays are
reused instead of page-faulted afresh, equally for every backend, and pins JAX to the CPU
before it initialises (see `bench.devices`; DEZERO_BENCH_DEVICE=gpu or `--device gpu` asks
for the GPU instead).
"""

from bench.machine import allocator, devices, threads

threads.configure()
devices.configure()
allocator.keep_freed_memory()
