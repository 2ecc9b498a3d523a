"""What the benches that build their own platform share: a fresh database on the local
PostgreSQL server and a temporary folder, both gone afterwards, and a free local port."""

from __future__ import annotations

import secrets
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path

import psycopg
from psycopg import sql

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def run_on_scratch(run: Callable[[Path, str], None], admin_url: str = ADMIN_URL) -> None:
    """``run(folder, database_url)`` on a fresh ``gp_bench_<hex>`` database, dropped after."""
    name = f"gp_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        with tempfile.TemporaryDirectory() as scratch:
            run(Path(scratch), admin_url.rsplit("/", 1)[0] + "/" + name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            admin.execute(drop.format(sql.Identifier(name)))


def free_port() -> int:
    """A TCP port nothing listens on at 127.0.0.1 (now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
