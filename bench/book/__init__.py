"""The book's step scripts run unmodified on this dezero (`python -m bench book PATH`):
`steps` runs them, `expected` says what each must print.
"""
