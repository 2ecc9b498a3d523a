"""Expiry warnings: a resource whose TTL ends within the warning period is announced once, by
the worker's housekeeping, to a webhook (a real HTTP server here) and to its team's Slack channel
(a fake Slack Web API); the portal shows a banner with a one-click extend within the golden
path's max, and a new expiry gets its own warning."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from goldenpath.api.app import create_api
from goldenpath.app import Platform
from goldenpath.errors import InvalidInput
from goldenpath.store.records import ResourceRecord
from tests.conftest import ADMIN, BackgroundWorker, member, served, wait_for_request
from tests.integration.slack.slack_fake import SlackFake
from tests.integration.test_approvals import Receiver
from tests.integration.test_rate_limits import sign_in

ALICE = member("alice", "payments")
PASSWORD = "expiry-portal-password"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.server.shutdown()
    running.server.server_close()


@pytest.fixture
def slack() -> Iterator[SlackFake]:
    fake = SlackFake(bot_token="xoxb-expiry").start()
    yield fake
    fake.stop()


@pytest.fixture
def warning_platform(
    make_platform: Callable[..., Platform], receiver: Receiver, slack: SlackFake
) -> Platform:
    return make_platform(
        webhook_url=receiver.url,
        expiry_warning_days=3,
        slack_bot_token="xoxb-expiry",
        slack_api_url=slack.url,
        slack_approval_channels={"payments": "C0PAYMENTS"},
    )


def made(platform: Platform, name: str, ttl: str) -> ResourceRecord:
    request = platform.service.submit("postgres-database", {"name": name}, ALICE, ttl=ttl)
    assert wait_for_request(platform, request.id).status == "succeeded"
    [resource] = [r for r in platform.service.resources(ALICE) if r.request_id == request.id]
    return resource


def expiring_events(receiver: Receiver) -> list[dict[str, object]]:
    return [p for p, _, _ in receiver.received if p["event"] == "resource.expiring"]


def test_a_resource_expiring_soon_is_announced_once_by_webhook_and_slack(
    warning_platform: Platform,
    receiver: Receiver,
    slack: SlackFake,
    unique_name: Callable[[str], str],
) -> None:
    platform = warning_platform
    with BackgroundWorker(platform):
        soon = made(platform, unique_name("soon"), "2d")
        later = made(platform, unique_name("later"), "30d")
        receiver.wait_for(1)  # housekeeping runs every second in tests
        # A few more housekeeping rounds: none of them warns again.
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            time.sleep(0.5)
        posted = [c for c in slack.of("chat.postMessage") if c.args.get("channel") == "C0PAYMENTS"]
    [event] = expiring_events(receiver)
    resource = event["resource"]
    assert isinstance(resource, dict)
    assert (resource["id"], resource["name"], resource["team"]) == (soon.id, soon.name, "payments")
    assert str(event["url"]).endswith(f"/resources/{soon.id}")
    assert len(posted) == 1 and soon.name in str(posted[0].args["text"])
    assert platform.service.warn_of_expiry() == []
    assert platform.service.resource(soon.id, ALICE).expiry_warned_at is not None
    assert platform.service.resource(later.id, ALICE).expiry_warned_at is None
    warned = [
        e for e in platform.audit.events(ADMIN, limit=500) if e["action"] == "resource.expiring"
    ]
    assert [e["target"] for e in warned] == [soon.id]

    # Extended, it has a new expiry, which gets its own warning when its time comes.
    platform.service.extend(soon.id, ALICE, "30d")
    assert platform.service.warn_of_expiry() == []
    in_28_days = datetime.now(UTC) + timedelta(days=28)
    assert sorted(platform.service.warn_of_expiry(now=in_28_days)) == sorted([soon.id, later.id])


def test_without_a_warning_period_nothing_is_announced(
    make_platform: Callable[..., Platform], receiver: Receiver, unique_name: Callable[[str], str]
) -> None:
    platform = make_platform(webhook_url=receiver.url, expiry_warning_days=0)
    with BackgroundWorker(platform):
        made(platform, unique_name("quiet"), "1d")
    assert platform.service.warn_of_expiry() == []
    assert expiring_events(receiver) == []


def csrf(html: str) -> str:
    match = re.search(r'name="_csrf" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def test_the_portal_shows_a_banner_and_extends_in_one_click_within_the_max(
    make_platform: Callable[..., Platform], unique_name: Callable[[str], str]
) -> None:
    platform = make_platform(expiry_warning_days=3)
    platform.directory.create_team(ADMIN, "payments")
    platform.directory.create_user(ADMIN, "alice", password=PASSWORD)
    platform.directory.add_member(ADMIN, "payments", "alice", "developer")
    with BackgroundWorker(platform):
        soon = made(platform, unique_name("ban"), "2d")
        calm = made(platform, unique_name("calm"), "30d")
    with served(create_api(platform)) as url, httpx.Client(base_url=url, timeout=60) as client:
        assert sign_in(client, "alice", PASSWORD).status_code == 303
        listed = client.get("/resources").text
        assert f'data-expiring="{soon.id}"' in listed and f'data-expiring="{calm.id}"' not in listed
        page = client.get(f"/resources/{soon.id}")
        # postgres-database: no default TTL, so 7 days, well within its 90d max.
        assert "Extend by 7d" in page.text
        assert f'data-expiring="{soon.id}"' in page.text
        assert "data-expiring" not in client.get(f"/resources/{calm.id}").text
        extended = client.post(
            f"/resources/{soon.id}/extend", data={"ttl": "7d", "_csrf": csrf(page.text)}
        )
        assert extended.status_code == 303
        after = platform.service.resource(soon.id, ALICE)
        assert after.expires_at is not None and after.expires_at > soon.expires_at  # type: ignore[operator]
        assert "data-expiring" not in client.get(f"/resources/{soon.id}").text
    # The offer never goes past the golden path's max, counted from creation.
    with pytest.raises(InvalidInput, match="outlive the 90d"):
        platform.service.extend(soon.id, ALICE, "13w")


SHORT_LIVED = """\
apiVersion: goldenpath.dev/v1
kind: GoldenPath
metadata: {name: short-db}
spec:
  lifecycle: {ttl: {default: 2d, max: 3d}}
  parameters:
    required: [name]
    properties:
      name: {type: string, pattern: "^gpt[a-z0-9_]{3,40}$"}
  steps:
    - id: db
      action: postgres:database
      input: {name: "${{ parameters.name }}", connection_limit: 10}
"""


def test_the_one_click_offer_is_cut_to_what_the_max_still_allows(
    make_platform: Callable[..., Platform],
    unique_name: Callable[[str], str],
    tmp_path: Path,
) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "short-db.yaml").write_text(SHORT_LIVED)
    platform = make_platform(template_dirs=[folder], expiry_warning_days=3)
    with BackgroundWorker(platform):
        request = platform.service.submit("short-db", {"name": unique_name("short")}, ALICE)
        assert wait_for_request(platform, request.id).status == "succeeded"
    [resource] = platform.service.resources(ALICE)
    assert platform.service.expiring_soon(resource)
    # The default (2d) buys nothing more: the offer is what the max (3d from creation) allows.
    offer = platform.service.extension_offer(resource)
    assert offer is not None and re.fullmatch(r"7[01]h", offer)
    platform.service.extend(resource.id, ALICE, offer)
    # Then nothing is left to offer.
    assert platform.service.extension_offer(platform.service.resource(resource.id, ALICE)) is None
