"""Shared fixtures: a fresh platform database on the machine's real PostgreSQL, platforms built
on it, and a worker running in a background thread."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from moto.server import ThreadedMotoServer
from psycopg import sql

from goldenpath.app import Platform, build_platform
from goldenpath.execution.worker_thread import WorkerThread
from goldenpath.identity.actor import Actor, system_actor
from goldenpath.settings import BackendSettings, Settings
from goldenpath.store.records import RequestRecord
from tests.integration.actions.aws.moto_support import (
    ACCESS_KEY_ID,
    REGION,
    SECRET_ACCESS_KEY,
)

# pytest-xdist's workers set COLUMNS=80 (and LINES); the CLI run by a test must see a pipe as
# a user's script does (wide tables), not a narrow terminal.
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)

ADMIN_URL = os.environ.get("GOLDENPATH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
FIXTURES = Path(__file__).parent / "fixtures"
# Every role and database a test creates on the shared server starts with this. It is new for
# each test run, so the sweep at the end of one run never drops what another run (a second
# checkout, CI beside a developer) is still using.
TEST_PREFIX = f"gpt{secrets.token_hex(2)}_"


def _drop_test_objects(conn: psycopg.Connection[Any]) -> None:
    for (name,) in conn.execute(
        "SELECT datname FROM pg_database WHERE starts_with(datname, %s)", (TEST_PREFIX,)
    ).fetchall():
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
    for (name,) in conn.execute(
        "SELECT rolname FROM pg_roles WHERE starts_with(rolname, %s)", (TEST_PREFIX,)
    ).fetchall():
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


def drop_mysql_and_redis_objects(prefix: str) -> None:
    """Databases and users whose names start with ``prefix`` on the machine's MariaDB, and
    ACL users and keys on its Redis: whatever a failed run left there."""
    import pymysql
    import redis

    conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", autocommit=True)
    with conn.cursor() as cursor:
        cursor.execute("SHOW DATABASES")
        for (name,) in cursor.fetchall():
            if name.startswith(prefix):
                cursor.execute(f"DROP DATABASE `{name}`")
        cursor.execute("SELECT User, Host FROM mysql.user")
        for user, host in cursor.fetchall():
            if user.startswith(prefix):
                cursor.execute("DROP USER %s@%s", (user, host))
    conn.close()
    client = redis.Redis(host="127.0.0.1", port=6379, decode_responses=True)
    for user in client.acl_users():
        if user.startswith(prefix):
            client.acl_deluser(user)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
    client.close()


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        yield conn
        _drop_test_objects(conn)


@pytest.fixture
def database_url(pg_admin: psycopg.Connection[Any]) -> Iterator[str]:
    name = f"gp_test_{secrets.token_hex(4)}"
    pg_admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    pg_admin.execute(
        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    )


@pytest.fixture
def embedded_dir() -> Iterator[Path]:
    """A folder for an embedded PostgreSQL, outside pytest's temporary tree: pytest closes its
    own root to other users at every session start, and the server runs as its own user."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="gp-embedded-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def unique_name() -> Callable[[str], str]:
    def make(stem: str = "db") -> str:
        return f"{TEST_PREFIX}{stem}_{secrets.token_hex(2)}"

    return make


