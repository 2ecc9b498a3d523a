"""A small client of the Golden Path REST API.

It is the CLI's adapter: httpx errors and the API's problem documents (RFC 9457, with the
extension members ``code`` and ``fields: [{"field", "rule"}]``) become a `CliError` carrying the
HTTP status and the error code, here and nowhere else.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from goldenpath.errors import GoldenPathError

DEFAULT_URL = "http://127.0.0.1:8000"
PAGE_SIZE = 500  # the API's largest page


class CliError(GoldenPathError):
    """{message}"""

    def __init__(
        self,
        message: str,
        *,
        code: str = "error",
        status: int | None = None,
        fields: list[dict[str, str]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, code=code, status=status, fields=fields or [])
        self.status = status
        self.fields: list[dict[str, str]] = fields or []
        # More facts some errors carry: a guardrail denial's violations and request id.
        self.extra: dict[str, Any] = extra or {}

    @property
    def code(self) -> str:
        return str(self.details["code"])

    @classmethod
    def bad_input(cls, field: str, rule: str) -> CliError:
        """Bad input caught before anything is sent, in the API's shape."""
        return cls(
            f"{field}: {rule}", code="invalid_input", fields=[{"field": field, "rule": rule}]
        )


class ApiUnreachable(CliError):
    """Golden Path API not reachable at {url}"""

    def __init__(self, url: str, problem: str) -> None:
        super().__init__(
            f"Golden Path API not reachable at {url} — is `goldenpath up` running?",
            code="api_unreachable",
        )
        self.url = url
        self.problem = problem


@dataclass(frozen=True)
class Profile:
    """A platform the CLI signed in to: its API's URL and the token for it, kept together so
    the token is only ever sent to that URL."""

    url: str
    token: str


DEFAULT_PROFILE = "default"


def profiles_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "goldenpath" / "profiles.json"


