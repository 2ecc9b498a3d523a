"""Side effects, looked for where they would be: in the backends, on disk, in the platform's
own database and in the portal's pages.

`Backends.objects()` lists what exists (PostgreSQL databases and roles, MariaDB databases and
users, Redis ACL users, S3 buckets, EC2 instances, git repositories, GitHub secrets); a new
object whose name is suspicious (it carries the run's marker, a character no starter path
allows, or a fragment of a hostile value) is a side effect. The shared servers are used by
others at the same time: their new objects have plain names and are not counted.

`traces(texts, marker)` finds what a hostile value leaves when it is not treated as data: a
``/tmp/pwned-<marker>-*`` file, a template expression rendered (``<marker>49``), an HTML tag
or ``javascript:`` link unescaped in a page.
"""

from __future__ import annotations

import glob
import html
import re
import subprocess
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import boto3
import httpx
import psycopg
import pymysql
import redis
import sqlalchemy as sa

from tests.hostile.stage import MYSQL_ADMIN, PG_ADMIN, REDIS_URL, Stage
from tests.integration.actions.aws.moto_support import (
    ACCESS_KEY_ID,
    REGION,
    SECRET_ACCESS_KEY,
)

PLAIN = re.compile(r"[A-Za-z0-9_.@/-]*")
FRAGMENTS = ("pwned", "passwd", "shadow", "drop ", "1=1", "secrets", "script", "\x00")
Object = tuple[str, str]  # (what, name): ("postgres role", "gph12ab_d3")


@contextmanager
def mysql_admin() -> Iterator[Any]:
    dsn = urlsplit(MYSQL_ADMIN)
    conn = pymysql.connect(
        host=dsn.hostname or "127.0.0.1",
        port=dsn.port or 3306,
        user=dsn.username or "root",
        password=dsn.password or "",
        autocommit=True,
    )
    try:
        yield conn
    finally:
        conn.close()


def suspicious(name: str, marker: str) -> bool:
    lowered = name.lower()
    return (
        marker in lowered
        or not PLAIN.fullmatch(name)
        or any(fragment in lowered for fragment in FRAGMENTS)
    )


class Backends:
    """What exists in every backend, listed through one open client each."""

    def __init__(self, stage: Stage) -> None:
        self.stage = stage
        aws: dict[str, Any] = {
            "endpoint_url": stage.moto_endpoint,
            "region_name": REGION,
            "aws_access_key_id": ACCESS_KEY_ID,
            "aws_secret_access_key": SECRET_ACCESS_KEY,
        }
        self.s3 = boto3.client("s3", **aws)
        self.ec2 = boto3.client("ec2", **aws)
        self.redis = redis.Redis.from_url(REDIS_URL, decode_responses=True)

    def close(self) -> None:
        self.redis.close()
        self.s3.close()
        self.ec2.close()

    def objects(self) -> set[Object]:
        return (
            self._postgres()
            | self._mysql()
            | self._redis()
            | self._aws()
            | self._git()
            | self._github()
        )

    def new_suspicious(self, before: set[Object]) -> list[str]:
        return sorted(
            f"{what} {name!r}"
            for what, name in self.objects() - before
            if suspicious(name, self.stage.marker)
        )

    def _postgres(self) -> set[Object]:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            databases = conn.execute("SELECT datname FROM pg_database").fetchall()
            roles = conn.execute("SELECT rolname FROM pg_roles").fetchall()
        return {("postgres database", n) for (n,) in databases} | {
            ("postgres role", n) for (n,) in roles
        }

    def _mysql(self) -> set[Object]:
        with mysql_admin() as conn, conn.cursor() as cursor:
            cursor.execute("SHOW DATABASES")
            databases = cursor.fetchall()
            cursor.execute("SELECT User FROM mysql.user")
            users = cursor.fetchall()
        return {("mysql database", n) for (n,) in databases} | {("mysql user", n) for (n,) in users}

    def _redis(self) -> set[Object]:
        return {("redis user", str(n)) for n in self.redis.acl_users()}

    def _aws(self) -> set[Object]:
        found = {("s3 bucket", b["Name"]) for b in self.s3.list_buckets().get("Buckets", [])}
        for reservation in self.ec2.describe_instances()["Reservations"]:
            for instance in reservation["Instances"]:
                for tag in instance.get("Tags", []):
                    if tag["Key"] in ("Name", "cost-center", "owner"):
                        found.add((f"ec2 instance tag {tag['Key']}", tag["Value"]))
        return found

    def _git(self) -> set[Object]:
        root = self.stage.platform.settings.data_dir / "git"
        if not root.exists():
            return set()
        return {("git repository", str(p.relative_to(root))) for p in root.rglob("*.git")}

    def _github(self) -> set[Object]:
        return {("github secret", name) for _, name in list(self.stage.github.secrets)}


