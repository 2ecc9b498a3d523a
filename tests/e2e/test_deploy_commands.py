"""The exact commands the deployment artifacts run (compose `command:`, Kubernetes `args:`,
systemd `ExecStart=`), read from the files, run against a fresh database of the machine's
PostgreSQL: the migration finishes, the API serves /healthz and /readyz, the worker runs, and
SIGTERM stops both cleanly. Only the host, the port and the settings file's path are changed
(to a free loopback port and a copy of the artifact's own settings file)."""

from __future__ import annotations

import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import yaml
from psycopg import sql

from tests.e2e.conftest import (
    ADMIN_URL,
    NAME_PREFIX,
    _free_port,
    clean_environment,
    goldenpath_command,
)
from tests.unit.deploy.artifacts import ROOT, Role, commands, image_command, kubernetes_documents

START_TIMEOUT = 90.0
STOP_TIMEOUT = 60.0
SECRET_KEY = "q83vEsIUWZ3R8kD2Cq1s9dMLr6bG3cWxQ0mJ0Hq7yIM="


def _settings_file(artifact: str) -> str:
    """The settings the artifact ships (what it mounts at /etc/goldenpath/goldenpath.yaml)."""
    if artifact == "kubernetes":
        configmap = next(d for d in kubernetes_documents() if d["kind"] == "ConfigMap")
        return str(configmap["data"]["goldenpath.yaml"])
    if artifact == "compose":
        return (ROOT / "deploy/compose/goldenpath.yaml").read_text()
    return "worker_concurrency: 2\n"  # systemd: the operator writes it; any valid file


def _localised(argv: list[str], *, config: Path, port: int) -> list[str]:
    replaced = list(argv)
    for option, value in (("--config", str(config)), ("--host", "127.0.0.1"), ("--port", port)):
        if option in replaced:
            replaced[replaced.index(option) + 1] = str(value)
    return replaced


def _api_is_available() -> bool:
    listed = subprocess.run(
        [*goldenpath_command(), "--help"], capture_output=True, text=True, check=False
    )
    return " api " in listed.stdout


@pytest.fixture
def fresh_database(e2e_admin: psycopg.Connection[Any]) -> Iterator[str]:
    name = f"{NAME_PREFIX}deploy_{secrets.token_hex(3)}"
    e2e_admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    e2e_admin.execute(
        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    )


def _wait_for(
    url: str, process: subprocess.Popen[bytes], log: Path, status: int = 200
) -> httpx.Response:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        assert process.poll() is None, f"exited {process.returncode}:\n{log.read_text()}"
        try:
            response = httpx.get(url, timeout=3)
            if response.status_code == status:
                return response
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    pytest.fail(f"{url} not {status} after {START_TIMEOUT} s:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes], log: Path) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail(f"ignored SIGTERM for {STOP_TIMEOUT} s:\n{log.read_text()}")


@pytest.mark.slow
@pytest.mark.parametrize("artifact", ["compose", "kubernetes", "systemd"])
def test_the_artifacts_commands_migrate_serve_and_work(
    artifact: str, fresh_database: str, tmp_path: Path
) -> None:
    if not _api_is_available():
        pytest.skip("`goldenpath api` is not on this branch yet (issue 11, topology)")
    config = tmp_path / "etc" / "goldenpath.yaml"
    config.parent.mkdir()
    config.write_text(_settings_file(artifact))
    assert isinstance(yaml.safe_load(config.read_text()), dict)
    port = _free_port()
    env = clean_environment(
        GOLDENPATH_DATABASE_URL=fresh_database,
        GOLDENPATH_DATA_DIR=str(tmp_path / "data"),
        GOLDENPATH_SECRET_KEY=SECRET_KEY,
    )
    argv = {role: _localised(a, config=config, port=port) for role, a in commands(artifact).items()}

    migrated = subprocess.run(
        [*goldenpath_command(), *argv[Role.MIGRATE]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    assert "upgraded from empty to" in migrated.stdout

    api_log, worker_log = tmp_path / "api.log", tmp_path / "worker.log"
    with api_log.open("w") as api_sink, worker_log.open("w") as worker_sink:
        api = subprocess.Popen(
            [*goldenpath_command(), *argv[Role.API]],
            cwd=tmp_path,
            env=env | {"GOLDENPATH_PORT": str(port)},
            stdout=api_sink,
            stderr=subprocess.STDOUT,
        )
        worker = subprocess.Popen(
            [*goldenpath_command(), *argv[Role.WORKER]],
            cwd=tmp_path,
            env=env,
            stdout=worker_sink,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", api, api_log)
        ready = _wait_for(f"http://127.0.0.1:{port}/readyz", api, api_log)
        assert ready.status_code == 200
        deadline = time.monotonic() + START_TIMEOUT
        while "Golden Path worker" not in worker_log.read_text():
            assert worker.poll() is None, worker_log.read_text()
            assert time.monotonic() < deadline, worker_log.read_text()
            time.sleep(0.3)
    finally:
        api_code = _stop(api, api_log)
        worker_code = _stop(worker, worker_log)
    assert api_code == 0, api_log.read_text()
    assert worker_code == 0, worker_log.read_text()


def test_the_images_default_command_is_the_api() -> None:
    assert image_command() == ["api"]


def test_a_missing_config_file_named_on_the_command_line_stops_the_migration(
    tmp_path: Path,
) -> None:
    result = subprocess.run(
        [*goldenpath_command(), "db", "upgrade", "--config", str(tmp_path / "typo.yaml")],
        cwd=tmp_path,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert f"--config {tmp_path / 'typo.yaml'}: no such file" in result.stderr


def test_the_config_option_is_read_by_the_server_commands(
    fresh_database: str, tmp_path: Path
) -> None:
    config = tmp_path / "elsewhere.yaml"
    config.write_text(f"database_url: {fresh_database}\n")
    (tmp_path / "goldenpath.yaml").write_text("database_url: postgresql://nobody@127.0.0.1:1/x\n")
    result = subprocess.run(
        [*goldenpath_command(), "db", "upgrade", "--config", str(config)],
        cwd=tmp_path,
        env=clean_environment(GOLDENPATH_CONFIG=str(tmp_path / "goldenpath.yaml")),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert fresh_database.rsplit("/", 1)[1] in result.stdout