@pytest.fixture
def make_settings(database_url: str, tmp_path: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "data_dir": tmp_path / "data",
            "template_dirs": [FIXTURES / "templates"],
            "worker_heartbeat_seconds": 0.5,
            "stalled_after_seconds": 3.0,
            "housekeeping_seconds": 1.0,
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def make_platform(make_settings: Callable[..., Settings]) -> Iterator[Callable[..., Platform]]:
    built: list[Platform] = []

    def make(**overrides: Any) -> Platform:
        platform = build_platform(make_settings(**overrides))
        built.append(platform)
        return platform

    yield make
    for platform in built:
        platform.close()


@pytest.fixture
def platform(make_platform: Callable[..., Platform]) -> Platform:
    return make_platform()


# The tests' name for the platform's worker thread.
BackgroundWorker = WorkerThread


@pytest.fixture
def worker(platform: Platform) -> Iterator[BackgroundWorker]:
    running = BackgroundWorker(platform).start()
    yield running
    running.stop()


@pytest.fixture
def start_worker_process(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> Iterator[Callable[[Path], subprocess.Popen[bytes]]]:
    """Start `goldenpath worker` as a separate process (one an operator could SIGKILL), on
    this test's platform database, loading the golden paths in the folder given."""
    settings = make_settings()
    started: list[subprocess.Popen[bytes]] = []

    def start(template_dir: Path) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "GOLDENPATH_DATABASE_URL": str(settings.database_url),
            "GOLDENPATH_DATA_DIR": str(settings.data_dir),
            "GOLDENPATH_TEMPLATE_DIRS": str(template_dir),
            "GOLDENPATH_WORKER_HEARTBEAT_SECONDS": "0.5",
            "GOLDENPATH_STALLED_AFTER_SECONDS": "3",
            "GOLDENPATH_HOUSEKEEPING_SECONDS": "1",
        }
        with (tmp_path / f"worker-{len(started)}.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "goldenpath.cli.main", "worker"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def run_goldenpath(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """The CLI as a platform engineer runs it locally (`templates verify`, `policies ...`)."""
    return subprocess.run(
        [sys.executable, "-m", "goldenpath.cli.main", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


ADMIN = system_actor("test-admin")


def member(user: str, team: str = "payments", role: str = "developer") -> Actor:
    """A user of one team with one role, as the directory would authenticate them."""
    return Actor(user=user, memberships=frozenset({(team, role)}))


def eventually(check: Callable[[], Any], timeout: float, what: str, every: float = 0.1) -> Any:
    """Poll ``check`` until it returns something truthy, and return that; fail the test when it
    has not within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(every)
    pytest.fail(f"not within {timeout} s: {what}")


def wait_for_request(
    platform: Platform,
    request_id: str,
    *,
    until: Callable[[RequestRecord], bool] | None = None,
    timeout: float = 60.0,
) -> RequestRecord:
    """Poll until the request is finished (or ``until`` holds); fail the test on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        record = platform.service.request(request_id, ADMIN)
        if until(record) if until else record.finished:
            return record
        if time.monotonic() > deadline:
            pytest.fail(f"request {request_id} still {record.status} after {timeout} s")
        time.sleep(0.1)


def wait_for_resource_state(
    platform: Platform, resource_id: str, states: set[str], timeout: float = 60.0
) -> str:
    deadline = time.monotonic() + timeout
    while True:
        state = platform.service.resource(resource_id, ADMIN).state
        if state in states:
            return state
        if time.monotonic() > deadline:
            pytest.fail(f"resource {resource_id} still {state} after {timeout} s")
        time.sleep(0.1)


# --- AWS, on moto's standalone server -------------------------------------------------------


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    # The request log of moto's werkzeug server is noise in a failing test's output.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
def aws_backend(moto_endpoint: str) -> BackendSettings:
    return BackendSettings(
        kind="aws",
        region=REGION,
        endpoint_url=moto_endpoint,
        access_key_id=ACCESS_KEY_ID,
        secret_access_key=SECRET_ACCESS_KEY,
        allowed_regions=[REGION, "us-east-1"],
    )


# --- no secret in any log line ----------------------------------------------------------------

_REVEALED: set[str] = set()
_LOG_LINES: list[str] = []
SERVER_LOGS: list[Path] = []  # log files of servers started by tests (e2e)
_DUMPS: list[str] = []  # pg_dump output of platform databases, taken by `dump_database`


def remember_secrets(values: dict[str, Any]) -> dict[str, Any]:
    """Note secret values a test saw in clear; at the end no log line may contain them."""
    _REVEALED.update(str(v) for v in values.values() if len(str(v)) >= 8)
    return values


def dump_database(database_url: str) -> str:
    """The database as a backup holds it: the real ``pg_dump`` (plain SQL, data included).

    Kept for the end-of-run scan too, so no secret a test revealed may be in any dump."""
    dumped = subprocess.run(
        ["pg_dump", "--no-owner", "--dbname", database_url],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    _DUMPS.append(dumped)
    return dumped


class _EveryLine(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            _LOG_LINES.append(record.getMessage())
        except Exception:  # a broken log call must not break the test that made it
            _LOG_LINES.append(str(record.msg))


@pytest.fixture(scope="session", autouse=True)
def _capture_every_log_line() -> Iterator[None]:
    handler = _EveryLine(level=logging.DEBUG)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield
    root.removeHandler(handler)
    root.setLevel(previous)


# The suite runs on pytest-xdist's workers: each scans its own lines and dumps and leaves its
# finding here, and the run (the controller, after every worker) fails on any leak.
_SCANS = "GP_TEST_LEAK_SCANS"


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the controller (or a run without workers)
        os.environ[_SCANS] = tempfile.mkdtemp(prefix="gp-leak-scans-")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if a secret a test revealed appears in any log line, server log or dump of
    a platform database."""
    texts = list(_LOG_LINES) + [p.read_text(errors="replace") for p in SERVER_LOGS if p.exists()]
    texts += _DUMPS
    leaks = sorted({s[:4] + "…" for s in _REVEALED for text in texts if s in text})
    scans = Path(os.environ[_SCANS])
    worker = getattr(session.config, "workerinput", {}).get("workerid", "controller")
    finding = {"leaks": leaks, "revealed": len(_REVEALED), "sources": len(texts)}
    (scans / f"{worker}.json").write_text(json.dumps({**finding, "dumps": len(_DUMPS)}))
    if hasattr(session.config, "workerinput"):
        return
    found = [json.loads(path.read_text()) for path in sorted(scans.glob("*.json"))]
    shutil.rmtree(scans, ignore_errors=True)
    leaks = sorted({leak for scan in found for leak in scan["leaks"]})
    revealed, sources, dumps = (sum(s[k] for s in found) for k in ("revealed", "sources", "dumps"))
    if leaks:
        session.exitstatus = 1
        print(
            f"\nSECRET LEAK: {len(leaks)} revealed secret(s) found in log output or database "
            f"dumps: {leaks}"
        )
    elif revealed:
        print(
            f"\nlog scan: {revealed} revealed secrets, none in {sources} log sources "
            f"({dumps} database dumps)"
        )


@contextlib.contextmanager
def served(app: Any) -> Iterator[str]:
    """An ASGI app served by uvicorn in a thread on a free port; yields its base URL."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