def pwned_files(marker: str) -> list[str]:
    return sorted(glob.glob(f"/tmp/pwned-{marker}-*"))  # noqa: S108 (where the payloads write)


def rendered(marker: str) -> tuple[str, ...]:
    """What the template values of `corpus` turn into if an engine renders them."""
    return (f"{marker}49", f"{marker}a{marker}b")


def traces(texts: Iterable[str], marker: str, *, page: bool = False) -> list[str]:
    """Evidence in ``texts`` that a value was executed; with ``page``, also HTML left raw."""
    found: list[str] = []
    for text in texts:
        for sign in rendered(marker):
            if sign in text:
                found.append(f"template rendered: {sign}")
        if page:
            for raw in (f"<script>alert('{marker}')", f'onerror=alert("{marker}")'):
                if raw in text:
                    found.append(f"unescaped in a page: {raw}")
            if re.search(r"href=[\"']?\s*javascript:", text, re.IGNORECASE):
                found.append("javascript: link in a page")
    return found


def repository_files(stage: Stage) -> list[str]:
    """The text of every file at HEAD of every repository the local git backend holds."""
    root = stage.platform.settings.data_dir / "git"
    texts: list[str] = []
    for repository in root.rglob("*.git") if root.exists() else ():
        shown = subprocess.run(
            ["git", "-C", str(repository), "grep", "-I", "-h", "-e", "", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        )
        texts.append(shown.stdout)
        description = repository / "description"
        if description.exists():
            texts.append(description.read_text(errors="replace"))
    return texts


def signed_in(stage: Stage, password: str) -> tuple[httpx.Client, str]:
    """A portal session of the admin, and its CSRF token."""
    portal = httpx.Client(base_url=stage.url, timeout=120)
    form = portal.get("/login")
    signed = portal.post(
        "/login",
        data={"_csrf": csrf_of(form.text), "user": "admin", "password": password, "next": "/"},
    )
    assert signed.status_code == 303, signed.text
    return portal, csrf_of(portal.get("/").text)


def csrf_of(text: str) -> str:
    token = re.search(r'name="_csrf" value="([^"]+)"', text)
    return html.unescape(token.group(1)) if token else ""


def portal_pages(portal: httpx.Client, stage: Stage) -> dict[str, str]:
    """Every portal page a signed-in admin can reach without a form, with the detail pages of
    every request and resource the run made."""
    paths = ["/", "/requests", "/approvals", "/resources", "/admin/audit", "/admin/templates"]
    paths += ["/insights"]
    paths += [f"/paths/{t['name']}" for t in _all(stage, "/api/v1/templates")]
    paths += [f"/requests/{r['id']}" for r in _all(stage, "/api/v1/requests")]
    paths += [f"/resources/{r['id']}" for r in _all(stage, "/api/v1/resources")]
    return {path: portal.get(path).text for path in paths}


def _all(stage: Stage, path: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 500} | ({"cursor": cursor} if cursor else {})
        if path == "/api/v1/resources":
            params["include_destroyed"] = True
        page = stage.admin.get(path, params=params).json()
        items += page["items"]
        cursor = page.get("next")
        if not cursor:
            return items


def platform_tables(stage: Stage) -> set[str]:
    with stage.platform.database.begin() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT schemaname || '.' || tablename FROM pg_tables"
                " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
            )
        ).fetchall()
    return {str(name) for (name,) in rows}
