"""What a developer is handed cannot touch the platform: the role a `postgres-database` request
returns cannot connect to the platform's own database (so it cannot read the platform's catalog
or take its advisory locks), and a foreign session holding the locks the platform uses neither
stalls submissions beyond a bound nor loses a request."""

from __future__ import annotations

import time
from collections.abc import Callable

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from goldenpath.app import Platform
from goldenpath.errors import AuditLogBusy
from goldenpath.store import queries
from tests.conftest import (
    BackgroundWorker,
    member,
    remember_secrets,
    wait_for_request,
)

ALICE = member("alice", "payments")


def test_a_developers_role_cannot_connect_to_the_platforms_database(
    platform: Platform,
    worker: BackgroundWorker,
    database_url: str,
    unique_name: Callable[[str], str],
) -> None:
    submitted = platform.service.submit("postgres-database", {"name": unique_name("iso")}, ALICE)
    done = wait_for_request(platform, submitted.id)
    assert done.status == "succeeded", done.error
    dsn = remember_secrets(platform.service.reveal_secrets(done.id, ALICE))["dsn"]
    with psycopg.connect(dsn) as own:
        own.execute("SELECT 1")  # its own database: yes

    platform_db = conninfo_to_dict(database_url)["dbname"]
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(make_conninfo(dsn, dbname=platform_db)).close()


def test_a_stranger_holding_a_requests_lock_delays_it_but_never_loses_it(
    platform: Platform, database_url: str, unique_name: Callable[[str], str]
) -> None:
    submitted = platform.service.submit("postgres-database", {"name": unique_name("lk")}, ALICE)
    key = f"goldenpath:request:{submitted.id}"
    with psycopg.connect(database_url, autocommit=True) as stranger:
        stranger.execute("SELECT pg_advisory_lock(hashtext(%s))", (key,))
        with BackgroundWorker(platform):
            time.sleep(3)  # the worker meets the held lock at least once
            with platform.database.begin() as conn:
                request = queries.get_request(conn, submitted.id)
                jobs = conn.exec_driver_sql(
                    "SELECT status FROM procrastinate_jobs WHERE args->>'request_id' = %(id)s",
                    {"id": submitted.id},
                ).all()
            assert request.status == "queued"
            assert [j[0] for j in jobs] in (["todo"], ["doing"]), jobs  # kept, to be retried
            stranger.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))
            done = wait_for_request(platform, submitted.id, timeout=90)
    assert done.status == "succeeded", done.error


def test_a_stranger_holding_the_audit_lock_gets_submissions_refused_not_stalled(
    platform: Platform, database_url: str, unique_name: Callable[[str], str]
) -> None:
    with psycopg.connect(database_url, autocommit=True) as stranger:
        stranger.execute("SELECT pg_advisory_lock(%s)", (74110002,))
        with pytest.raises(AuditLogBusy, match="try again"):
            platform.service.submit("postgres-database", {"name": unique_name("al")}, ALICE)
        assert platform.service.requests(ALICE) == []  # nothing half-recorded
        stranger.execute("SELECT pg_advisory_unlock(%s)", (74110002,))
    made = platform.service.submit("postgres-database", {"name": unique_name("al")}, ALICE)
    assert made.status == "queued"
