"""The HTTP adapter for hosting APIs (GitHub, Gitea): the one place httpx errors are translated.

A refused token (401, 403) or an unreachable or failing service (connection errors, timeouts, 5xx)
is `BackendUnavailable`; any other refusal (404, 409, 422, ...) is an `ActionError` carrying the
service's own message. Statuses a caller expects (404 when looking something up) are returned
instead, so "not found" is an answer, not an error. The token is only ever sent in a header.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx

from goldenpath.errors import ActionError, BackendUnavailable

TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any

    @property
    def found(self) -> bool:
        return self.status != 404


class RestClient:
    """A JSON client for one hosting API, authenticated with ``<scheme> <token>``."""

    def __init__(
        self, *, provider: str, backend: str, base_url: str, token: str, auth_scheme: str
    ) -> None:
        self._provider = provider
        self._backend = backend
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={
                "Authorization": f"{auth_scheme} {token}",
                "Accept": "application/json",
                "User-Agent": "goldenpath",
            },
            timeout=TIMEOUT_SECONDS,
        )

    def __enter__(self) -> RestClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._client.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        expect: tuple[int, ...] = (),
    ) -> Reply:
        """Send one request; statuses in ``expect`` are returned, other failures raised."""
        try:
            response = self._client.request(method, path, json=json, params=params)
        except httpx.HTTPError as exc:
            raise BackendUnavailable(
                backend=self._backend, problem=f"{method} {path}: {type(exc).__name__}: {exc}"
            ) from exc
        body = _json(response)
        status = response.status_code
        if status in expect or status < 400:
            return Reply(status=status, body=body)
        message = _message(body) or response.reason_phrase
        if status in (401, 403):
            raise BackendUnavailable(
                backend=self._backend,
                problem=f"token refused by {self._provider} ({status} on {method} {path}): "
                f"{message}",
            )
        if status >= 500:
            raise BackendUnavailable(
                backend=self._backend, problem=f"{method} {path} failed ({status}): {message}"
            )
        raise ActionError(problem=f"{self._provider} refused {method} {path} ({status}): {message}")


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _message(body: Any) -> str:
    """GitHub's ``message`` plus its ``errors`` details; Gitea's ``message``."""
    if not isinstance(body, dict):
        return ""
    parts = [str(body.get("message") or "")]
    for error in body.get("errors") or []:
        if isinstance(error, dict):
            parts.append(str(error.get("message") or error.get("code") or ""))
        elif isinstance(error, str):
            parts.append(error)
    return "; ".join(p for p in parts if p)
