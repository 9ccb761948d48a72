"""Natural-language understanding: intents and entities from user text."""
