"""What the API takes as a request body. One past the size limit is refused with 413 and a
problem document, whether it declares its length or not and whether the route reads a body or
not, and nothing is made; ticket imports have a larger limit of their own. JSON nested past 64
levels, or holding a lone surrogate (which nothing downstream could encode), is bad input."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from goldenpath.api.app import create_api
from goldenpath.api.json_text import DEPTH_RULE
from goldenpath.api.json_text import RULE as LONE_SURROGATE_RULE
from goldenpath.app import Platform
from tests.conftest import served

LIMIT = 1024 * 1024
TEN_MB = b'{"template": "postgres-database", "parameters": {"name": "' + b"a" * (10 << 20) + b'"}}'


@pytest.fixture
def api(platform: Platform) -> Iterator[httpx.Client]:
    token = platform.directory.bootstrap()
    assert token is not None
    headers = {"Authorization": f"Bearer {token.token}", "Content-Type": "application/json"}
    with (
        served(create_api(platform)) as url,
        httpx.Client(base_url=url, headers=headers, timeout=60) as client,
    ):
        yield client


def assert_too_large(answer: httpx.Response) -> None:
    assert answer.status_code == 413, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["code"] == "body_too_large"
    assert problem["fields"] == [{"field": "body", "rule": f"must be at most {LIMIT} bytes"}]
    assert str(LIMIT) in problem["detail"]


def test_a_10_mb_body_is_refused_with_413_and_nothing_is_made(
    platform: Platform, api: httpx.Client
) -> None:
    assert_too_large(api.post("/api/v1/requests", content=TEN_MB))
    assert api.get("/api/v1/requests").json()["total"] == 0


def test_a_body_sent_without_a_length_is_stopped_at_the_limit(api: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"template": "postgres-database", "justification": "'
        for _ in range(3):
            yield b"a" * LIMIT
        yield b'"}'

    assert_too_large(api.post("/api/v1/requests", content=chunks()))


def test_a_route_that_reads_no_body_refuses_a_large_one_alike(api: httpx.Client) -> None:
    assert_too_large(api.post("/api/v1/audit/checkpoint", content=TEN_MB))


def test_ticket_imports_have_a_larger_limit_of_their_own(api: httpx.Client) -> None:
    export = b"key,summary\n" + b"".join(b"T-%d,x\n" % n for n in range(2 * LIMIT // 8))
    assert len(export) > LIMIT

    answer = api.post(
        "/api/v1/insights/tickets", content=export, headers={"Content-Type": "text/csv"}
    )

    assert answer.status_code != 413, answer.text


@pytest.mark.parametrize("depth", [65, 500, 10_000])
@pytest.mark.parametrize(
    "body",
    [
        "{opened}{closed}",
        '{{"template": "redis", "dry_run": true, "parameters": {{"name": {opened}{closed}}}}}',
        '{{"template": "redis", "ttl": {objects}1{ends}}}',
    ],
)
def test_json_nested_past_64_levels_is_bad_input(api: httpx.Client, body: str, depth: int) -> None:
    # 500 levels were a RecursionError in validation (a 500, or a dropped connection).
    sent = body.format(
        opened="[" * depth, closed="]" * depth, objects='{"a":' * depth, ends="}" * depth
    )

    answer = api.post("/api/v1/requests", content=sent)

    assert answer.status_code == 422, answer.text
    assert answer.json()["fields"] == [{"field": "body", "rule": DEPTH_RULE}]


def test_brackets_inside_strings_do_not_count_as_nesting(api: httpx.Client) -> None:
    justification = "[" * 100 + '\\" still inside'
    body = f'{{"template": "X", "justification": "{justification}"}}'

    answer = api.post("/api/v1/requests", content=body)

    assert [f["field"] for f in answer.json()["fields"]] == ["template"]


@pytest.mark.parametrize(
    "body",
    [
        '{"template": "redis", "justification": "needed \\ud800 today", "dry_run": true}',
        '{"template": "redis", "parameters": {"\\udfff": 1}}',
        '{"template": "redis", "parameters": {"name": ["ok", {"deep": "\\ud83d"}]}}',
    ],
)
def test_a_lone_surrogate_anywhere_in_a_json_body_is_bad_input(
    api: httpx.Client, body: str
) -> None:
    answer = api.post("/api/v1/requests", content=body)

    assert answer.status_code == 422, answer.text
    assert answer.json()["fields"] == [{"field": "body", "rule": LONE_SURROGATE_RULE}]
    assert api.get("/api/v1/requests").json()["total"] == 0


def test_an_escaped_pair_and_an_escaped_backslash_are_ordinary_text(api: httpx.Client) -> None:
    # "\ud83d\ude00" is one emoji; "\\ud800" is a backslash and five letters.
    body = '{"template": "X", "justification": "\\ud83d\\ude00 and \\\\ud800"}'

    answer = api.post("/api/v1/requests", content=body)

    assert answer.status_code == 422
    assert [f["field"] for f in answer.json()["fields"]] == ["template"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/api/v1/teams",
            {"name": "t-strict", "monthly_budget_usd": "31337"},
            "monthly_budget_usd",
        ),
        ("/api/v1/teams", {"name": "t-strict", "monthly_budget_usd": True}, "monthly_budget_usd"),
        ("/api/v1/users", {"name": "strict", "is_admin": "true"}, "is_admin"),
        ("/api/v1/users", {"name": "strict", "is_admin": 1}, "is_admin"),
        ("/api/v1/requests", {"template": "redis", "dry_run": "true"}, "dry_run"),
        ("/api/v1/tokens", {"name": "strict", "expires_in_days": True}, "expires_in_days"),
    ],
)
def test_a_wrong_type_in_a_body_is_refused_not_coerced(
    api: httpx.Client, path: str, body: dict[str, object], field: str
) -> None:
    answer = api.post(path, json=body)

    assert answer.status_code == 422, answer.text
    assert field in [f["field"].split(".")[0] for f in answer.json()["fields"]]
    listed = str(api.get("/api/v1/teams").json()) + str(api.get("/api/v1/users").json())
    assert "strict" not in listed


def test_an_integer_is_still_a_number(api: httpx.Client) -> None:
    made = api.post("/api/v1/teams", json={"name": "t-budget", "monthly_budget_usd": 100})

    assert made.status_code == 201, made.text
    assert made.json()["monthly_budget_usd"] == 100
