"""The exact side of validation: what every engine is compared with, and how far a correct one
may be from it.

`duals` (mpmath forward mode), `tape` (the one longdouble reverse-mode tape, for chains and
fuzz programs alike), `floor` (the one rounding floor) and `chains` (the cached reference and
floor of one chain case). Nothing here imports a backend: a backend's speed-up cannot move
what it is checked against.
"""
