"""The GPO transports: problems, actions, journal, linking incidents to problems,
emerging problems, assessment, the meeting brief."""
