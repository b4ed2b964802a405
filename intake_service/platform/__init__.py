"""What every feature uses and nothing feature-specific: configuration, database, clock,
errors, geometry, the pages' French words, PDF, logs, migrations, health checks."""
