"""Every results file built from saved results: timing and accuracy tables, plots, REPORT.md
and the README block; and the fuzz run's files. Renders and writes what the timing layer and
validation return.
"""
