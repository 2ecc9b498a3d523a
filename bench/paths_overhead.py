"""Starter golden paths end to end, each against the bare operation on the same backend.

For every real-backend starter path (``mysql-database`` on MariaDB, ``redis`` on Redis,
``s3-bucket`` and ``ec2-instance`` on a moto server started here, ``new-repo`` on the local git
backend, ``ci-secret`` on a small local fake of GitHub's Actions secrets API), one run
interleaves the golden path with the bare client calls that create the same thing. The golden
path is timed as a developer sees it: from just before ``service.submit`` to the moment its
status reads ``succeeded``, with a real Procrastinate worker in a background thread. The bare
side is timed on an already-open client (and, separately, including opening it). Which side goes
first alternates from round to round.

Everything both sides create is removed at the end: golden-path resources through
``service.destroy`` (as their owner would), bare ones directly. The platform database is a fresh
``gp_bench_<hex>`` on the machine's PostgreSQL, dropped at the end.

Run: .venv/bin/python bench/paths_overhead.py [--rounds 20] [--paths redis,s3-bucket]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import logging
import os
import platform as host
import re
import secrets
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import httpx
import moto
import psycopg
import pymysql
import redis
from moto.server import ThreadedMotoServer
from nacl.public import PrivateKey, PublicKey, SealedBox
from psycopg import sql

from goldenpath.actions.redis.user import acl_rules
from goldenpath.app import Platform, build_platform
from goldenpath.execution.worker_thread import WorkerThread
from goldenpath.identity.actor import Actor, system_actor
from goldenpath.settings import BackendSettings, Settings
from goldenpath.store.database import libpq_conninfo
from goldenpath.store.records import TERMINAL_STATUSES

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
MYSQL_DSN = "mysql://root:@127.0.0.1:3306/"
REDIS_DSN = "redis://127.0.0.1:6379/0"
AWS_REGION = "eu-west-1"
AWS_KEY = "testing"
IMAGE_NAME = "al2023-ami-2023.*-kernel-6.1-x86_64"
CI_TOKEN = "bench-token"  # noqa: S105 - the local fake's own token
CI_REPOSITORY = "acme/payments"
SKELETON = Path(__file__).resolve().parents[1] / "starter" / "templates" / "new-repo" / "skeleton"
ALL_PATHS = ("mysql-database", "redis", "s3-bucket", "ec2-instance", "new-repo", "ci-secret")
DEVELOPER = Actor("bench", frozenset({("bench", "developer")}))
READER = system_actor("bench-reader")
STATUS_QUERY = "SELECT status FROM gp_requests WHERE id = %s"


# --- a minimal GitHub Actions secrets API ---------------------------------------------------


@dataclass
class FakeGitHub:
    """Public key, GET / PUT / DELETE of one repository's secrets; the token is checked."""

    private_key: PrivateKey = field(default_factory=PrivateKey.generate)
    key_id: str = "bench-key-1"
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, method: str, path: str, authorization: str, body: bytes) -> tuple[int, Any]:
        if authorization != f"Bearer {CI_TOKEN}":
            return 401, {"message": "Bad credentials"}
        match = re.fullmatch(rf"/repos/{CI_REPOSITORY}/actions/secrets/([A-Za-z0-9_-]+)", path)
        if match is None:
            return 404, {"message": "Not Found"}
        name = match.group(1)
        if name == "public-key" and method == "GET":
            key = base64.b64encode(bytes(self.private_key.public_key)).decode()
            return 200, {"key_id": self.key_id, "key": key}
        with self.lock:
            current = self.secrets.get(name)
            if method == "GET":
                return (404, {"message": "Not Found"}) if current is None else (200, current)
            if method == "PUT":
                sent = json.loads(body)
                if sent.get("key_id") != self.key_id or not sent.get("encrypted_value"):
                    return 422, {"message": "Bad key_id or value"}
                stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                created = current["created_at"] if current else stamp
                self.secrets[name] = {"name": name, "created_at": created, "updated_at": stamp}
                return (204 if current else 201), None
            if method == "DELETE":
                if current is None:
                    return 404, {"message": "Not Found"}
                del self.secrets[name]
                return 204, None
        return 405, {"message": "Method Not Allowed"}


