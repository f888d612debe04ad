"""Accuracy validation: exact references, error metrics, accuracy tables and the CI gate.

Sits above bench's registry, chains, backends and profiles, and below its CLI: the sweep,
`check` and `baseline` run as `python -m bench accuracy|check|baseline`.
"""
