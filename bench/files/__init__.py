"""Results files: where a run may write, atomic writes, checked inputs, table writers and the
table vocabulary. The lowest layer of bench: it imports nothing else from bench.
"""
