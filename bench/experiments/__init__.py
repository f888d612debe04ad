"""One-off timing experiments, each `python -m bench.experiments.<name>`: the headline ratios,
replay against its peers, where time per op goes, training steps, nested differentiation.
"""
