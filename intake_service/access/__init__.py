"""Who may see and do what, the audit log, tokens, accounts, retention of personal data."""
