"""End-to-end fixtures: a real `goldenpath up` server process on a fresh database of the machine's
PostgreSQL, and a runner of the real `goldenpath` console script against it.

Every role and database the tests create on the shared server starts with ``gpe2e_`` and is
dropped at the end, whatever the tests did.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql

from tests.conftest import SERVER_LOGS, remember_secrets

ADMIN_URL = os.environ.get("GOLDENPATH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
# New for each test run: the sweep at the end never drops another run's objects.
NAME_PREFIX = f"gpe{secrets.token_hex(2)}_"
START_TIMEOUT = 90.0
STOP_TIMEOUT = 30.0
COMMAND_TIMEOUT = 120.0


def goldenpath_command() -> list[str]:
    """The installed console script beside this interpreter, else on PATH, else ``-m``."""
    beside = Path(sys.executable).parent / "goldenpath"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("goldenpath")
    return [found] if found else [sys.executable, "-m", "goldenpath.cli.main"]


def clean_environment(**extra: str) -> dict[str, str]:
    """This process's environment without any GOLDENPATH_ setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOLDENPATH_")}
    env.update(extra)
    return env


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        assert self.code == 0, f"exit {self.code}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}"
        return json.loads(self.stdout)


# The first admin's token, set through the environment so tests know it.
ADMIN_TOKEN = "gp_e2eadmin0000_" + "A" * 43


