"""Exports the field asks for (issue 16): an operator's or a command centre's incident
export over a period, streamed; the monthly statistics return of an operator's network."""
