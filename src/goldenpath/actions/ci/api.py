"""One CI provider's REST API over httpx, with every transport and HTTP error translated once.

The adapters above it only ever see a parsed JSON body, ``None`` for "not there", or one of our
own errors:

- 401 / 403 → `BackendUnavailable` ("token refused"): the platform's credential is at fault;
- 404 on the repository → `ActionError` ("repository not found");
- any other 4xx → `ActionError` carrying the API's own message;
- 5xx, timeouts, refused connections → `BackendUnavailable`.

The secret value travels in request bodies. Errors are raised ``from None`` because an httpx
exception keeps its request, body included; and any text taken from a response is scrubbed of
the values the caller registered as hidden, in case an API echoes what it was sent.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from goldenpath.errors import ActionError, BackendUnavailable, ConfigurationError
from goldenpath.settings import BackendSettings

MASK = "********"
TIMEOUT_SECONDS = 20.0
MAX_MESSAGE = 300


def base_url(settings: BackendSettings, backend: str, default: str) -> str:
    """The backend's ``api_url`` option (or the provider's public API), checked to be HTTP(S)."""
    url = str(settings.option("api_url", default)).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(problem=f"backend '{backend}': api_url must be an http(s) URL")
    return url


def token(settings: BackendSettings, backend: str) -> str:
    value = settings.option("token")
    if not value:
        raise BackendUnavailable(backend=backend, problem="no 'token' configured")
    return str(value)


class CiApi:
    """Calls on one repository of one provider; use as a context manager."""

    def __init__(
        self,
        *,
        backend: str,
        provider: str,
        repository: str,
        url: str,
        headers: Mapping[str, str],
        hidden: Collection[str] = (),
        repository_missing: Callable[[Any], bool] = lambda body: False,
    ) -> None:
        self.backend = backend
        self.provider = provider
        self.repository = repository
        self._hidden = [h for h in hidden if h]
        # Decides from a 404's body whether the repository, not the item asked for, is missing.
        # GitHub's bodies cannot tell the two apart (so an absent item is assumed), GitLab's can.
        self._repository_missing = repository_missing
        self._client = httpx.Client(
            base_url=url, headers=dict(headers), timeout=TIMEOUT_SECONDS, follow_redirects=False
        )

    def __enter__(self) -> CiApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        absent_ok: bool = False,
    ) -> Any:
        """The response's JSON body ({} when it has none); None for a 404 when ``absent_ok``."""
        try:
            response = self._client.request(method, path, json=json, params=params)
        except httpx.HTTPError as exc:
            raise BackendUnavailable(
                backend=self.backend,
                problem=f"{self.provider} API did not answer {method} {path}: {type(exc).__name__}",
            ) from None
        if response.is_success:
            return _json(response) if response.content else {}
        body = _json(response)
        status = response.status_code
        if status in (401, 403):
            raise BackendUnavailable(
                backend=self.backend,
                problem=f"token refused by the {self.provider} API (HTTP {status}): "
                f"{self._message(body)}",
            )
        if status == 404:
            if absent_ok and not self._repository_missing(body):
                return None
            raise ActionError(
                problem=f"repository '{self.repository}' not found on {self.provider} "
                "(or not visible to the platform's token)"
            )
        if status >= 500 or status == 429:
            raise BackendUnavailable(
                backend=self.backend,
                problem=f"{self.provider} API answered HTTP {status}: {self._message(body)}",
            )
        raise ActionError(
            problem=f"{self.provider} API refused {method} {path} (HTTP {status}): "
            f"{self._message(body)}"
        )

    def _message(self, body: Any) -> str:
        """The API's own explanation, scrubbed of hidden values and kept short."""
        if isinstance(body, Mapping):
            found = body.get("message") or body.get("error") or body
        else:
            found = body
        text = found if isinstance(found, str) else repr(found)
        for secret in self._hidden:
            text = text.replace(secret, MASK)
        return text[:MAX_MESSAGE] if text else "no message"


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text
