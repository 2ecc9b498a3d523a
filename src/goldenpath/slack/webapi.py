"""The port to Slack's Web API: slack_sdk's `WebClient` with retries, errors translated once.

Rate limits (HTTP 429) are waited out as ``Retry-After`` says, when it is short; server errors
and dropped connections are tried again after a back-off. Whatever still fails raises
`BackendUnavailable`, and the caller (a queued job) tries again later: Slack being down never
blocks nor fails a request.
"""

from __future__ import annotations

import random
import time
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import RetryHandler, RetryState
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse

from goldenpath.errors import BackendUnavailable

# A longer Retry-After is not slept through in a worker's thread: the job is tried again later.
LONGEST_WAIT_SECONDS = 10.0


class RateLimitRetry(RetryHandler):
    """Waits out a 429 for as long as its ``Retry-After`` header says (at most ~10 s)."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return (
            response is not None
            and response.status_code == 429
            and retry_after(response) <= LONGEST_WAIT_SECONDS
        )

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        wait = retry_after(response) if response is not None else 1.0
        time.sleep(wait + random.random() / 10)  # noqa: S311 - jitter, not a secret
        state.increment_current_attempt()


def retry_after(response: HttpResponse) -> float:
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values:
            try:
                return max(0.0, float(values[0]))
            except ValueError:
                return 1.0
    return 1.0


def web_client(token: str | None, base_url: str, *, timeout: int = 10) -> WebClient:
    base = base_url if base_url.endswith("/") else base_url + "/"
    return WebClient(
        token=token,
        base_url=base,
        timeout=timeout,
        retry_handlers=[
            RateLimitRetry(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
            ConnectionErrorRetryHandler(max_retry_count=2),
        ],
    )


def call(client: WebClient, method: str, **arguments: Any) -> dict[str, Any]:
    """Call a Web API method; its data, or `BackendUnavailable` naming Slack's error."""
    try:
        response = client.api_call(method, json=arguments)
    except SlackApiError as exc:
        problem = exc.response.get("error") if exc.response is not None else None
        status = getattr(exc.response, "status_code", "?")
        raise BackendUnavailable(
            backend="slack", problem=f"{method} answered HTTP {status}: {problem or 'error'}"
        ) from None
    except (SlackClientError, OSError) as exc:
        raise BackendUnavailable(backend="slack", problem=f"{method}: {exc}") from None
    data = response.data
    return dict(data) if isinstance(data, dict) else {}
