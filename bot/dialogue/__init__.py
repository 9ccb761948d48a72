"""Dialogue engine: flows, forms, walkthroughs, responses and the rasa-sdk action bridge."""
