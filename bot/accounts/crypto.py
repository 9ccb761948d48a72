"""Encryption at rest for authenticator secrets (Fernet), keyed from HELPDESK_SECRET_KEY.

The key may be a Fernet key or any passphrase (stretched with SHA-256). In development mode
without one, a random key is created once under var/ so a restart can still read old rows;
the log names the file, never the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from bot.config import PROJECT_ROOT, Settings
from bot.errors import ConfigError

log = logging.getLogger(__name__)
DEV_KEY_FILE = PROJECT_ROOT / "var" / "dev-secret.key"


class SecretBox:
    def __init__(self, key: str | bytes) -> None:
        fernet_key = _fernet_key(key)
        self._fernet = Fernet(fernet_key)
        # A separate key for signatures, so a signature never helps against the encryption.
        self._signing = hashlib.sha256(b"helpdesk-signing:" + fernet_key).digest()

    def sign(self, message: str) -> str:
        """A URL-safe HMAC-SHA256 of ``message`` (issue 14: one-time QR links, conversation credentials)."""
        digest = hmac.new(self._signing, message.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def verify(self, message: str, signature: str) -> bool:
        return hmac.compare_digest(self.sign(message).encode(), signature.encode())

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ConfigError("stored secret cannot be decrypted: HELPDESK_SECRET_KEY changed?") from exc

    def __repr__(self) -> str:
        return "SecretBox(<hidden>)"


def _fernet_key(key: str | bytes) -> bytes:
    raw = key.encode() if isinstance(key, str) else key
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32:
            return raw
    except (ValueError, TypeError):
        pass
    return base64.urlsafe_b64encode(hashlib.sha256(raw).digest())


def _create_once(path: Path, content: bytes) -> None:
    """Writes a new file whole, or leaves the one another process made first: two processes
    starting together (two workers, two test runs) must agree on one development key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)  # atomic, and refuses to replace an existing key
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)


def secret_box(settings: Settings, *, dev_key_file: Path = DEV_KEY_FILE) -> SecretBox:
    if settings.secret_key:
        return SecretBox(settings.secret_key)
    if not settings.development:
        raise ConfigError("HELPDESK_SECRET_KEY must be set in production mode")
    if not dev_key_file.exists():
        _create_once(dev_key_file, Fernet.generate_key())
    log.warning(
        "HELPDESK_SECRET_KEY is not set: using the development key in %s (never in production)",
        dev_key_file,
    )
    return SecretBox(dev_key_file.read_bytes().strip())