@contextmanager
def serve_github(fake: FakeGitHub) -> Iterator[str]:
    """The fake on a free local port (HTTP/1.1, keep-alive), in a thread; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, reply = fake.handle(
                self.command, self.path, self.headers.get("Authorization", ""), body
            )
            payload = b"" if reply is None else json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def moto_server() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        address, port = server.get_host_and_port()
        yield f"http://{address}:{port}"
    finally:
        server.stop()


# --- the bare side: what an ops engineer's script would call ----------------------------------


class Bare:
    """One path's bare operation: a client, the create calls, and the cleanup of what it made."""

    label = ""

    def open(self) -> Any:
        return None

    def create(self, client: Any, name: str) -> None:
        raise NotImplementedError

    def close(self, client: Any) -> None:
        pass

    def remove(self, names: list[str]) -> None:
        raise NotImplementedError


class MysqlBare(Bare):
    label = "pymysql: CREATE DATABASE + CREATE USER + GRANT"

    def open(self) -> Any:
        return pymysql.connect(host="127.0.0.1", port=3306, user="root", autocommit=True)

    def create(self, client: Any, name: str) -> None:
        with client.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
            cursor.execute(
                "CREATE USER %s@'%%' IDENTIFIED BY %s", (name, secrets.token_urlsafe(24))
            )
            cursor.execute(f"GRANT ALL PRIVILEGES ON `{name}`.* TO %s@'%%'", (name,))

    def close(self, client: Any) -> None:
        client.close()

    def remove(self, names: list[str]) -> None:
        client = self.open()
        try:
            with client.cursor() as cursor:
                for name in names:
                    cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
                    cursor.execute("DROP USER IF EXISTS %s@'%%'", (name,))
        finally:
            client.close()


class RedisBare(Bare):
    label = "redis-py: ACL SETUSER (same rules)"

    def open(self) -> Any:
        client = redis.Redis.from_url(REDIS_DSN)
        client.ping()
        return client

    def create(self, client: Any, name: str) -> None:
        digest = hashlib.sha256(secrets.token_urlsafe(24).encode()).hexdigest()
        client.execute_command("ACL", "SETUSER", name, *acl_rules(name, digest, "read-write"))

    def close(self, client: Any) -> None:
        client.close()

    def remove(self, names: list[str]) -> None:
        client = self.open()
        try:
            for name in names:
                client.execute_command("ACL", "DELUSER", name)
        finally:
            client.close()


class AwsBare(Bare):
    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def client(self, service: Any) -> Any:
        return boto3.client(
            service,
            region_name=AWS_REGION,
            endpoint_url=self.endpoint,
            aws_access_key_id=AWS_KEY,
            aws_secret_access_key=AWS_KEY,
        )


class S3Bare(AwsBare):
    label = "boto3: create_bucket + put_public_access_block"

    def open(self) -> Any:
        return self.client("s3")

    def create(self, client: Any, name: str) -> None:
        client.create_bucket(
            Bucket=name, CreateBucketConfiguration={"LocationConstraint": AWS_REGION}
        )
        client.put_public_access_block(
            Bucket=name,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )

    def remove(self, names: list[str]) -> None:
        client = self.open()
        for name in names:
            client.delete_bucket(Bucket=name)


class Ec2Bare(AwsBare):
    label = "boto3: run_instances"

    def __init__(self, endpoint: str) -> None:
        super().__init__(endpoint)
        self.image_id = ""
        self.instances: list[str] = []

    def open(self) -> Any:
        client = self.client("ec2")
        if not self.image_id:
            # A script knows its AMI id; looked up once, outside the timing.
            images = client.describe_images(
                Owners=["amazon"], Filters=[{"Name": "name", "Values": [IMAGE_NAME]}]
            )["Images"]
            self.image_id = max(images, key=lambda i: i.get("CreationDate", ""))["ImageId"]
        return client

    def create(self, client: Any, name: str) -> None:
        reply = client.run_instances(
            ImageId=self.image_id,
            InstanceType="t3.micro",
            MinCount=1,
            MaxCount=1,
            TagSpecifications=[
                {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}
            ],
        )
        self.instances.append(reply["Instances"][0]["InstanceId"])

    def remove(self, names: list[str]) -> None:
        if self.instances:
            self.open().terminate_instances(InstanceIds=self.instances)


