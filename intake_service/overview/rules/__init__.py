"""Pure rules of the overview: counting, medians, periods; no I/O."""
