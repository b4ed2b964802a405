"""Pure rules of access: roles, scopes, and what each role may read."""
