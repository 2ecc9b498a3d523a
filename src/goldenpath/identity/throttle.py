"""Limits on guessing: portal sign-ins per user name and per client address, failed token
authentications per token and per client address (the `limits` library, moving windows).

A sign-in is counted before its password is hashed (argon2 costs 64 MiB), so a flood of guesses
costs at most the limit's worth of hashes. A token is only counted when it fails: the platform's
own scripts authenticate constantly, and a wrong token costs one SHA-256.

Counters live in ``memory://`` by default (one process); several API processes share them only
through a shared storage such as ``redis://``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse, storage, strategies

from goldenpath.errors import ConfigurationError, RateLimited


@dataclass(frozen=True)
class Throttle:
    limiter: strategies.RateLimiter
    per_subject: RateLimitItem
    per_address: RateLimitItem
    # Counters in this process's memory: a check does no I/O (an event loop may ask it).
    in_memory: bool = True

    @classmethod
    def of(cls, per_subject: str, per_address: str, storage_uri: str = "memory://") -> Throttle:
        try:
            counters = storage.storage_from_string(storage_uri)
            subject_limit, address_limit = parse(per_subject), parse(per_address)
        except (ValueError, ConfigurationError) as exc:
            raise ConfigurationError(problem=f"rate limits: {exc}") from None
        return cls(
            strategies.MovingWindowRateLimiter(counters),
            subject_limit,
            address_limit,
            in_memory=isinstance(counters, storage.MemoryStorage),
        )

    def attempt(self, kind: str, subject: str, address: str | None) -> None:
        """Count one attempt, or refuse it when the subject or the address used up its limit."""
        for limit, scope, key, named in self._keys(subject, address):
            if not self.limiter.hit(limit, kind, scope, key):
                raise self._refusal(limit, kind, scope, key, named)

    def check(self, kind: str, subject: str, address: str | None) -> None:
        """Refuse, without counting, when the subject or the address used up its limit."""
        for limit, scope, key, named in self._keys(subject, address):
            if not self.limiter.test(limit, kind, scope, key):
                raise self._refusal(limit, kind, scope, key, named)

    def failed(self, kind: str, subject: str, address: str | None) -> None:
        """Count a failed attempt (one `check` let through)."""
        for limit, scope, key, _ in self._keys(subject, address):
            self.limiter.hit(limit, kind, scope, key)

    def _keys(self, subject: str, address: str | None) -> list[tuple[RateLimitItem, str, str, str]]:
        keys = [(self.per_subject, "subject", subject, f"'{subject}'")]
        if address:
            keys.append((self.per_address, "address", address, f"address {address}"))
        return keys

    def _refusal(
        self, limit: RateLimitItem, kind: str, scope: str, key: str, named: str
    ) -> RateLimited:
        reset = self.limiter.get_window_stats(limit, kind, scope, key).reset_time
        return RateLimited(subject=named, retry_after=max(1, math.ceil(reset - time.time())))
