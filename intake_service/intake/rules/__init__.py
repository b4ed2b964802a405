"""Pure rules of the sheet: priority, lifecycle, warnings, what changed between versions."""
