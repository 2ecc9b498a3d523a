"""Encryption of secrets at rest (AES-256-GCM).

Every ciphertext starts with the id of the key that sealed it, so keys can be rotated: new
secrets use the first key, old ones still open with the key they name.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from goldenpath.errors import ConfigurationError
from goldenpath.store.audit_keys import AuditKeys

KEY_FILE = "secret.key"


class SecretBox:
    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ConfigurationError(problem="at least one secret key is needed")
        for key in keys:
            if len(key) != 32:
                raise ConfigurationError(problem="secret keys must be 32 bytes (AES-256)")
        self._keys = {_key_id(k): AESGCM(k) for k in keys}
        self._current = _key_id(keys[0])
        self._audit_keys = AuditKeys.derive(keys)

    @property
    def audit_keys(self) -> AuditKeys:
        """The audit chain's signing keys, derived from these keys (newest first)."""
        return self._audit_keys

    def seal(self, value: Any) -> bytes:
        nonce = os.urandom(12)
        plain = json.dumps(value, separators=(",", ":")).encode()
        sealed = self._keys[self._current].encrypt(nonce, plain, None)
        return self._current + nonce + sealed

    def open(self, blob: bytes) -> Any:
        key = self._keys.get(bytes(blob[:4]))
        if key is None:
            raise ConfigurationError(
                problem="a secret was sealed with a key that is not configured"
            )
        try:
            plain = key.decrypt(bytes(blob[4:16]), bytes(blob[16:]), None)
        except InvalidTag as exc:
            raise ConfigurationError(problem="a stored secret failed its integrity check") from exc
        return json.loads(plain)


def _key_id(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()[:4]


def load_secret_box(configured: str | None, data_dir: Path) -> SecretBox:
    """Keys from settings (comma-separated base64, newest first), else a generated key file."""
    if configured:
        try:
            keys = [base64.b64decode(part.strip(), validate=True) for part in configured.split(",")]
        except ValueError as exc:
            raise ConfigurationError(problem="GOLDENPATH_SECRET_KEY is not valid base64") from exc
        return SecretBox(keys)
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(base64.b64encode(secrets.token_bytes(32)).decode())
    return SecretBox([base64.b64decode(path.read_text().strip())])