class GitBare(Bare):
    label = "git init --bare + clone-less initial commit push"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def create(self, client: Any, name: str) -> None:
        repo = self.root / f"{name}.git"
        _git("init", "--quiet", "--bare", "--initial-branch=main", str(repo))
        with tempfile.TemporaryDirectory(prefix="gpb-work-") as work:
            shutil.copytree(SKELETON, work, dirs_exist_ok=True)
            _git("init", "--quiet", "--initial-branch=main", work)
            _git("-C", work, "add", "--all", "--force")
            _git("-C", work, "commit", "--quiet", "-m", "Initial commit")
            _git("-C", work, "push", "--quiet", str(repo), "main")

    def remove(self, names: list[str]) -> None:
        for name in names:
            shutil.rmtree(self.root / f"{name}.git", ignore_errors=True)


def _git(*args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_AUTHOR_NAME="Bench",
        GIT_AUTHOR_EMAIL="bench@localhost",
        GIT_COMMITTER_NAME="Bench",
        GIT_COMMITTER_EMAIL="bench@localhost",
    )
    subprocess.run(["git", *args], check=True, capture_output=True, env=env)


class CiBare(Bare):
    label = "httpx: GET public key + sealed PUT"

    def __init__(self, url: str) -> None:
        self.url = url

    def open(self) -> Any:
        return httpx.Client(
            base_url=self.url,
            headers={
                "Authorization": f"Bearer {CI_TOKEN}",
                "Accept": "application/vnd.github+json",
            },
        )

    def create(self, client: Any, name: str) -> None:
        path = f"/repos/{CI_REPOSITORY}/actions/secrets"
        key = client.get(f"{path}/public-key").raise_for_status().json()
        sealed = SealedBox(PublicKey(base64.b64decode(key["key"]))).encrypt(
            secrets.token_urlsafe(30).encode()
        )
        client.put(
            f"{path}/{name}",
            json={"encrypted_value": base64.b64encode(sealed).decode(), "key_id": key["key_id"]},
        ).raise_for_status()

    def close(self, client: Any) -> None:
        client.close()

    def remove(self, names: list[str]) -> None:
        with self.open() as client:
            for name in names:
                client.delete(f"/repos/{CI_REPOSITORY}/actions/secrets/{name}")


# --- the paths ------------------------------------------------------------------------------


@dataclass
class Case:
    template: str
    new_name: Callable[[], str]
    parameters: Callable[[str], dict[str, Any]]
    bare: Bare
    golden_names: list[str] = field(default_factory=list)
    bare_names: list[str] = field(default_factory=list)
    request_ids: list[str] = field(default_factory=list)


def _hex() -> str:
    return secrets.token_hex(5)


def build_cases(
    paths: list[str], *, moto_url: str | None, github_url: str | None, git_root: Path
) -> list[Case]:
    made: dict[str, Case] = {}
    for path in paths:
        if path == "mysql-database":
            made[path] = Case(path, lambda: f"gpb_{_hex()}", lambda n: {"name": n}, MysqlBare())
        elif path == "redis":
            made[path] = Case(path, lambda: f"gpb-{_hex()}", lambda n: {"name": n}, RedisBare())
        elif path == "s3-bucket":
            assert moto_url is not None
            made[path] = Case(
                path,
                lambda: f"gpb-{_hex()}",
                lambda n: {"name": n, "cost_center": "bench"},
                S3Bare(moto_url),
            )
        elif path == "ec2-instance":
            assert moto_url is not None
            made[path] = Case(
                path,
                lambda: f"gpb-{_hex()}",
                lambda n: {"name": n, "cost_center": "bench"},
                Ec2Bare(moto_url),
            )
        elif path == "new-repo":
            made[path] = Case(
                path,
                lambda: f"gpb-{_hex()}",
                lambda n: {"name": n, "description": "bench", "language": "python"},
                GitBare(git_root / "bare"),
            )
        elif path == "ci-secret":
            assert github_url is not None
            made[path] = Case(
                path,
                lambda: f"BENCH_{_hex().upper()}",
                lambda n: {
                    "repository": CI_REPOSITORY,
                    "name": n,
                    "value": secrets.token_urlsafe(30),
                },
                CiBare(github_url),
            )
    return [made[p] for p in paths]


