"""The container image, built from the Dockerfile and run: the migration, the API and a worker
against a fresh database of the machine's PostgreSQL; and compose.yaml brought up where a
Docker engine runs.

Which engine: Docker when `docker info` reaches a daemon; else podman (Debian's package) with
runc. Without a registry for container images here, podman builds FROM a Debian bookworm base
made by debootstrap (Debian's package) and imported as ``localhost/goldenpath-base:bookworm``;
the Dockerfile's own default base, python:3.12-slim, is used where it can be pulled.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql

from tests.e2e.conftest import ADMIN_URL, NAME_PREFIX, _free_port
from tests.unit.deploy.artifacts import ROOT

LOCAL_BASE = "localhost/goldenpath-base:bookworm"
IMAGE = "localhost/goldenpath:e2e"
SECRET_KEY = "q83vEsIUWZ3R8kD2Cq1s9dMLr6bG3cWxQ0mJ0Hq7yIM="
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")


@dataclass(frozen=True)
class Engine:
    argv: list[str]
    env: dict[str, str]
    build_args: list[str]

    def run(self, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.argv, *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout,
            check=False,
        )


def _docker_daemon() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    probe = subprocess.run([docker, "info"], capture_output=True, text=True, check=False)
    return probe.returncode == 0


def _podman(tmp: Path) -> Engine | None:
    podman, runc = shutil.which("podman"), shutil.which("runc")
    if podman is None or runc is None:
        return None
    # Rootful podman raises RLIMIT_NPROC/NOFILE by default, which a sandbox without
    # CAP_SYS_RESOURCE refuses; crun refuses this machine's hybrid cgroups, runc does not.
    conf = tmp / "containers.conf"
    conf.write_text("[containers]\ndefault_ulimits = []\n")
    import os

    engine = Engine([podman, "--runtime", runc], os.environ | {"CONTAINERS_CONF": str(conf)}, [])
    if engine.run("image", "exists", LOCAL_BASE).returncode != 0 and not _make_base(engine, tmp):
        return None
    return Engine(engine.argv, engine.env, ["--build-arg", f"BASE_IMAGE={LOCAL_BASE}"])


def _make_base(engine: Engine, tmp: Path) -> bool:
    debootstrap = shutil.which("debootstrap")
    if debootstrap is None:
        return False
    rootfs = tmp / "rootfs"
    made = subprocess.run(
        [
            debootstrap,
            "--variant=minbase",
            "--include=python3,python3-venv,ca-certificates",
            "bookworm",
            str(rootfs),
            "http://deb.debian.org/debian",
        ],
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    if made.returncode != 0:
        return False
    # This machine reaches PyPI through a TLS proxy whose CA only the host trusts.
    shutil.copyfile(HOST_CA, rootfs / "etc/ssl/certs/ca-certificates.crt")
    archive = tmp / "rootfs.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(rootfs, arcname=".")
    imported = engine.run(
        "import",
        "--change",
        f"ENV PIP_CERT={HOST_CA}",
        "--change",
        'CMD ["python3"]',
        str(archive),
        LOCAL_BASE,
    )
    return imported.returncode == 0


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    if _docker_daemon():
        return Engine(["docker"], {}, [])
    found = _podman(tmp_path_factory.mktemp("podman"))
    if found is None:
        pytest.skip(
            "no container engine: `docker info` reaches no daemon, and podman+runc "
            "(apt-get install podman runc debootstrap) are not installed or cannot run here"
        )
    return found


@pytest.fixture(scope="module")
def image(engine: Engine) -> str:
    built = engine.run(
        "build", "--network=host", *engine.build_args, "-t", IMAGE, str(ROOT), timeout=2400
    )
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
    return IMAGE


@pytest.fixture
def fresh_database(e2e_admin: psycopg.Connection[Any]) -> Iterator[str]:
    name = f"{NAME_PREFIX}image_{secrets.token_hex(3)}"
    e2e_admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    e2e_admin.execute(
        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    )


@pytest.mark.slow
def test_the_image_migrates_serves_and_works_as_a_non_root_user(
    engine: Engine, image: str, fresh_database: str
) -> None:
    env = [
        "-e",
        f"GOLDENPATH_DATABASE_URL={fresh_database}",
        "-e",
        f"GOLDENPATH_SECRET_KEY={SECRET_KEY}",
    ]
    user = engine.run("run", "--rm", "--entrypoint", "id", image, "-u")
    assert user.stdout.strip() == "10001", user.stdout + user.stderr

    migrated = engine.run("run", "--rm", "--network=host", *env, image, "db", "upgrade")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    assert "upgraded from empty to" in migrated.stdout

    has_api = " api " in engine.run("run", "--rm", image, "--help").stdout
    port = _free_port()
    # Until `goldenpath api` lands, the image's default command cannot run; `up` serves instead.
    serve = ["--host", "127.0.0.1", "--port", str(port)]
    command = ["api", *serve] if has_api else ["up", *serve]
    names = [f"gp-e2e-api-{port}", f"gp-e2e-worker-{port}"]
    started = [
        engine.run("run", "-d", "--name", names[0], "--network=host", *env, image, *command),
        engine.run("run", "-d", "--name", names[1], "--network=host", *env, image, "worker"),
    ]
    try:
        for result in started:
            assert result.returncode == 0, result.stderr
        probe = "/readyz" if has_api else "/healthz"
        deadline = time.monotonic() + 120
        status = None
        while time.monotonic() < deadline and status != 200:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}{probe}", timeout=3).status_code
            except httpx.TransportError:
                time.sleep(0.5)
        assert status == 200, engine.run("logs", names[0]).stdout
        worker_log = engine.run("logs", names[1])
        assert "Golden Path worker" in worker_log.stdout + worker_log.stderr
    finally:
        for name in names:
            engine.run("stop", "-t", "30", name, timeout=120)
        stopped = [engine.run("inspect", "-f", "{{.State.ExitCode}}", n).stdout for n in names]
        for name in names:
            engine.run("rm", "-f", name, timeout=120)
    assert [code.strip() for code in stopped] == ["0", "0"]


@pytest.mark.slow
def test_compose_starts_the_platform_and_serves_a_request(tmp_path: Path) -> None:
    if not _docker_daemon():
        pytest.skip(
            "compose needs a Docker engine and the postgres and caddy images from a container "
            "registry; `docker info` reaches no daemon here and no image registry is reachable "
            "(the image itself is built and run by the test above)"
        )
    env_file = tmp_path / ".env"
    token = "gp_composee2e00_" + "C" * 43
    env_file.write_text(
        f"PLATFORM_DB_PASSWORD={secrets.token_hex(8)}\nAPPS_DB_PASSWORD={secrets.token_hex(8)}\n"
        f"GOLDENPATH_SECRET_KEY={SECRET_KEY}\nGOLDENPATH_BOOTSTRAP_TOKEN={token}\n"
        f"GOLDENPATH_PUBLISH=127.0.0.1:{_free_port()}\n"
    )
    publish = env_file.read_text().rsplit("=", 1)[1].strip()
    project = ["docker", "compose", "--env-file", str(env_file), "-p", f"gp{secrets.token_hex(3)}"]
    up = subprocess.run(
        [*project, "up", "-d", "--build", "--wait"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=2400,
        check=False,
    )
    try:
        assert up.returncode == 0, up.stderr
        base = f"http://{publish}"
        assert httpx.get(f"{base}/readyz", timeout=10).status_code == 200
        headers = {"Authorization": f"Bearer {token}"}
        listed = httpx.get(f"{base}/api/v1/templates", headers=headers, timeout=10)
        assert listed.status_code == 200, listed.text
    finally:
        subprocess.run([*project, "down", "-v"], cwd=ROOT, timeout=600, check=False)
