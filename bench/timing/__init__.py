"""Timing: the pytest-benchmark suite and its plugin, graph memory, the timing tables, the
timing gate (`compare`) and the benchmark subprocess. Never imports validation.
"""
