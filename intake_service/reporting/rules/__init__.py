"""Pure rules of the exports: columns, redaction per role, month boundaries; no I/O."""
