"""The MFA directory and the self-service account actions built on it."""
