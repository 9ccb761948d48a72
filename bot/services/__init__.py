"""Interfaces to the outside world (Twilio, SMTP, Slack, clocks) and the Services container."""