def backends(moto_url: str | None, github_url: str | None, git_root: Path) -> dict[str, Any]:
    found: dict[str, Any] = {
        "mysql": BackendSettings(kind="mysql", dsn=MYSQL_DSN),
        "redis": BackendSettings(kind="redis", dsn=REDIS_DSN),
        "git": BackendSettings(kind="git", provider="local", root=str(git_root / "golden")),
    }
    if moto_url:
        found["aws"] = BackendSettings(
            kind="aws",
            region=AWS_REGION,
            endpoint_url=moto_url,
            access_key_id=AWS_KEY,
            secret_access_key=AWS_KEY,
        )
    if github_url:
        found["ci"] = BackendSettings(
            kind="ci", provider="github", api_url=github_url, token=CI_TOKEN
        )
    return found


# --- the platform side ----------------------------------------------------------------------


@contextmanager
def platform_on(admin_url: str, data_dir: Path, configured: dict[str, Any]) -> Iterator[Platform]:
    """A fresh platform database ``gp_bench_<hex>``, dropped afterwards."""
    name = f"gp_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    built: Platform | None = None
    try:
        settings = Settings(
            database_url=admin_url.rsplit("/", 1)[0] + "/" + name,
            data_dir=data_dir,
            backends=configured,
        )
        built = build_platform(settings)
        yield built
    finally:
        if built is not None:
            built.close()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


class StatusWatcher:
    """Polls one request's status on a dedicated connection, with a prepared statement: the
    platform sends no notification when a request finishes."""

    def __init__(self, conninfo: str, interval: float) -> None:
        self._conn = psycopg.connect(conninfo, autocommit=True)
        self._interval = interval

    def wait_finished(self, request_id: str, timeout: float = 120.0) -> tuple[str, float]:
        deadline = time.perf_counter() + timeout
        while True:
            row = self._conn.execute(STATUS_QUERY, (request_id,), prepare=True).fetchone()
            seen = time.perf_counter()
            if row is not None and row[0] in TERMINAL_STATUSES:
                return str(row[0]), seen
            if seen > deadline:
                raise TimeoutError(f"request {request_id} unfinished after {timeout} s")
            time.sleep(self._interval)

    def close(self) -> None:
        self._conn.close()


@dataclass(frozen=True)
class GoldenSample:
    end_to_end: float
    submit: float
    steps: float


def golden_once(platform: Platform, watcher: StatusWatcher, case: Case, name: str) -> GoldenSample:
    start = time.perf_counter()
    record = platform.service.submit(case.template, case.parameters(name), DEVELOPER)
    submitted = time.perf_counter()
    case.request_ids.append(record.id)
    status, seen = watcher.wait_finished(record.id)
    final = platform.service.request(record.id, READER)
    if status != "succeeded":
        raise RuntimeError(f"{case.template} request {record.id} {status}: {final.error}")
    steps = sum(
        (s.finished_at - s.started_at).total_seconds()
        for s in final.steps
        if s.started_at is not None and s.finished_at is not None
    )
    return GoldenSample(end_to_end=seen - start, submit=submitted - start, steps=steps)


def bare_once(bare: Bare, name: str) -> tuple[float, float]:
    """(open client + calls, calls alone) in seconds."""
    start = time.perf_counter()
    client = bare.open()
    opened = time.perf_counter()
    try:
        bare.create(client, name)
        done = time.perf_counter()
    finally:
        bare.close(client)
    return done - start, done - opened


def destroy_golden(platform: Platform, case: Case, timeout: float = 120.0) -> list[str]:
    """Destroy, through the service and as their owner, what the path's requests made."""
    made = set(case.request_ids)
    owned = [r for r in platform.service.resources(READER) if r.request_id in made]
    for resource in owned:
        platform.service.destroy(resource.id, DEVELOPER)
    problems: list[str] = []
    deadline = time.monotonic() + timeout
    for resource in owned:
        while True:
            current = platform.service.resource(resource.id, READER)
            if current.state in ("destroyed", "failed"):
                if current.state == "failed":
                    problems.append(f"{resource.kind} {resource.name}: {current.error}")
                break
            if time.monotonic() > deadline:
                problems.append(f"{resource.kind} {resource.name}: still {current.state}")
                break
            time.sleep(0.05)
    return problems


