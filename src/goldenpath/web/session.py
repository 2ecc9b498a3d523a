"""Portal sessions: a signed cookie naming the user, its CSRF token and its expiry.

The cookie is ``base64url(json payload) "." base64url(HMAC-SHA256)``; nothing in it is secret,
but nothing in it can be changed without the key. The key is derived from the configured
secret key (so every API instance of one platform accepts the same cookies), else kept at random
in ``data_dir/session.key``. A middleware puts the signed-in user on ``request.state`` for the
portal and, on safe methods only, for the API (the page's Server-Sent Events fetch): a change
through the API still needs a bearer token, so a forged cross-site POST cannot use the cookie.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

COOKIE_NAME = "gp_session"
LIFETIME_SECONDS = 12 * 3600
KEY_FILE = "session.key"
_SAFE_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class Session:
    """A visitor's session; ``user`` is empty before sign-in (the login form's CSRF token)."""

    user: str
    csrf: str
    expires: int

    @classmethod
    def start(cls, user: str = "") -> Session:
        return cls(user=user, csrf=secrets.token_urlsafe(24), expires=_now() + LIFETIME_SECONDS)

    def csrf_matches(self, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(self.csrf, token)


@dataclass(frozen=True)
class SessionSigner:
    key: bytes

    def dump(self, session: Session) -> str:
        payload = json.dumps(
            {"u": session.user, "c": session.csrf, "e": session.expires}, separators=(",", ":")
        ).encode()
        return _b64(payload) + "." + _b64(self._mac(payload))

    def load(self, cookie: str | None) -> Session | None:
        """The session in a cookie, or None when it is missing, forged, malformed or expired."""
        if not cookie or cookie.count(".") != 1:
            return None
        body, mac = cookie.split(".")
        try:
            payload = _unb64(body)
            if not hmac.compare_digest(_unb64(mac), self._mac(payload)):
                return None
            data = json.loads(payload)
            session = Session(user=str(data["u"]), csrf=str(data["c"]), expires=int(data["e"]))
        except (ValueError, KeyError, TypeError):
            return None
        return session if session.expires > _now() else None

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self.key, payload, hashlib.sha256).digest()


def session_key(configured_secret_key: str | None, data_dir: Path) -> bytes:
    """The signing key: derived from the configured secret key, else a random key file."""
    if configured_secret_key:
        first = configured_secret_key.split(",")[0].strip().encode()
        return hmac.new(first, b"goldenpath portal session v1", hashlib.sha256).digest()
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process of the same platform made it first
            return path.read_bytes()
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(32))
    return path.read_bytes()


class SessionMiddleware:
    """Puts ``session`` (or None) and, when signed in, ``session_user`` on the request state."""

    def __init__(self, app: ASGIApp, signer: SessionSigner) -> None:
        self.app = app
        self.signer = signer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            session = self.signer.load(_cookie(scope, COOKIE_NAME))
            state = scope.setdefault("state", {})
            state["session"] = session
            is_api = str(scope.get("path", "")).startswith("/api/")
            if session and session.user and (not is_api or scope["method"] in _SAFE_METHODS):
                state["session_user"] = session.user
        await self.app(scope, receive, send)


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # noqa: S112 - a malformed Cookie header is no session
                continue
            if name in jar:
                return jar[name].value
    return None


def _now() -> int:
    return int(time.time())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
