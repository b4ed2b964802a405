"""The incident sheet: its rules, its place, submission, amendments, events, documents, queries."""
