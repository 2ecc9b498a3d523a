"""Whether each configured backend answers: a connection and one trivial call, within a timeout.

`goldenpath backends check` shows it (admins); the sandbox uses the same checks to decide
whether a Redis or MariaDB server is there to stand in. A check never changes anything, and
what it reports names the server, never a credential.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from goldenpath.errors import GoldenPathError
from goldenpath.settings import BackendSettings

TIMEOUT_SECONDS = 5.0
_HTTP_APIS = {
    # kind, provider → (default API URL, the header the token goes in, its scheme)
    ("git", "github"): ("https://api.github.com", "Authorization", "Bearer"),
    ("git", "gitea"): ("", "Authorization", "token"),
    ("ci", "github"): ("https://api.github.com", "Authorization", "Bearer"),
    ("ci", "gitlab"): ("https://gitlab.com/api/v4", "PRIVATE-TOKEN", ""),
}


@dataclass(frozen=True)
class BackendCheck:
    name: str
    kind: str
    # None: no check exists for this kind (it is not counted as unreachable).
    reachable: bool | None
    detail: str


def check_backends(
    backends: Mapping[str, BackendSettings],
    *,
    data_dir: Path | None,
    timeout: float = TIMEOUT_SECONDS,
) -> list[BackendCheck]:
    """Every backend checked, at once (one thread each), sorted by name."""
    names = sorted(backends)
    if not names:
        return []
    with ThreadPoolExecutor(max_workers=min(8, len(names))) as pool:
        return list(
            pool.map(
                lambda n: check_backend(n, backends[n], data_dir=data_dir, timeout=timeout), names
            )
        )


def check_backend(
    name: str,
    backend: BackendSettings,
    *,
    data_dir: Path | None,
    timeout: float = TIMEOUT_SECONDS,
) -> BackendCheck:
    check = _CHECKS.get(backend.kind)
    if check is None:
        return BackendCheck(name, backend.kind, None, f"no check for kind '{backend.kind}'")
    try:
        detail = check(backend, data_dir, timeout)
    except Exception as exc:  # every failure is the answer, whatever raised it
        return BackendCheck(name, backend.kind, False, _scrubbed(_problem(exc), backend))
    return BackendCheck(name, backend.kind, True, detail)


def _postgres(backend: BackendSettings, data_dir: Path | None, timeout: float) -> str:
    import psycopg

    with psycopg.connect(
        _required(backend.dsn, "dsn"), connect_timeout=max(1, round(timeout))
    ) as conn:
        conn.execute(f"SET statement_timeout = {int(timeout * 1000)}")
        version = conn.execute("SHOW server_version").fetchone()
    return f"PostgreSQL {version[0] if version else '?'}"


def _mysql(backend: BackendSettings, data_dir: Path | None, timeout: float) -> str:
    from goldenpath.actions.mysql.server import connect, parse_dsn

    conn = connect(backend, "check", timeout=timeout, read_timeout=timeout)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT VERSION()")
            row = cursor.fetchone()
    finally:
        conn.close()
    address = parse_dsn(str(backend.dsn))
    return f"MySQL/MariaDB {row[0] if row else '?'} at {address.host}:{address.port}"


def _redis(backend: BackendSettings, data_dir: Path | None, timeout: float) -> str:
    import redis

    from goldenpath.actions.redis.server import parse_dsn

    address = parse_dsn(_required(backend.dsn, "dsn"))
    client: Any = redis.Redis.from_url(
        _required(backend.dsn, "dsn"), socket_connect_timeout=timeout, socket_timeout=timeout
    )
    try:
        client.ping()
    finally:
        client.close()
    return f"Redis at {address.host}:{address.port} answers PING"


def _aws(backend: BackendSettings, data_dir: Path | None, timeout: float) -> str:
    import boto3
    from botocore.config import Config

    access_key = backend.option("access_key_id")
    client: Any = boto3.session.Session(
        aws_access_key_id=access_key,
        aws_secret_access_key=backend.option("secret_access_key") if access_key else None,
        aws_session_token=backend.option("session_token") if access_key else None,
        region_name=str(backend.option("region") or "us-east-1"),
    ).client(
        "sts",
        endpoint_url=backend.option("endpoint_url"),
        config=Config(connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 1}),
    )
    account = client.get_caller_identity().get("Account", "?")
    where = backend.option("endpoint_url") or "AWS"
    return f"{where}: account {account}"


def _git(backend: BackendSettings, data_dir: Path | None, timeout: float) -> str:
    provider = str(backend.option("provider", "local"))
    if provider != "local":
        return _http_api(backend, "git", provider, timeout)
    if shutil.which("git") is None:
        raise RuntimeError("the git command is not installed")
    subprocess.run(["git", "--version"], check=True, capture_output=True, timeout=timeout)
    root = Path(str(backend.option("root") or Path(data_dir or ".goldenpath") / "git")).resolve()
    return f"local repositories under {root}"


def _ci(backend: BackendSettings, data_dir: Path | None, timeout: float) -> str:
    provider = str(backend.option("provider"))
    if provider == "local":
        return "secrets of the platform's local repositories, sealed in its database"
    return _http_api(backend, "ci", provider, timeout)


def _terraform(backend: BackendSettings, data_dir: Path | None, timeout: float) -> str:
    from goldenpath.actions.terraform.backend import resolve_backend

    binary = resolve_backend({"terraform": backend}, "terraform").binary
    done = subprocess.run(
        [str(binary), "version"], check=True, capture_output=True, text=True, timeout=timeout
    )
    return done.stdout.splitlines()[0] if done.stdout else str(binary)


def _http_api(backend: BackendSettings, kind: str, provider: str, timeout: float) -> str:
    import httpx

    known = _HTTP_APIS.get((kind, provider))
    if known is None:
        raise RuntimeError(f"unknown provider '{provider}'")
    default_url, header, scheme = known
    url = str(backend.option("api_url") or default_url).rstrip("/")
    token = _required(backend.option("token"), "token")
    if not url:
        raise RuntimeError("no 'api_url' configured")
    response = httpx.get(
        url + ("/user" if provider == "github" else "/version"),
        headers={header: f"{scheme} {token}".strip()},
        timeout=timeout,
        follow_redirects=False,
    )
    if response.status_code in (401, 403):
        raise RuntimeError(f"{url} refused the token (HTTP {response.status_code})")
    if response.status_code >= 400:
        raise RuntimeError(f"{url} answered HTTP {response.status_code}")
    return f"{provider} API at {url}"


def _required(value: Any, option: str) -> str:
    if not value:
        raise RuntimeError(f"no '{option}' configured")
    return str(value)


def _scrubbed(text: str, backend: BackendSettings) -> str:
    """``text`` without the backend's credentials, should a library's message quote them."""
    for secret in (backend.dsn, backend.option("token"), backend.option("secret_access_key")):
        if secret:
            text = text.replace(str(secret), "********")
    return text


def _problem(exc: BaseException) -> str:
    if isinstance(exc, GoldenPathError) and "problem" in exc.details:
        return str(exc.details["problem"])[:300]
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__


_CHECKS: dict[str, Callable[[BackendSettings, Path | None, float], str]] = {
    "postgres": _postgres,
    "mysql": _mysql,
    "redis": _redis,
    "aws": _aws,
    "git": _git,
    "ci": _ci,
    "terraform": _terraform,
}
