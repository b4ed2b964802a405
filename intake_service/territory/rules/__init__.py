"""Pure rules of the territory: which police service is competent for a commune."""
