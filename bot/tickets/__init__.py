"""Contact Us tickets: models, tracking numbers, validation, service, dev mailbox."""
