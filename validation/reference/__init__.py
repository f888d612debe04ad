"""The exact side of validation: what every engine is compared with, and how far a correct one
may be from it.

`duals` (mpmath forward mode), `tape` (the one longdouble reverse-mode tape, for chains, fuzz
programs and GradBench's evaluations alike), `floor` (the one rounding floor), `chains` (the
cached reference and floor of one chain case), and for the evaluations `workload_rules` (the
tape's rules for their ops), `workloads` (their op namespace over the tape, second
derivatives by a complex step) and `workload_cases` (the cached reference and floor of one
case). Nothing here imports a backend: a backend's speed-up cannot move what it is checked
against.
"""
