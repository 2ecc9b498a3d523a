"""`backends check`: each configured backend is asked a trivial question, with a timeout, against
the machine's real servers; a port where nothing listens is reported, never a credential."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from goldenpath.backend_check import check_backend, check_backends
from goldenpath.settings import BackendSettings
from tests.e2e.conftest import ADMIN_URL


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_machines_servers_answer(tmp_path: Path, moto_endpoint: str) -> None:
    checks = check_backends(
        {
            "postgres": BackendSettings(kind="postgres", dsn=ADMIN_URL),
            "mysql": BackendSettings(kind="mysql", dsn="mysql://root@127.0.0.1:3306/"),
            "redis": BackendSettings(kind="redis", dsn="redis://127.0.0.1:6379/0"),
            "aws": BackendSettings(
                kind="aws",
                region="eu-west-1",
                endpoint_url=moto_endpoint,
                access_key_id="testing",
                secret_access_key="testing",
            ),
            "git": BackendSettings(kind="git", provider="local"),
            "ci": BackendSettings(kind="ci", provider="local"),
            "terraform": BackendSettings(kind="terraform"),
            "odd": BackendSettings(kind="ldap"),
        },
        data_dir=tmp_path,
    )
    found = {c.name: c for c in checks}
    assert [c.name for c in checks] == sorted(found)
    for name in ("postgres", "mysql", "redis", "aws", "git", "ci", "terraform"):
        assert found[name].reachable is True, found[name]
    assert found["postgres"].detail.startswith("PostgreSQL ")
    assert "MariaDB" in found["mysql"].detail
    assert "account 123456789012" in found["aws"].detail  # moto's account
    assert found["terraform"].detail.startswith(("Terraform v", "OpenTofu v"))
    assert found["odd"].reachable is None and "no check for kind 'ldap'" in found["odd"].detail


@pytest.mark.parametrize(
    ("kind", "dsn"),
    [
        ("postgres", "postgresql://admin:hunter2-secret@127.0.0.1:{port}/postgres"),
        ("mysql", "mysql://root:hunter2-secret@127.0.0.1:{port}/"),
        ("redis", "redis://:hunter2-secret@127.0.0.1:{port}/0"),
    ],
)
def test_a_port_where_nothing_listens_is_unreachable_and_no_password_is_shown(
    kind: str, dsn: str, tmp_path: Path
) -> None:
    backend = BackendSettings(kind=kind, dsn=dsn.format(port=_closed_port()))
    check = check_backend(kind, backend, data_dir=tmp_path, timeout=2)
    assert check.reachable is False
    assert check.detail
    assert "hunter2" not in check.detail


def test_an_aws_endpoint_that_does_not_answer_is_unreachable(tmp_path: Path) -> None:
    backend = BackendSettings(
        kind="aws",
        region="eu-west-1",
        endpoint_url=f"http://127.0.0.1:{_closed_port()}",
        access_key_id="testing",
        secret_access_key="testing",
    )
    check = check_backend("aws", backend, data_dir=tmp_path, timeout=2)
    assert check.reachable is False
    assert "Could not connect" in check.detail or "Connect" in check.detail
