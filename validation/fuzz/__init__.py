"""Differential gradient fuzzing: seeded random programs (`programs`, a saved one checked by
`program_file`), run in each backend (`backends`) and checked (`checker`) against the
longdouble reference over the op table's rules (`reference`); findings and rechecks
(`report`). `bench.report.fuzz_files` writes and reads them back."""
