"""Accuracy validation: exact references, error metrics, accuracy rows and the CI gate.

Sits above bench's workloads (the op table, chains, profiles) and backends, and imports
nothing else of bench; it returns data (DataFrames, records, messages), and bench's CLI and
report read the input files and write the results: `python -m bench accuracy|check|baseline`.
"""