# --- the run --------------------------------------------------------------------------------


@dataclass
class Result:
    template: str
    bare_label: str
    golden: list[float]
    submit: list[float]
    steps: list[float]
    bare: list[float]
    bare_with_open: list[float]


def run_case(
    platform: Platform, watcher: StatusWatcher, case: Case, args: argparse.Namespace
) -> Result:
    result = Result(case.template, case.bare.label, [], [], [], [], [])
    pause = args.pause_ms / 1000
    for number in range(-args.warmup, args.rounds):
        golden_first = number % 2 == 0
        for side in ("golden", "bare") if golden_first else ("bare", "golden"):
            name = case.new_name()
            if side == "golden":
                case.golden_names.append(name)
                sample = golden_once(platform, watcher, case, name)
                if number >= 0:
                    result.golden.append(sample.end_to_end)
                    result.submit.append(sample.submit)
                    result.steps.append(sample.steps)
            else:
                case.bare_names.append(name)
                with_open, calls = bare_once(case.bare, name)
                if number >= 0:
                    result.bare_with_open.append(with_open)
                    result.bare.append(calls)
            # Lets the worker finish its job bookkeeping before the next operation starts.
            time.sleep(pause)
    return result


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:8.1f} / {_p95(values) * 1000:8.1f}"


def report_case(result: Result) -> None:
    ratio = statistics.median(result.golden) / statistics.median(result.bare)
    paired = [g - b for g, b in zip(result.golden, result.bare, strict=True)]
    print(f"\n## {result.template}  (bare: {result.bare_label})")
    print(f"  golden path, submit -> seen succeeded  median / p95 ms: {_ms(result.golden)}")
    print(f"  bare, on an open client                median / p95 ms: {_ms(result.bare)}")
    print(f"  bare, including opening the client     median / p95 ms: {_ms(result.bare_with_open)}")
    print(
        f"    of which submit() (validate, plan, guardrails, record) median ms: "
        f"{statistics.median(result.submit) * 1000:8.1f}"
    )
    print(
        f"    of which the steps (step started -> finished)       median ms: "
        f"{statistics.median(result.steps) * 1000:8.1f}"
    )
    print(
        f"    the rest (queue pick-up, runner bookkeeping, poll)  median ms: "
        f"{statistics.median(_rest(result)) * 1000:8.1f}"
    )
    print(f"  ratio of medians (golden / bare, open client): {ratio:.2f}x")
    print(
        f"  golden path extra time, median of per-round differences: "
        f"{statistics.median(paired) * 1000:.1f} ms",
        flush=True,
    )


def _rest(result: Result) -> list[float]:
    return [
        total - submit - steps
        for total, submit, steps in zip(result.golden, result.submit, result.steps, strict=True)
    ]


