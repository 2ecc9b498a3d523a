"""Only what Slack signed reaches the app: unsigned, wrongly signed, stale, future, tampered and
malformed deliveries get 401 and change nothing; a delivery Slack repeats (``X-Slack-Retry-Num``)
never submits a second request. The algorithm is checked against Slack's own documented example,
computed here, not taken from a fixture."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable

import pytest
from slack_sdk.signature import Clock, SignatureVerifier

from tests.conftest import ADMIN
from tests.integration.slack.conftest import SIGNING_SECRET, SlackWorld, form_state, sign

# "Verifying requests from Slack" (Slack's API docs): the example signing secret, timestamp and
# slash-command body, and the signature Slack says they give.
DOC_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
DOC_TIMESTAMP = 1531420618
DOC_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
    b"&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
    b"&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
    b"%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
FORM = "application/x-www-form-urlencoded"


class At(Clock):
    """A clock stopped at one moment."""

    def __init__(self, moment: float) -> None:
        self.moment = moment

    def now(self) -> float:
        return self.moment


def test_the_documented_example_computes_to_slacks_signature() -> None:
    base = b"v0:" + str(DOC_TIMESTAMP).encode() + b":" + DOC_BODY
    by_hand = "v0=" + hmac.new(DOC_SECRET.encode(), base, hashlib.sha256).hexdigest()
    assert by_hand == DOC_SIGNATURE
    assert sign(DOC_BODY, DOC_TIMESTAMP, DOC_SECRET) == DOC_SIGNATURE  # the tests' signer
    verifier = SignatureVerifier(DOC_SECRET)
    assert verifier.generate_signature(timestamp=str(DOC_TIMESTAMP), body=DOC_BODY) == (
        DOC_SIGNATURE
    )


def test_the_endpoint_takes_slacks_documented_request_only_at_its_time(
    make_slack_world: Callable[..., SlackWorld],
) -> None:
    world = make_slack_world(slack_signing_secret=DOC_SECRET)
    assert world.face is not None
    headers = {
        "Content-Type": FORM,
        "X-Slack-Request-Timestamp": str(DOC_TIMESTAMP),
        "X-Slack-Signature": DOC_SIGNATURE,
    }
    # By today's clock the example is years old: a replay.
    assert world.send(DOC_BODY, headers).status_code == 401
    for off in (-301, 301):  # just outside the five minutes, either way
        world.face.clock = At(DOC_TIMESTAMP + off)
        assert world.send(DOC_BODY, headers).status_code == 401
    assert world.footprint()["gp_slack_deliveries"] == 0
    assert world.face.counts["bad_signature"] == 3

    world.face.clock = At(DOC_TIMESTAMP + 299)
    answer = world.send(DOC_BODY, headers)
    assert answer.status_code == 200
    # Slack's example user is nobody here: the one answer an unlinked user gets.
    assert "/golden link" in answer.text
    assert world.footprint()["gp_slack_deliveries"] == 1
    tampered = DOC_BODY.replace(b"text=&", b"text=list&")
    assert world.send(tampered, headers).status_code == 401


def test_no_signature_no_slack_endpoint(make_slack_world: Callable[..., SlackWorld]) -> None:
    world = make_slack_world(slack_signing_secret=None)
    assert world.face is None
    body = world.command_body("UALICE", "list")
    assert world.post(body).status_code == 404


def _cases(body: bytes, now: int) -> dict[str, tuple[bytes, dict[str, str]]]:
    """Deliveries Slack did not sign (or not now): body and headers sent."""

    def signed(ts: int, secret: str = SIGNING_SECRET) -> dict[str, str]:
        return {
            "Content-Type": FORM,
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": sign(body, ts, secret),
        }

    good = signed(now)
    return {
        "unsigned": (body, {"Content-Type": FORM}),
        "no signature": (body, {k: v for k, v in good.items() if k != "X-Slack-Signature"}),
        "no timestamp": (
            body,
            {k: v for k, v in good.items() if k != "X-Slack-Request-Timestamp"},
        ),
        "empty headers": (
            body,
            {**good, "X-Slack-Request-Timestamp": "", "X-Slack-Signature": ""},
        ),
        "wrong secret": (body, signed(now, secret="someone-elses-secret")),
        "stale (replayed after 5 minutes)": (body, signed(now - 301)),
        "from the future": (body, signed(now + 301)),
        "tampered body": (body.replace(b"small", b"medium"), good),
        "timestamp not a number": (body, {**good, "X-Slack-Request-Timestamp": "soon"}),
        "signature of another version": (
            body,
            {**good, "X-Slack-Signature": good["X-Slack-Signature"].replace("v0=", "v1=")},
        ),
        "signature cut short": (
            body,
            {**good, "X-Slack-Signature": good["X-Slack-Signature"][:-2]},
        ),
        "body not UTF-8": (
            b"\xff" + body,
            {
                **good,
                "X-Slack-Signature": sign(b"\xff" + body, now),
            },
        ),
    }


def test_unsigned_deliveries_get_401_and_change_nothing(
    slack_world: SlackWorld, unique_name: Callable[[str], str]
) -> None:
    world = slack_world
    preview = world.previewed("UALICE", form_state(unique_name("sig")))
    # A delivery that, signed, submits a request: the preview's submission.
    body = world.interaction_body(world.view_submission("UALICE", preview, {}))
    before = world.footprint()
    cases = _cases(body, int(time.time()))
    for case, (sent, headers) in cases.items():
        answer = world.send(sent, headers)
        assert answer.status_code == 401, case
        assert "invalid signature" in answer.text, case
    assert world.footprint() == before
    assert world.face is not None and world.face.counts["bad_signature"] == len(cases)
    assert world.platform.service.requests(ADMIN) == []

    # The very same body, signed now: it does submit (so the cases above could have).
    assert world.post(body).status_code == 200
    world.wait(lambda: world.platform.service.requests(ADMIN), what="the request")


@pytest.mark.parametrize(
    "body",
    [
        b"payload=%22x%22",  # a payload that is a JSON string, not an object
        b"payload=%5B1%2C2%5D",
        b"payload=" + b"%5B" * 5000 + b"%5D" * 5000,  # nested past the parser
        b"payload=%7B%22type%22%3A%22view_submission%22%2C%22x%22%3A%22%5Cu0000%22%7D",
        b"command=%2Fgolden&text=list&user_id=UALICE%00&trigger_id=1.2.3",
        b'{"type": "event_callback", "event": "\\u0000"}',
    ],
)
def test_a_signed_body_slack_would_never_send_gets_400_and_changes_nothing(
    slack_world: SlackWorld, body: bytes
) -> None:
    before = slack_world.footprint()

    answer = slack_world.post(body)

    assert (answer.status_code, answer.text) == (400, "not a Slack delivery")
    assert slack_world.footprint() == before
    assert slack_world.face is not None and slack_world.face.counts["malformed"] == 1


def test_a_repeated_delivery_never_submits_twice(
    slack_world: SlackWorld, unique_name: Callable[[str], str]
) -> None:
    world, service = slack_world, slack_world.platform.service
    preview = world.previewed("UALICE", form_state(unique_name("once")))
    body = world.interaction_body(world.view_submission("UALICE", preview, {}))
    assert world.post(body).status_code == 200
    (request,) = world.wait(lambda: service.requests(ADMIN), what="the request")
    # Slack's retries: the same body, signed anew, numbered, with the reason.
    for attempt, reason in ((1, "http_timeout"), (2, "http_error"), (3, "http_timeout")):
        again = world.post(
            body, headers={"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": reason}
        )
        assert again.status_code == 200
    # Even a replay within the five minutes, without the header, is the same delivery.
    assert world.post(body).status_code == 200
    assert [r.id for r in service.requests(ADMIN)] == [request.id]
    assert world.face is not None and world.face.counts["repeated"] == 4
    world.wait(lambda: service.request(request.id, ADMIN).status == "succeeded", what="the request")
    assert len(service.requests(ADMIN)) == 1


def test_a_repeated_command_opens_one_modal(slack_world: SlackWorld) -> None:
    world = slack_world
    body = world.command_body("UALICE", "postgres-database")
    assert world.post(body).status_code == 200
    world.opened_view()
    assert world.post(body, headers={"X-Slack-Retry-Num": "1"}).status_code == 200
    assert world.face is not None and world.face.counts["repeated"] == 1
    world.command("UALICE", "postgres-database")  # a new command does open one
    world.opened_view(after=1)
    assert len(world.fake.of("views.open")) == 2
