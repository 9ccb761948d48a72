"""Channels translate between a medium (REST, web widget, terminal, Slack) and the Assistant."""
