"""OpenID Connect: checking a bearer JWT against the issuer's published keys (JWKS).

PyJWT does the cryptography (imported on first use: most platforms, and every worker, never
need it); this adapter fetches and caches the key set (refetched when a token names a key it
does not know, for rotation) and turns every failure into `NotAuthenticated`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx

from goldenpath.errors import NotAuthenticated

ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]
REFETCH_SECONDS = 300


@dataclass(frozen=True)
class OidcIdentity:
    user: str
    memberships: frozenset[tuple[str, str]]
    claims: dict[str, Any]


class OidcVerifier:
    def __init__(
        self,
        *,
        issuer: str,
        audience: str | None,
        jwks_url: str,
        user_claim: str = "preferred_username",
        groups_claim: str = "groups",
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.jwks_url = jwks_url
        self.user_claim = user_claim
        self.groups_claim = groups_claim
        self._keys: dict[str, Any] = {}
        self._fetched_at = 0.0
        self._lock = threading.Lock()

    def verify(self, token: str) -> OidcIdentity:
        import jwt

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise NotAuthenticated(problem=f"not a valid token: {exc}") from None
        key = self._key(str(header.get("kid", "")))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=ALGORITHMS,
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iss"], "verify_aud": self.audience is not None},
            )
        except jwt.PyJWTError as exc:
            raise NotAuthenticated(problem=f"token refused: {exc}") from None
        user = claims.get(self.user_claim) or claims.get("sub")
        if not isinstance(user, str) or not user:
            raise NotAuthenticated(problem=f"token has no '{self.user_claim}' claim")
        return OidcIdentity(user=user, memberships=self._memberships(claims), claims=claims)

    def _memberships(self, claims: dict[str, Any]) -> frozenset[tuple[str, str]]:
        groups = claims.get(self.groups_claim) or []
        found: set[tuple[str, str]] = set()
        for group in groups if isinstance(groups, list) else []:
            if not isinstance(group, str):
                continue
            team, _, role = group.partition(":")
            found.add((team, role or "developer"))
        return frozenset(found)

    def _key(self, kid: str) -> Any:
        with self._lock:
            stale = time.monotonic() - self._fetched_at > REFETCH_SECONDS
            if kid not in self._keys or stale:
                self._fetch()
            if kid not in self._keys:
                raise NotAuthenticated(problem=f"token signed with an unknown key '{kid}'")
            return self._keys[kid]

    def _fetch(self) -> None:
        import jwt

        try:
            response = httpx.get(self.jwks_url, timeout=10)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise NotAuthenticated(
                problem=f"the identity provider's keys are unavailable: {exc}"
            ) from None
        keys: dict[str, Any] = {}
        for jwk in document.get("keys", []):
            try:
                keys[str(jwk.get("kid", ""))] = jwt.PyJWK(jwk).key
            except jwt.PyJWTError:
                continue  # a key type we cannot use; the others still count
        self._keys = keys
        self._fetched_at = time.monotonic()
