"""What is run: the op table (`op_table`: a record per dezero function; its chain primitives
described once in `ops`), the chain families built from them (`chains`) and the grids, cost
model and budget that pick the cases (`profiles`). Imports no validation.
"""
