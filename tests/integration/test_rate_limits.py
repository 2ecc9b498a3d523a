"""Guessing is bounded: portal sign-ins per user name and per client address, failed token
authentications per token and per address, answered 429 with Retry-After (exit code 15 in the
CLI); the right password works again once the window has passed."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from goldenpath.api.app import create_api
from goldenpath.app import Platform
from goldenpath.cli.client import CliError
from goldenpath.cli.exit_codes import RATE_LIMITED, exit_code_for
from tests.conftest import ADMIN, served

PASSWORD = "right horse battery staple"
# Short, so that the test waits seconds for the window, not minutes; long enough that the
# attempts (each an argon2 hash on a busy machine) all fall in one window.
WINDOW_SECONDS = 20


@pytest.fixture
def limited(make_platform: Callable[..., Platform], request: pytest.FixtureRequest) -> Platform:
    window = getattr(request, "param", WINDOW_SECONDS)
    platform = make_platform(
        login_rate_limit=f"5 per {window} seconds",
        address_rate_limit=f"20 per {window} seconds",
    )
    for name in ("alice", "bob", "carol", "dave", "erin", "frank"):
        platform.directory.create_user(ADMIN, name, password=PASSWORD)
    return platform


@pytest.fixture
def portal(limited: Platform) -> Iterator[str]:
    with served(create_api(limited)) as url:
        yield url


def sign_in(client: httpx.Client, user: str, password: str) -> httpx.Response:
    form = client.get("/login")
    match = re.search(r'name="_csrf" value="([^"]+)"', form.text)
    assert match, form.text
    return client.post(
        "/login",
        data={"_csrf": match.group(1), "user": user, "password": password, "next": "/"},
    )


def test_100_wrong_passwords_are_answered_429_after_the_limit_then_the_right_one_works(
    portal: str,
) -> None:
    with httpx.Client(base_url=portal, timeout=30) as client:
        answers = [sign_in(client, "alice", f"wrong {n}").status_code for n in range(100)]
        assert answers == [401] * 5 + [429] * 95
        refused = sign_in(client, "alice", PASSWORD)
        assert refused.status_code == 429
        assert "Too many sign-in attempts" in refused.text
        wait = int(refused.headers["retry-after"])
        assert 1 <= wait <= WINDOW_SECONDS
        time.sleep(wait + 1)
        welcomed = sign_in(client, "alice", PASSWORD)
    assert welcomed.status_code == 303 and welcomed.headers["location"] == "/"


@pytest.mark.parametrize("limited", [3600], indirect=True)  # nothing here waits for the window
def test_one_address_guessing_many_users_is_held_back_too(portal: str) -> None:
    with httpx.Client(base_url=portal, timeout=30) as client:
        answers = [
            sign_in(client, user, "wrong").status_code
            for user in ("bob", "carol", "dave", "erin", "frank")
            for _ in range(5)
        ]
    assert answers == [401] * 20 + [429] * 5  # 20 per address, though no user hit its 5


@pytest.mark.parametrize("limited", [3600], indirect=True)
def test_failed_token_authentications_are_limited_per_address(
    limited: Platform, portal: str
) -> None:
    issued = limited.directory.create_token(ADMIN, name="bob-laptop", user="bob")
    with httpx.Client(base_url=portal, timeout=30) as client:
        guesses = [
            client.get("/api/v1/me", headers={"Authorization": f"Bearer gp_{n:012d}_{'x' * 43}"})
            for n in range(25)
        ]
        good = client.get("/api/v1/me", headers={"Authorization": f"Bearer {issued.token}"})
    assert [g.status_code for g in guesses] == [401] * 20 + [429] * 5
    last = guesses[-1]
    assert last.headers["content-type"] == "application/problem+json"
    assert last.json()["code"] == "rate_limited" and int(last.headers["retry-after"]) >= 1
    assert good.status_code == 429  # the address is held back, whatever it sends


def test_the_cli_exits_15_when_rate_limited() -> None:
    limited = CliError("too many attempts", code="rate_limited", status=429)
    assert exit_code_for(limited) == RATE_LIMITED == 15
