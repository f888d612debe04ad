"""Every results file built from saved results: timing and accuracy tables, plots, REPORT.md
and the README block. Reads the timing layer's and validation's tables.
"""
