"""What every list endpoint shares: ``?cursor=&limit=`` in, ``{items, next, total}`` out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

from goldenpath.paging import CURSOR_PATTERN, DEFAULT_LIMIT, MAX_LIMIT, Page

ItemT = TypeVar("ItemT")
RecordT = TypeVar("RecordT")

Cursor = Annotated[
    str | None,
    Query(
        pattern=CURSOR_PATTERN,
        description="The `next` value of the previous page; absent for the first page.",
    ),
]
Limit = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description=f"At most this many items (1 to {MAX_LIMIT}).")
]
DEFAULT = DEFAULT_LIMIT


class PageView(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    next: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )
    total: int = Field(description="How many items the whole list holds (with these filters).")


def view(page: Page[RecordT], convert: Callable[[RecordT], ItemT]) -> PageView[ItemT]:
    return PageView[ItemT](
        items=[convert(item) for item in page.items], next=page.next, total=page.total
    )
