"""Accuracy validation: exact references, error metrics, accuracy tables and the CI gate."""
