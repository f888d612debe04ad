"""Differential gradient fuzzing: seeded random programs (`programs`, saved by
`program_file`), run in each backend (`backends`) and checked (`checker`) against the
longdouble reference over the op table's rules (`reference`); findings and replays
(`report`)."""