def saved_profiles() -> tuple[str | None, dict[str, Profile]]:
    """The profile `goldenpath login` used last, and every saved profile."""
    path = profiles_file()
    if not path.is_file():
        return None, {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        found = {
            str(k): Profile(str(v["url"]), str(v["token"])) for k, v in data["profiles"].items()
        }
        return (str(data["current"]) if data.get("current") else None), found
    except (ValueError, KeyError, TypeError, AttributeError):
        raise CliError(
            f"{path} is not a profiles file: sign in again with `goldenpath login`"
        ) from None


def save_profile(name: str, profile: Profile) -> Path:
    """Save (or replace) a profile and make it the current one; the file is private (0600)."""
    _, profiles = saved_profiles()
    profiles[name] = profile
    path = profiles_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    document = {"current": name, "profiles": {k: asdict(v) for k, v in sorted(profiles.items())}}
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path


def active_profile() -> Profile | None:
    """``$GOLDENPATH_PROFILE``, else the profile of the last `goldenpath login`."""
    current, profiles = saved_profiles()
    name = os.environ.get("GOLDENPATH_PROFILE") or current
    if name is None:
        return None
    if name not in profiles:
        raise CliError(
            f"No saved profile '{name}': run `goldenpath login --url URL --profile {name}`",
            code="invalid_input",
            fields=[{"field": "GOLDENPATH_PROFILE", "rule": "must name a saved profile"}],
        )
    return profiles[name]


def api_url(url: str | None) -> str:
    """``--url`` / ``$GOLDENPATH_URL``, else the active profile's URL, else the local default."""
    if url:
        return url.rstrip("/")
    profile = active_profile()
    return profile.url.rstrip("/") if profile else DEFAULT_URL


def current_token(url: str | None = None) -> str | None:
    """``$GOLDENPATH_TOKEN``, else the active profile's token when ``url`` is that profile's:
    a saved token never goes to another platform."""
    token = os.environ.get("GOLDENPATH_TOKEN")
    if token:
        return token.strip()
    profile = active_profile()
    if profile is not None and profile.url.rstrip("/") == api_url(url):
        return profile.token
    return None


class ApiClient:
    """The REST API, one method per call the CLI makes. Bodies are returned as parsed JSON."""

    def __init__(
        self,
        url: str | None = None,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.url = api_url(url)
        self.page_size = page_size
        credential = token or current_token(self.url)
        headers = {"Authorization": f"Bearer {credential}"} if credential else {}
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- templates ------------------------------------------------------------------------

    def templates(self) -> list[dict[str, Any]]:
        return self.every("/api/v1/templates")

    def template_problems(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/api/v1/template-problems"))

    def backends(self) -> list[dict[str, Any]]:
        return self.every("/api/v1/backends")

    def check_backends(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/api/v1/backends/check"))

    def template(self, name: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/api/v1/templates/{_segment(name)}"))

    # --- requests -------------------------------------------------------------------------

    def submit(
        self,
        template: str,
        parameters: dict[str, Any],
        *,
        team: str | None = None,
        dry_run: bool = False,
        justification: str | None = None,
        ttl: str | None = None,
        version: str | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"template": template, "parameters": parameters}
        if version:
            body["version"] = version
        if team:
            body["team"] = team
        if dry_run:
            body["dry_run"] = True
        if justification is not None:
            body["justification"] = justification
        if ttl is not None:
            body["ttl"] = ttl
        return dict(self._call("POST", "/api/v1/requests", json=body))

    def decide(self, request_id: str, *, approve: bool, comment: str | None) -> dict[str, Any]:
        verb = "approve" if approve else "reject"
        path = f"/api/v1/requests/{_segment(request_id)}/{verb}"
        return dict(self._call("POST", path, json={"comment": comment}))

    def requests(
        self,
        *,
        status: str | None = None,
        template: str | None = None,
        team: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        query = {"status": status, "template": template, "team": team}
        return self.every("/api/v1/requests", _present(query), limit=limit)

    def request(self, request_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/api/v1/requests/{_segment(request_id)}"))

    def logs(self, request_id: str, after: int = 0) -> list[dict[str, Any]]:
        path = f"/api/v1/requests/{_segment(request_id)}/logs"
        return list(self._call("GET", path, params={"after": after}))

    def reveal_secrets(self, request_id: str) -> dict[str, Any]:
        path = f"/api/v1/requests/{_segment(request_id)}/secrets/reveal"
        return dict(self._call("POST", path)["secrets"])

    # --- resources ------------------------------------------------------------------------

    def resources(
        self, *, team: str | None = None, include_destroyed: bool = False, limit: int | None = None
    ) -> list[dict[str, Any]]:
        query = {"team": team, "include_destroyed": "true" if include_destroyed else None}
        return self.every("/api/v1/resources", _present(query), limit=limit)

    def resource(self, resource_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/api/v1/resources/{_segment(resource_id)}"))

    def destroy(self, resource_id: str) -> dict[str, Any]:
        return dict(self._call("DELETE", f"/api/v1/resources/{_segment(resource_id)}"))

    def cancel(self, request_id: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/api/v1/requests/{_segment(request_id)}/cancel"))

    def retry(self, request_id: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/api/v1/requests/{_segment(request_id)}/retry"))

    # --- identity and audit ---------------------------------------------------------------

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """Any API call by path; path segments from the user must go through `segment`."""
        return self._call(method, path, **kwargs)

    def every(
        self, path: str, params: dict[str, Any] | None = None, *, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """The items of a list endpoint, page after page (following ``next``), or its first
        ``limit`` items."""
        items: list[dict[str, Any]] = []
        query = dict(params or {})
        while limit is None or len(items) < limit:
            wanted = self.page_size if limit is None else min(self.page_size, limit - len(items))
            page = self._call("GET", path, params={**query, "limit": wanted})
            items += page["items"]
            if not page.get("next"):
                break
            query["cursor"] = page["next"]
        return items

    # --- transport ------------------------------------------------------------------------

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise ApiUnreachable(self.url, str(exc)) from exc
        except httpx.HTTPError as exc:
            raise CliError(f"talking to {self.url} failed: {exc}", code="transport_error") from exc
        if response.status_code == 204:
            return None
        if response.is_success:
            if response.headers.get("content-type", "").startswith("application/x-ndjson"):
                return response.text
            return response.json()
        raise _error_of(response)


PROBLEM_MEMBERS = frozenset({"type", "title", "status", "detail", "instance", "code", "fields"})


def _error_of(response: httpx.Response) -> CliError:
    try:
        error = response.json()
        return CliError(
            str(error.get("detail") or error.get("title") or response.reason_phrase),
            code=str(error.get("code") or "error"),
            status=response.status_code,
            fields=[
                {"field": str(f.get("field", "")), "rule": str(f.get("rule", ""))}
                for f in error.get("fields") or []
            ],
            # The extension members beyond the common ones: a denial's violations, say.
            extra={k: v for k, v in error.items() if k not in PROBLEM_MEMBERS},
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        text = response.text.strip()[:500] or response.reason_phrase
        return CliError(f"HTTP {response.status_code}: {text}", status=response.status_code)


def segment(value: str) -> str:
    """A path segment: the user's text can never change which endpoint is called."""
    return quote(value, safe="")


def _segment(value: str) -> str:
    """A path segment: the user's text can never change which endpoint is called."""
    return quote(value, safe="")


def _present(query: dict[str, str | None]) -> dict[str, str]:
    return {key: value for key, value in query.items() if value is not None}
