"""The staff console (/staff): sign-in, agent assist, live handoff, tickets and insights."""
