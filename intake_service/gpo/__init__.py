"""The GPO transports: problems, actions, journal, linking incidents, emerging problems, assessment, brief."""