def report_summary(results: list[Result], args: argparse.Namespace, versions: str) -> None:
    print()
    print(f"machine: nproc {os.cpu_count()}, Python {host.python_version()}, {host.machine()}")
    print(f"backends: {versions}")
    print(
        f"rounds: {args.rounds} interleaved per path (+{args.warmup} warm-up), order "
        f"alternating, {args.pause_ms:g} ms pause, status polled every {args.poll_ms:g} ms, "
        f"worker concurrency {args.concurrency}"
    )
    print()
    print(
        "| path | golden path median / p95 ms | bare median / p95 ms | bare incl. connect "
        "median / p95 ms | ratio of medians | extra, median of per-round differences ms |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        paired = [g - b for g, b in zip(r.golden, r.bare, strict=True)]
        ratio = statistics.median(r.golden) / statistics.median(r.bare)
        cells = [
            f"{statistics.median(v) * 1000:.1f} / {_p95(v) * 1000:.1f}"
            for v in (r.golden, r.bare, r.bare_with_open)
        ]
        print(
            f"| {r.template} | {cells[0]} | {cells[1]} | {cells[2]} | {ratio:.2f}x | "
            f"{statistics.median(paired) * 1000:.1f} |"
        )
    print()
    print("golden path breakdown, medians in ms:")
    print()
    print("| path | submit() | steps (the action) | rest (queue, runner, poll) |")
    print("|---|---:|---:|---:|")
    for r in results:
        parts = [statistics.median(v) * 1000 for v in (r.submit, r.steps, _rest(r))]
        print(f"| {r.template} | {parts[0]:.1f} | {parts[1]:.1f} | {parts[2]:.1f} |")


def backend_versions(paths: list[str]) -> str:
    found = []
    if "mysql-database" in paths:
        conn = pymysql.connect(host="127.0.0.1", port=3306, user="root")
        try:
            with conn.cursor() as cursor:
                cursor.execute("SELECT VERSION()")
                row = cursor.fetchone()
                found.append(f"MariaDB {row[0] if row else '?'}")
        finally:
            conn.close()
    if "redis" in paths:
        client = redis.Redis.from_url(REDIS_DSN)
        found.append(f"Redis {client.info('server')['redis_version']}")
        client.close()
    if {"s3-bucket", "ec2-instance"} & set(paths):
        found.append(f"moto {moto.__version__} (ThreadedMotoServer)")
    if "new-repo" in paths:
        found.append(subprocess.run(["git", "--version"], capture_output=True, text=True).stdout)
    if "ci-secret" in paths:
        found.append("fake GitHub Actions secrets API (http.server, HTTP/1.1)")
    return ", ".join(v.strip() for v in found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=20, help="timed rounds per path (>= 10)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed rounds first, per path")
    parser.add_argument("--paths", default=",".join(ALL_PATHS), help="comma-separated subset")
    parser.add_argument("--admin-url", default=DEFAULT_ADMIN_URL, help="PostgreSQL superuser URL")
    parser.add_argument("--poll-ms", type=float, default=2.0, help="status poll interval")
    parser.add_argument("--pause-ms", type=float, default=50.0, help="pause between operations")
    parser.add_argument("--concurrency", type=int, default=2, help="worker concurrency")
    args = parser.parse_args()
    if args.rounds < 10:
        parser.error("--rounds must be at least 10")
    paths = [p.strip() for p in args.paths.split(",") if p.strip()]
    unknown = sorted(set(paths) - set(ALL_PATHS))
    if unknown or not paths:
        parser.error(f"unknown paths {unknown}; choose among {', '.join(ALL_PATHS)}")

    data_dir = Path(tempfile.mkdtemp(prefix="gpb_paths_"))
    results: list[Result] = []
    problems: list[str] = []
    try:
        with ExitStack() as stack:
            moto_url = (
                stack.enter_context(moto_server())
                if {"s3-bucket", "ec2-instance"} & set(paths)
                else None
            )
            github_url = (
                stack.enter_context(serve_github(FakeGitHub())) if "ci-secret" in paths else None
            )
            git_root = data_dir / "repos"
            cases = build_cases(paths, moto_url=moto_url, github_url=github_url, git_root=git_root)
            configured = backends(moto_url, github_url, git_root)
            platform = stack.enter_context(platform_on(args.admin_url, data_dir, configured))
            versions = backend_versions(paths)
            worker = WorkerThread(platform, concurrency=args.concurrency).start()
            watcher = StatusWatcher(
                libpq_conninfo(platform.database.url), interval=args.poll_ms / 1000
            )
            try:
                for case in cases:
                    print(f"{case.template}: {args.warmup} warm-up + {args.rounds} rounds ...")
                    try:
                        result = run_case(platform, watcher, case, args)
                    finally:
                        problems += destroy_golden(platform, case)
                        try:
                            case.bare.remove(case.bare_names)
                        except Exception as exc:  # reported, and the other paths still run
                            problems.append(f"{case.template} bare cleanup: {exc!r}")
                    results.append(result)
                    report_case(result)
            finally:
                watcher.close()
                worker.stop()
        report_summary(results, args, versions)
        if problems:
            print("\ncleanup problems:")
            for problem in problems:
                print(f"  - {problem}")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
