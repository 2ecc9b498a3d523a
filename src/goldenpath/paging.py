"""Pages of a long list: at most ``limit`` items, the opaque cursor of the next page, and how
many items the whole list holds.

A cursor is the sort key of a page's last item (base64url JSON): the next page starts after it,
so items added meanwhile neither repeat nor shift what the next page holds.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from goldenpath.errors import InvalidInput

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
CURSOR_PATTERN = r"^[A-Za-z0-9_-]{1,400}$"
BAD_CURSOR = "must be the 'next' value of a previous page of this list"


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next: str | None
    total: int


def encode_cursor(*key: str | int) -> str:
    text = json.dumps(list(key), separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *kinds: type) -> list[Any]:
    """The key a cursor holds, each part of the given type, or bad input naming ``cursor``."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error):
        raise InvalidInput(field="cursor", rule=BAD_CURSOR) from None
    if (
        not isinstance(key, list)
        or len(key) != len(kinds)
        or not all(type(part) is kind for part, kind in zip(key, kinds, strict=True))
    ):
        raise InvalidInput(field="cursor", rule=BAD_CURSOR)
    return key


def newest_first_cursor(created_at: datetime, item_id: str) -> str:
    """The cursor after an item of a list ordered by (created_at, id), newest first."""
    return encode_cursor(created_at.isoformat(), item_id)


def newest_first_key(cursor: str | None) -> tuple[datetime, str] | None:
    if cursor is None:
        return None
    at, item_id = decode_cursor(cursor, str, str)
    try:
        created_at = datetime.fromisoformat(at)
    except ValueError:
        raise InvalidInput(field="cursor", rule=BAD_CURSOR) from None
    if created_at.tzinfo is None:
        raise InvalidInput(field="cursor", rule=BAD_CURSOR)
    return created_at, item_id


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(field="limit", rule=f"must be between 1 and {MAX_LIMIT}")
    return limit


def page_of(items: Sequence[T], key: Callable[[T], str], cursor: str | None, limit: int) -> Page[T]:
    """A page of a list held in memory (users, teams, the catalog), in the order of ``key``."""
    check_limit(limit)
    ordered = sorted(items, key=key)
    if cursor is not None:
        [after] = decode_cursor(cursor, str)
        ordered = [item for item in ordered if key(item) > after]
    shown = ordered[:limit]
    more = len(ordered) > limit
    return Page(shown, encode_cursor(key(shown[-1])) if more else None, len(items))


def page_after(
    found: Sequence[T], limit: int, total: int, cursor_of: Callable[[T], str]
) -> Page[T]:
    """A page from a query that asked for ``limit + 1`` rows: the extra row says there is more."""
    shown = list(found[:limit])
    return Page(shown, cursor_of(shown[-1]) if len(found) > limit else None, total)
