"""MFA Help Desk Assistant: the engine (NLU, dialogue, channels, storage, services)."""
