"""Twilio's side of a test call: TwiML webhooks and, in development, the phone simulator."""
