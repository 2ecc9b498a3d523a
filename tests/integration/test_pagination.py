"""Long lists come in pages: every item exactly once, newest first, with the total and an
opaque cursor; a bad cursor or limit is refused naming the field."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from goldenpath.app import Platform
from goldenpath.errors import InvalidInput
from tests.conftest import ADMIN, BackgroundWorker, member, wait_for_request

ALICE = member("alice", "payments")


def test_requests_come_in_pages_each_exactly_once_newest_first(
    platform: Platform, unique_name: Callable[[str], str]
) -> None:
    made = [
        platform.service.submit("postgres-database", {"name": unique_name("page")}, ALICE).id
        for _ in range(5)
    ]
    seen: list[str] = []
    pages = 0
    cursor = None
    while True:
        page = platform.service.request_page(ALICE, cursor=cursor, limit=2)
        assert page.total == 5
        seen += [r.id for r in page.items]
        pages += 1
        if page.next is None:
            break
        cursor = page.next
    assert pages == 3
    assert seen == list(reversed(made))
    # A request made after the first page neither repeats nor shifts what follows.
    first = platform.service.request_page(ALICE, limit=2)
    platform.service.submit("postgres-database", {"name": unique_name("late")}, ALICE)
    second = platform.service.request_page(ALICE, cursor=first.next, limit=2)
    assert [r.id for r in second.items] == [made[2], made[1]]
    assert second.total == 6


def test_a_filter_counts_only_what_it_lists(
    platform: Platform, unique_name: Callable[[str], str]
) -> None:
    platform.service.submit("postgres-database", {"name": unique_name("a")}, ALICE)
    platform.service.submit("new-repo", {"name": unique_name("b").replace("_", "-")}, ALICE)
    page = platform.service.request_page(ALICE, template="new-repo", limit=50)
    assert page.total == 1 and [r.template_name for r in page.items] == ["new-repo"]
    assert page.next is None
    assert platform.service.request_page(member("bob", "other"), limit=50).total == 0


@pytest.mark.parametrize(
    ("cursor", "limit", "field"),
    [
        ("not-a-cursor", 10, "cursor"),
        ("WzEsMl0", 10, "cursor"),  # [1,2]: the right length, the wrong types
        ("WyJ5ZXN0ZXJkYXkiLCJ4Il0", 10, "cursor"),  # ["yesterday","x"]: no time
        (None, 0, "limit"),
        (None, 501, "limit"),
    ],
)
def test_a_bad_cursor_or_limit_is_refused_naming_the_field(
    platform: Platform, cursor: str | None, limit: int, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        platform.service.request_page(ADMIN, cursor=cursor, limit=limit)
    assert refused.value.field == field


def test_resources_come_in_pages_with_the_total(
    platform: Platform, unique_name: Callable[[str], str]
) -> None:
    with BackgroundWorker(platform):
        for _ in range(3):
            request = platform.service.submit(
                "postgres-database", {"name": unique_name("res")}, ALICE
            )
            assert wait_for_request(platform, request.id).status == "succeeded"
    first = platform.service.resource_page(ALICE, limit=2)
    assert first.total == 3 and len(first.items) == 2 and first.next is not None
    rest = platform.service.resource_page(ALICE, cursor=first.next, limit=2)
    assert len(rest.items) == 1 and rest.next is None
    every = {r.id for r in platform.service.resources(ALICE)}
    assert {r.id for r in [*first.items, *rest.items]} == every
