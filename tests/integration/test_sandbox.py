"""The sandbox's stand-ins: moto's server as `aws` (started and stopped with it), local CI
secrets, Redis and MariaDB only where a server answers; and a clear refusal without the extra."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Callable

import boto3
import pytest

from goldenpath.app import Platform
from goldenpath.sandbox import INSTALL_HINT, start_sandbox
from goldenpath.settings import BackendSettings, Settings


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_stand_ins_replace_the_configured_backends_and_stop_with_the_sandbox(
    make_settings: Callable[..., Settings], make_platform: Callable[..., Platform]
) -> None:
    real_aws = BackendSettings(kind="aws", region="eu-west-1")
    other = BackendSettings(kind="postgres", dsn="postgresql://x@db.internal/postgres")
    settings = make_settings(sandbox=True, backends={"aws": real_aws, "analytics": other})
    sandbox = start_sandbox(settings)
    try:
        applied = sandbox.apply(settings)
        aws = applied.backends["aws"]
        endpoint = str(aws.option("endpoint_url"))
        assert endpoint.startswith("http://127.0.0.1:")
        assert applied.backends["analytics"] == other  # other names are kept as configured
        assert applied.backends["ci"].option("provider") == "local"
        # The machine's Redis and MariaDB answer, so they stand in too.
        assert applied.backends["redis"].dsn == "redis://127.0.0.1:6379/0"
        assert applied.backends["mysql"].dsn == "mysql://root@127.0.0.1:3306/"
        assert any("ignored (replaced by stand-ins): backends aws" in n for n in sandbox.notes)

        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="eu-west-1",
            aws_access_key_id="sandbox",
            aws_secret_access_key="sandbox",
        )
        s3.create_bucket(
            Bucket="sandbox-probe",
            CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
        )
        # moto keeps its accounts per process: in this test process the stand-in also sees
        # buckets other tests' moto servers made, so only the probe's presence is checked.
        assert "sandbox-probe" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
        s3.delete_bucket(Bucket="sandbox-probe")

        platform = make_platform(sandbox=True, backends=applied.backends)
        needs = {t.name: platform.service.needs_setup(t) for t in platform.catalog}
        assert all(missing == () for missing in needs.values()), needs
    finally:
        sandbox.stop()
    port = int(endpoint.rsplit(":", 1)[1])
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), 2):
        pass


def test_without_a_redis_or_mariadb_server_those_paths_stay_needing_setup(
    make_settings: Callable[..., Settings], make_platform: Callable[..., Platform]
) -> None:
    settings = make_settings(sandbox=True)
    nowhere = _closed_port()
    sandbox = start_sandbox(
        settings,
        redis_dsn=f"redis://127.0.0.1:{nowhere}/0",
        mysql_dsn=f"mysql://root@127.0.0.1:{nowhere}/",
    )
    try:
        applied = sandbox.apply(settings)
        assert "redis" not in applied.backends and "mysql" not in applied.backends
        assert any(n.startswith("redis:") and "needs setup" in n for n in sandbox.notes)
        platform = make_platform(sandbox=True, backends=applied.backends)
        needs = {
            t.name: [m.describe() for m in platform.service.needs_setup(t)]
            for t in platform.catalog
        }
        assert needs["redis"] == ["backend 'redis' of kind 'redis'"]
        assert needs["mysql-database"] == ["backend 'mysql' of kind 'mysql'"]
        assert needs["ec2-instance"] == [] and needs["ci-secret"] == []
    finally:
        sandbox.stop()


def test_without_the_extra_the_sandbox_refuses_at_once_naming_the_install_command(
    tmp_path: object,
) -> None:
    # moto made unimportable, as on an install without the [sandbox] extra.
    script = (
        "import sys; sys.modules['moto'] = None; sys.modules['moto.server'] = None\n"
        "from goldenpath.cli.main import run\n"
        f"sys.exit(run(['up', '--sandbox', '--port', '{_closed_port()}']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "GOLDENPATH_DATA_DIR": str(tmp_path)},
    )
    assert done.returncode == 2, done.stdout + done.stderr
    said = " ".join((done.stdout + done.stderr).split())
    assert INSTALL_HINT in said
    assert "Golden Path SANDBOX on" not in said  # nothing was started


@pytest.mark.parametrize("command", [["api"], ["worker"]])
def test_the_sandbox_setting_is_refused_by_the_production_commands(
    command: list[str], tmp_path: object
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "goldenpath.cli.main", *command],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={
            "PATH": "/usr/bin:/bin",
            "GOLDENPATH_SANDBOX": "true",
            "GOLDENPATH_DATA_DIR": str(tmp_path),
        },
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "the sandbox runs with `goldenpath up --sandbox` only" in " ".join(done.stderr.split())
