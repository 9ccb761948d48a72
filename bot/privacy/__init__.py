"""PHI/PII guard: find and redact what users were told not to send."""

from bot.privacy.phi import PhiScan, scan

__all__ = ["PhiScan", "scan"]
