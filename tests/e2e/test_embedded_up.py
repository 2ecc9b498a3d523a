"""The README's first command on a machine with no PostgreSQL configured for the platform:
`goldenpath up` starts an embedded PostgreSQL, a developer gets a working database, and Ctrl-C
stops everything."""

from __future__ import annotations

import re
import signal
import subprocess
from pathlib import Path

import psycopg
import pytest

from tests.e2e.conftest import (
    Cli,
    Server,
    _free_port,
    _wait_until_healthy,
    clean_environment,
    start_up,
)
from tests.e2e.test_worker_processes import alive, worker_processes_of


def postgres_running_in(data_dir: Path) -> bool:
    listing = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True)
    return any(str(data_dir / "postgres") in line for line in listing.stdout.splitlines())


def test_embedded_platform_from_request_to_destroy(tmp_path: Path, embedded_dir: Path) -> None:
    port, pg_port = _free_port(), _free_port()
    data_dir = embedded_dir / "data"
    server = Server(
        url=f"http://127.0.0.1:{port}", database_url="", data_dir=data_dir, log=tmp_path / "up.log"
    )
    env = clean_environment(
        GOLDENPATH_DATA_DIR=str(data_dir), GOLDENPATH_EMBEDDED_PORT=str(pg_port)
    )
    process = start_up(server, tmp_path, env, "--port", str(port))
    try:
        _wait_until_healthy(server, process)
        banner = server.log.read_text()
        assert "embedded PostgreSQL" in banner
        # The first start creates the platform admin and shows its token once.
        [token] = re.findall(r"(gp_[a-z0-9]{12}_[A-Za-z0-9_-]{43})", banner)
        cli = Cli(url=server.url, cwd=tmp_path, token=token)
        assert cli("whoami", "--json").json()["user"] == "admin"

        # The worker runs in a process of its own, on the embedded server this one started.
        [worker] = worker_processes_of(process.pid)
        result = cli("request", "postgres-database", "-p", "name=orders", "--wait")
        assert result.code == 0, result.stdout + result.stderr
        [dsn] = re.findall(r"dsn: (postgresql://\S+)", result.stdout)
        assert f":{pg_port}/orders" in dsn
        with psycopg.connect(dsn) as conn:
            conn.execute("CREATE TABLE t (id int)")
            conn.execute("INSERT INTO t VALUES (1)")
        password = dsn.split(":")[2].split("@")[0]
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(dsn.replace(password, "wrong-password"))

        [resource] = cli("resources", "list", "--json").json()
        destroyed = cli("resources", "destroy", resource["id"], "--yes", "--wait")
        assert destroyed.code == 0, destroyed.stdout + destroyed.stderr
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(dsn)
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=60)
    assert code == 0, server.log.read_text()
    assert not postgres_running_in(data_dir)
    assert not alive(worker)
