"""Pure rules of appointments: who gets one and by when, working days."""
