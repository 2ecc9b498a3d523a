"""Approvals: waiting requests are announced to a webhook, decisions too, and unanswered ones
expire. The webhook receiver is a real HTTP server on this machine."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from goldenpath.app import Platform
from goldenpath.notifications import SIGNATURE_HEADER, sign
from tests.conftest import ADMIN, BackgroundWorker, member, wait_for_request

ALICE = member("alice", "payments")
LEAD = member("lead", "payments", "approver")
SECRET = "webhook-signing-key"


class Receiver:
    def __init__(self) -> None:
        self.received: list[tuple[dict[str, Any], str | None, bool]] = []
        self.failures_left = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if outer.failures_left > 0:
                    outer.failures_left -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                signature = self.headers.get(SIGNATURE_HEADER)
                outer.received.append(
                    (json.loads(body), signature, signature == sign(body, SECRET))
                )
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[str]:
        return [payload["event"] for payload, _, _ in self.received]

    def wait_for(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                pytest.fail(f"webhook got {self.events()}, wanted {count} deliveries")
            time.sleep(0.1)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.server.shutdown()
    running.server.server_close()


@pytest.fixture
def approving_platform(
    make_platform: Callable[..., Platform], receiver: Receiver, request: pytest.FixtureRequest
) -> Platform:
    marker = request.node.get_closest_marker("expiry_hours")
    return make_platform(
        teams={"payments": {"monthly_budget_usd": 1}},  # every request goes to a human
        webhook_url=receiver.url,
        webhook_secret=SECRET,
        approval_expiry_hours=marker.args[0] if marker else 72,
    )


def test_waiting_and_decisions_are_announced_signed(
    approving_platform: Platform, receiver: Receiver, unique_name: Callable[[str], str]
) -> None:
    receiver.failures_left = 1  # the first delivery meets a receiver that is down
    with BackgroundWorker(approving_platform):
        waiting = approving_platform.service.submit(
            "postgres-database", {"name": unique_name("hook")}, ALICE
        )
        assert waiting.status == "pending_approval"
        receiver.wait_for(1)
        approving_platform.service.approve(waiting.id, LEAD, "within budget after all")
        receiver.wait_for(2)
        wait_for_request(approving_platform, waiting.id)
    assert receiver.events() == ["request.pending_approval", "request.approved"]
    first, second = (payload for payload, _, _ in receiver.received)
    assert first["request"]["id"] == waiting.id and first["request"]["team"] == "payments"
    assert second["decided_by"] == "lead" and second["comment"] == "within budget after all"
    assert all(valid for _, _, valid in receiver.received), "every body carries a valid signature"
    [resource] = approving_platform.service.resources(ADMIN)
    approving_platform.service.destroy(resource.id, ALICE)


@pytest.mark.expiry_hours(0.0005)  # 1.8 s
def test_unanswered_approvals_expire(
    approving_platform: Platform, receiver: Receiver, unique_name: Callable[[str], str]
) -> None:
    waiting = approving_platform.service.submit(
        "postgres-database", {"name": unique_name("late")}, ALICE
    )
    assert approving_platform.service.expire_approvals() == []  # not yet
    time.sleep(2)
    with BackgroundWorker(approving_platform):  # its housekeeping expires it
        expired = wait_for_request(approving_platform, waiting.id)
        receiver.wait_for(2)
    assert expired.status == "rejected"
    assert expired.error is not None and "approval expired" in expired.error
    # Deliveries run concurrently: the order of arrival is not the order of events.
    assert sorted(receiver.events()) == ["request.expired", "request.pending_approval"]
