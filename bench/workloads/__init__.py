"""What is run: the op registry (`ops`), the chain families built from it (`chains`) and the
grids, cost model and budget that pick the cases (`profiles`). Imports no validation.
"""
