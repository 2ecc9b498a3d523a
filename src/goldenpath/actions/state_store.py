"""The port through which an action keeps state of its own between runs (Terraform's).

The platform implements it on its database: values are sealed with the platform's key before
they are stored, and locks are leased rows. A lock's holder renews its leases while it works;
a lock not renewed for `lease_seconds` has lapsed (its holder died) and may be taken over.
An action sees only this protocol, never the store behind it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class StateStore(Protocol):
    lease_seconds: float

    def read(self, key: str) -> bytes | None:
        """The value stored under ``key``, opened; None when there is none."""

    def write(self, key: str, value: bytes, *, only_if_absent: bool = False) -> bool:
        """Seal and store ``value``; with ``only_if_absent``, only when nothing is stored yet.
        True when written."""

    def delete(self, key: str) -> None: ...

    def delete_older_than(self, prefix: str, seconds: float) -> None:
        """Delete every value whose key starts with ``prefix``, written more than ``seconds``
        ago."""

    def acquire(
        self, key: str, kind: str, holder: str, info: Mapping[str, Any]
    ) -> Mapping[str, Any] | None:
        """Take the ``kind`` lock on ``key`` for ``holder``: None when taken (a lapsed lease
        is taken over), else the info of the lock that holds it."""

    def holding(self, key: str, kind: str) -> tuple[str, Mapping[str, Any]] | None:
        """The holder and info of the ``kind`` lock on ``key``, if it is held."""

    def release(self, key: str, kind: str, holder: str | None = None) -> None:
        """Drop the lock; only ``holder``'s when given."""

    def renew(self, holder: str) -> None:
        """Extend the lease of every lock ``holder`` has."""

    def release_all(self, holder: str, kind: str | None = None) -> None:
        """Drop every lock ``holder`` has (of ``kind``, when given)."""
