"""What the sandbox's end-to-end tests (CLI and browser) look at: the stand-ins' own state."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import boto3
import psycopg
import pymysql
import redis

from goldenpath.secretbox import load_secret_box
from tests.e2e.conftest import NAME_PREFIX, Server


def sweep_leftovers() -> None:
    """Drop what a failed run left on the shared MariaDB and Redis under this run's prefix."""
    conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", autocommit=True)
    with conn.cursor() as cursor:
        cursor.execute("SHOW DATABASES")
        for (name,) in cursor.fetchall():
            if name.startswith(NAME_PREFIX):
                cursor.execute(f"DROP DATABASE `{name}`")
        cursor.execute("SELECT User, Host FROM mysql.user")
        for user, host in cursor.fetchall():
            if user.startswith(NAME_PREFIX):
                cursor.execute("DROP USER %s@%s", (user, host))
    conn.close()
    client = redis.Redis(host="127.0.0.1", port=6379, decode_responses=True)
    for user in client.acl_users():
        if user.startswith(NAME_PREFIX):
            client.acl_deluser(user)
    client.close()


def moto_endpoint_of(server: Server) -> str:
    found = re.search(r"aws: +moto at (http://127\.0\.0\.1:\d+)", server.log.read_text())
    assert found, server.log.read_text()
    return found.group(1)


def aws_client(server: Server, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=moto_endpoint_of(server),
        region_name="eu-west-1",
        aws_access_key_id="sandbox",
        aws_secret_access_key="sandbox",
    )


def buckets(s3: Any) -> list[str]:
    return [b["Name"] for b in s3.list_buckets()["Buckets"]]


def sealed_keys(server: Server) -> set[str]:
    """The keys of the platform's sealed action state (CI secrets, Terraform state)."""
    with psycopg.connect(server.database_url) as conn:
        return {k for (k,) in conn.execute("SELECT workspace FROM gp_terraform_states")}


def terraform_state(server: Server, workspace: str) -> Any:
    box = load_secret_box(None, server.data_dir)
    with psycopg.connect(server.database_url) as conn:
        row = conn.execute(
            "SELECT state FROM gp_terraform_states WHERE workspace = %s", (workspace,)
        ).fetchone()
    assert row is not None
    return json.loads(base64.b64decode(box.open(bytes(row[0]))))


def mysql_has(name: str) -> tuple[bool, bool]:
    conn = pymysql.connect(host="127.0.0.1", port=3306, user="root")
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", (name,)
            )
            database = cursor.fetchone() is not None
            cursor.execute("SELECT 1 FROM mysql.user WHERE User = %s", (name,))
            user = cursor.fetchone() is not None
    finally:
        conn.close()
    return database, user


def redis_user(name: str) -> Any:
    client = redis.Redis(host="127.0.0.1", port=6379, decode_responses=True)
    try:
        return client.acl_getuser(name)
    finally:
        client.close()
