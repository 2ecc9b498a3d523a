"""The commands that run the platform itself: `goldenpath db upgrade` and `goldenpath worker`."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.e2e.conftest import Server, clean_environment, goldenpath_command


def _platform_env(server: Server) -> dict[str, str]:
    return clean_environment(
        GOLDENPATH_DATABASE_URL=server.database_url, GOLDENPATH_DATA_DIR=str(server.data_dir)
    )


def test_db_upgrade_reports_the_database_up_to_date(server: Server, tmp_path: Path) -> None:
    result = subprocess.run(
        [*goldenpath_command(), "db", "upgrade"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_platform_env(server),
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "is up to date (revision" in result.stdout
    assert server.database_url.rsplit("/", 1)[1] in result.stdout


def test_bad_configuration_exits_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [*goldenpath_command(), "db", "upgrade"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean_environment(GOLDENPATH_WORKER_CONCURRENCY="lots"),
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert "worker_concurrency" in result.stderr


def test_worker_starts_and_stops_cleanly_on_ctrl_c(server: Server, tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    with log.open("w") as sink:
        worker = subprocess.Popen(
            [*goldenpath_command(), "worker", "--concurrency", "1"],
            cwd=tmp_path,
            env=_platform_env(server),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while "Golden Path worker (1 at once)" not in log.read_text():
            assert worker.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        time.sleep(1.0)  # let it reach its run loop
    finally:
        worker.send_signal(signal.SIGINT)
        code = worker.wait(timeout=30)

    assert code == 0, log.read_text()
    assert "Worker stopped." in log.read_text()


def test_up_and_worker_refuse_to_start_on_a_dead_policy(server: Server, tmp_path: Path) -> None:
    """A typo in a package name would switch a guardrail off: the platform does not start."""
    policies = tmp_path / "org-policies"
    policies.mkdir()
    (policies / "sizes.rego").write_text(
        'package goldenpth.sizes\n\nimport rego.v1\n\ndeny contains "too big" if input.big\n'
    )
    env = {**_platform_env(server), "GOLDENPATH_POLICY_DIR": str(policies)}
    for command in (["up", "--port", "0"], ["worker"]):
        result = subprocess.run(
            [*goldenpath_command(), *command],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=120,
            check=False,
        )
        assert result.returncode == 12, result.stdout + result.stderr
        assert "guardrails are misconfigured" in result.stderr
        assert "sizes.rego: declares package goldenpth.sizes" in result.stderr


def _listening() -> socket.socket:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    return taken


def test_up_on_a_busy_port_exits_at_once_naming_the_port(server: Server, tmp_path: Path) -> None:
    """A second `goldenpath up` on the same port: no hang, no blank pool errors."""
    with _listening() as taken:
        port = taken.getsockname()[1]
        started = time.monotonic()
        result = subprocess.run(
            [*goldenpath_command(), "up", "--port", str(port)],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=_platform_env(server),
            timeout=60,
            check=False,
        )
        took = time.monotonic() - started
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"127.0.0.1:{port} is already in use" in result.stderr
    assert "another `goldenpath up`" in result.stderr
    assert "error connecting" not in result.stderr + result.stdout
    print(f"refused in {took:.1f} s")


def test_a_busy_embedded_postgres_port_is_named(tmp_path: Path) -> None:
    with _listening() as taken:
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*goldenpath_command(), "up", "--port", "0"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=clean_environment(
                GOLDENPATH_DATA_DIR=str(tmp_path / "data"), GOLDENPATH_EMBEDDED_PORT=str(port)
            ),
            timeout=120,
            check=False,
        )
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"the embedded PostgreSQL's port 127.0.0.1:{port} is already in use" in result.stderr
    assert "GOLDENPATH_EMBEDDED_PORT" in result.stderr