@dataclass(frozen=True)
class Cli:
    """Runs ``goldenpath ARGS`` as a subprocess against the test server, signed in with
    ``token`` (by default a developer of team ``e2e``)."""

    url: str
    cwd: Path
    token: str = ADMIN_TOKEN

    def as_user(self, token: str) -> Cli:
        return Cli(url=self.url, cwd=self.cwd, token=token)

    def __call__(self, *args: str, stdin: str | None = None, **env: str) -> Result:
        completed = subprocess.run(
            [*goldenpath_command(), *args],
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            cwd=self.cwd,
            env=clean_environment(
                **{"GOLDENPATH_URL": self.url, "GOLDENPATH_TOKEN": self.token} | env
            ),
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        return Result(completed.returncode, completed.stdout, completed.stderr)


@dataclass(frozen=True)
class Server:
    url: str
    database_url: str
    data_dir: Path
    log: Path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def e2e_admin() -> Iterator[psycopg.Connection[Any]]:
    """A superuser connection to the shared server; drops every ``gpe2e_`` object at the end."""
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        yield conn
        for (name,) in conn.execute(
            "SELECT datname FROM pg_database WHERE starts_with(datname, %s)", (NAME_PREFIX,)
        ).fetchall():
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        for (name,) in conn.execute(
            "SELECT rolname FROM pg_roles WHERE starts_with(rolname, %s)", (NAME_PREFIX,)
        ).fetchall():
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def platform_database(e2e_admin: psycopg.Connection[Any]) -> Iterator[str]:
    """A fresh, empty platform database, dropped WITH (FORCE) at the end."""
    name = f"gp_e2e_{secrets.token_hex(4)}"
    e2e_admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    e2e_admin.execute(drop)


@pytest.fixture(scope="session")
def server(platform_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`goldenpath up` as a subprocess; stopped with SIGINT (Ctrl-C), which must be clean."""
    root = tmp_path_factory.mktemp("server")
    port = _free_port()
    running = Server(
        url=f"http://127.0.0.1:{port}",
        database_url=platform_database,
        data_dir=root / "data",
        log=root / "server.log",
    )
    env = clean_environment(
        GOLDENPATH_DATABASE_URL=platform_database,
        GOLDENPATH_DATA_DIR=str(running.data_dir),
        GOLDENPATH_BOOTSTRAP_TOKEN=ADMIN_TOKEN,
        # Every test signs in from 127.0.0.1: the rate limits have their own tests.
        GOLDENPATH_LOGIN_RATE_LIMIT="100000/minute",
        GOLDENPATH_ADDRESS_RATE_LIMIT="100000/minute",
    )
    process = start_up(running, root, env, "--port", str(port))
    SERVER_LOGS.append(running.log)
    try:
        _wait_until_healthy(running, process)
        yield running
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail(f"`goldenpath up` ignored Ctrl-C:\n{running.log.read_text()}")
        if code != 0:
            pytest.fail(f"`goldenpath up` exited {code} on Ctrl-C:\n{running.log.read_text()}")


def start_up(server: Server, cwd: Path, env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    """`goldenpath up ARGS` as a subprocess in ``cwd``, its output in the server's log file."""
    with server.log.open("w") as log:
        return subprocess.Popen(
            [*goldenpath_command(), "up", *args],
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def _wait_until_healthy(server: Server, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"`goldenpath up` exited {process.returncode}:\n{server.log.read_text()}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    process.wait()
    pytest.fail(f"`goldenpath up` not healthy after {START_TIMEOUT} s:\n{server.log.read_text()}")


def git(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """git as a developer runs it: no credential prompt, a fixed author."""
    return subprocess.run(
        ["git", "-c", "user.name=Dev", "-c", "user.email=dev@example.com", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={"GIT_TERMINAL_PROMPT": "0", "PATH": "/usr/bin:/bin:/usr/local/bin"},
    )


def make_user(server: Server, name: str, team: str, role: str = "developer") -> str:
    """A user in a team (created through the API as the admin); returns their new token."""
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with httpx.Client(base_url=server.url, headers=admin, timeout=30) as api:
        api.post("/api/v1/teams", json={"name": team})
        if api.post("/api/v1/users", json={"name": name}).status_code not in (201, 409):
            raise AssertionError(f"could not create user {name}")
        added = api.post(f"/api/v1/teams/{team}/members", json={"user": name, "role": role})
        assert added.status_code == 201, added.text
        made = api.post("/api/v1/tokens", json={"name": "e2e", "user": name})
        assert made.status_code == 201, made.text
        return str(made.json()["token"])


@pytest.fixture(scope="session")
def sandbox_server(
    e2e_admin: psycopg.Connection[Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """`goldenpath up --sandbox` on a fresh database: one for the session (the CLI and the
    browser tests of the sandbox share it)."""
    from tests.e2e.browser.conftest import second_server

    with second_server(
        tmp_path_factory.mktemp("sandbox"),
        e2e_admin,
        up_options=("--sandbox",),
        login_rate_limit="100000/minute",
        address_rate_limit="100000/minute",
    ) as running:
        SERVER_LOGS.append(running.log)  # no secret may appear in it either
        yield running


@pytest.fixture(scope="session")
def templates_server(
    e2e_admin: psycopg.Connection[Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A second `goldenpath up`, on a fresh database, that loads the test golden paths too
    (tests/fixtures/templates: a slow database, two databases, a restricted path)."""
    from tests.e2e.browser.conftest import second_server

    templates = Path(__file__).resolve().parents[1] / "fixtures" / "templates"
    root = tmp_path_factory.mktemp("templates-server")
    with second_server(root, e2e_admin, template_dirs=str(templates)) as running:
        yield running


@pytest.fixture(scope="session")
def developer_token(server: Server) -> str:
    return make_user(server, "dev", "e2e")


@pytest.fixture(scope="session")
def cli(server: Server, developer_token: str, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    return Cli(url=server.url, cwd=tmp_path_factory.mktemp("cli"), token=developer_token)


@pytest.fixture
def new_name() -> Callable[[], str]:
    """Database/role names unique to this run (the PostgreSQL server is shared)."""

    def make() -> str:
        return f"{NAME_PREFIX}{secrets.token_hex(5)}"

    return make


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failed test's report carries the tail of the server's log."""
    report = yield
    funcargs = getattr(item, "funcargs", {})
    server = funcargs.get("server") or funcargs.get("sandbox_server")
    if report.failed and isinstance(server, Server) and server.log.exists():
        tail = "\n".join(server.log.read_text(errors="replace").splitlines()[-200:])
        report.sections.append(("goldenpath up log (last 200 lines)", tail))
    return report


DSN_LINE = re.compile(r"^dsn: (postgresql://\S+)$", re.MULTILINE)
REQUEST_LINE = re.compile(r"^Request ([0-9a-f-]{36})", re.MULTILINE)


@dataclass(frozen=True)
class Provisioned:
    name: str
    result: Result
    dsn: str

    @property
    def request_id(self) -> str:
        found = REQUEST_LINE.search(self.result.stdout)
        assert found, self.result.stdout
        return found.group(1)

    @property
    def password(self) -> str:
        return self.dsn.split(":")[2].split("@")[0]


@pytest.fixture(scope="module")
def provisioned(cli: Cli) -> Provisioned:
    """One database requested with --wait, shared by a module's tests."""
    name = f"{NAME_PREFIX}{secrets.token_hex(5)}"
    result = cli("request", "postgres-database", "-p", f"name={name}", "--wait")
    assert result.code == 0, f"{result.stdout}\n{result.stderr}"
    found = DSN_LINE.search(result.stdout)
    assert found, f"no DSN printed:\n{result.stdout}"
    made = Provisioned(name=name, result=result, dsn=found.group(1))
    remember_secrets({"dsn": made.dsn, "password": made.password})
    return made


def exists_in_postgres(admin: psycopg.Connection[Any], name: str) -> dict[str, bool]:
    """Whether a role and a database with this exact name exist on the shared server."""
    role = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
    database = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return {"role": role is not None, "database": database is not None}
