"""Passwords (argon2) and API tokens (random, shown once, stored as a SHA-256 hash).

A token reads ``gp_<id>_<secret>``: the id finds the row, the secret is checked against its
hash in constant time. The secret has 256 bits of entropy, so a fast hash is enough for it;
passwords, which people choose, get argon2.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
_TOKEN = re.compile(r"gp_([a-z0-9]{12})_([A-Za-z0-9_-]{43})")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def check_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        # Hash anyway, so a missing user costs as long as a wrong password.
        _HASHER.hash(password)
        return False
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class NewToken:
    id: str
    secret_hash: str
    token: str  # shown once, never stored


def new_token() -> NewToken:
    token_id = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(12))
    secret = secrets.token_urlsafe(32)
    return NewToken(id=token_id, secret_hash=_digest(secret), token=f"gp_{token_id}_{secret}")


def token_from_parts(token_id: str, secret: str) -> NewToken:
    """A token with a chosen secret (the bootstrap token an operator sets in the environment)."""
    return NewToken(id=token_id, secret_hash=_digest(secret), token=f"gp_{token_id}_{secret}")


def parse_token(token: str) -> tuple[str, str] | None:
    # fullmatch: ``$`` would let a trailing newline through.
    match = _TOKEN.fullmatch(token)
    return (match.group(1), match.group(2)) if match else None


def secret_matches(secret: str, secret_hash: str) -> bool:
    return hmac.compare_digest(_digest(secret), secret_hash)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
