"""The keys that sign the audit chain: HMAC keys derived from the platform's secret keys.

They never reach the database: a session that can rewrite the events table still cannot compute
a valid chain. Each event names the key that signed it, so keys rotate like the secret keys
(newest first; the older ones still verify what they signed). The keys travel with the engine's
connections (`attach`), so every ``record_event`` inside any transaction signs with them.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from goldenpath.errors import ConfigurationError

_INFO = b"goldenpath audit chain v1"
_CONNECTION_KEY = "goldenpath.audit_keys"


@dataclass(frozen=True)
class AuditKeys:
    current: str  # the id of the key new events are signed with
    keys: dict[str, bytes]

    @classmethod
    def derive(cls, secret_keys: list[bytes]) -> AuditKeys:
        """One HMAC key per secret key (HKDF-SHA256), ids from the derived keys themselves."""
        derived = [
            HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(k)
            for k in secret_keys
        ]
        keys = {hashlib.sha256(k).hexdigest()[:16]: k for k in derived}
        return cls(current=next(iter(keys)), keys=keys)

    def sign(self, key_id: str, body: bytes) -> str:
        key = self.keys.get(key_id)
        if key is None:
            raise KeyError(key_id)
        return hmac.new(key, body, hashlib.sha256).hexdigest()


def attach(engine: sa.Engine, keys: AuditKeys) -> None:
    """Give every connection the engine hands out the audit keys (in its ``info``)."""

    @sa.event.listens_for(engine, "checkout")
    def _with_keys(_dbapi: object, record: sa.pool.ConnectionPoolEntry, _proxy: object) -> None:
        record.info[_CONNECTION_KEY] = keys

    # Connections already in the pool (migrations ran on one) get them at their next checkout.


def keys_of(conn: sa.Connection) -> AuditKeys:
    keys = conn.info.get(_CONNECTION_KEY)
    if not isinstance(keys, AuditKeys):
        # Never fall back to an unkeyed hash: anyone could forge that chain.
        raise ConfigurationError(problem="the audit log's signing keys are not configured")
    return keys
