"""What the command centre does to an incident: actions, its queue, escalation."""
