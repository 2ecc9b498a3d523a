"""The chaos scenario: requests under random worker SIGKILLs, a PostgreSQL restart and a Redis
backend killed, counted at the end. `bench/chaos.py` runs it at scale and prints the figures;
`tests/e2e/test_chaos_short.py` runs a short one and asserts them.

Everything runs on servers of its own (never the machine's shared ones): a throwaway
PostgreSQL (the platform's database and the ``postgres`` backend) and a throwaway
``redis-server``, each on a free port. One `goldenpath api` and ``worker_count`` `goldenpath
worker` processes; a supervisor starts a replacement for every worker that dies, as systemd or
Kubernetes would. The load mixes ``slow-database`` (a database, a pause, a token: three steps)
and ``redis`` (an ACL user). While it runs:

- a random running worker gets SIGKILL every ``kill_every`` seconds;
- once a third of the requests are in, PostgreSQL is stopped (fast shutdown) for ``outage``
  seconds, while a prober counts the API's answers by status (reads, /readyz, submissions);
- once two thirds are in, redis-server gets SIGKILL and comes back (empty) ``redis_down`` s
  later.

Counted: lost (accepted, then missing), stuck (not terminal within ``patience`` s of the last
submission), duplicated (a name recorded twice), orphaned (an object in a backend, found by
listing it, with no live resource in the catalog), and the API's answers during the outage.
"""

from __future__ import annotations

import contextlib
import json
import random
import secrets
import shutil
import signal
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tests.e2e.cluster import TERMINAL, Cluster, Process, client
from tests.servers import OwnPostgres, OwnRedis

READY = "Golden Path worker ("


@dataclass
class Figures:
    requests: int
    accepted: int = 0
    succeeded: int = 0
    failed: int = 0
    other_terminal: int = 0
    lost: int = 0
    stuck: int = 0
    duplicated: int = 0
    orphaned: int = 0
    worker_count: int = 2
    kill_every: str = ""
    worker_kills: int = 0
    worker_start_s_median: float = 0.0
    outage_seconds: float = 0.0
    outage_answers: dict[str, int] = field(default_factory=dict)
    submit_5xx_other_than_503: int = 0
    submit_503_retried: int = 0
    # Requests accepted before the outage: how many, and when the last of them ended.
    in_flight_at_outage: int = 0
    in_flight_terminal_after_database_back_s: float = 0.0
    terminal_after_database_back_s: float = 0.0
    terminal_after_last_submission_s: float = 0.0
    lead_time_s: dict[str, float] = field(default_factory=dict)
    jobs_recovered_from_killed_workers: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    stuck_detail: list[str] = field(default_factory=list)
    wall_seconds: float = 0.0


def run_chaos(
    requests: int = 300,
    outage: float = 30.0,
    redis_down: float = 5.0,
    kill_every: tuple[float, float] | None = (2.0, 3.0),
    rate: float = 8.0,
    worker_count: int = 2,
    concurrency: int = 4,
    patience: float = 60.0,
    log: Any = print,
) -> Figures:
    started = time.monotonic()
    figures = Figures(requests=requests, worker_count=worker_count, kill_every=str(kill_every))
    root = Path(tempfile.mkdtemp(prefix="gp-chaos-"))
    postgres = OwnPostgres()
    cache = OwnRedis()
    (root / "goldenpath.yaml").write_text(
        json.dumps({"backends": {"redis": {"kind": "redis", "dsn": cache.dsn}}})
    )
    cluster = Cluster(
        postgres.url,
        root,
        extra_env={"GOLDENPATH_CONFIG": str(root / "goldenpath.yaml")},
    )
    stop = threading.Event()
    workers: list[Process] = []
    lock = threading.Lock()
    try:
        api = cluster.start_api(workers=1)
        for _ in range(worker_count):
            workers.append(cluster.start_worker(concurrency=concurrency))
        tag = secrets.token_hex(2)
        plan = [_request_body(tag, number) for number in range(requests)]

        def supervise() -> None:
            # Kill a random worker every 2-3 s; start a replacement for any that died (one
            # started while the database is down exits at once, and is started again).
            next_kill = time.monotonic() + random.uniform(*(kill_every or (0, 0)))
            spawned = {id(w): time.monotonic() for w in workers}
            while not stop.is_set():
                with lock:
                    for index, worker in enumerate(workers):
                        if id(worker) in spawned and READY in worker.text():
                            startups.append(time.monotonic() - spawned.pop(id(worker)))
                        if not worker.alive():
                            spawned.pop(id(worker), None)
                            workers[index] = cluster.start_worker(concurrency=concurrency)
                            spawned[id(workers[index])] = time.monotonic()
                    if kill_every and time.monotonic() >= next_kill:
                        # Only a worker that is running: one still starting has no job yet.
                        running = [w for w in workers if w.alive() and READY in w.text()]
                        if running:
                            victim = random.choice(running)
                            victim.popen.send_signal(signal.SIGKILL)
                            victim.popen.wait()
                            figures.worker_kills += 1
                        next_kill = time.monotonic() + random.uniform(*kill_every)
                time.sleep(0.2)

        startups: list[float] = []
        supervisor = threading.Thread(target=supervise, daemon=True)
        supervisor.start()

        accepted: dict[str, str] = {}  # name -> request id
        database_back = back_at = 0.0
        outage_status: Counter[str] = Counter()
        with client(api) as http:
            for number, body in enumerate(plan):
                if number == requests // 3:
                    figures.in_flight_at_outage = len(accepted)
                    database_back = _restart_postgres(
                        postgres, api, outage, outage_status, log, _request_body(tag, requests)
                    )
                    back_at = time.time()
                    figures.outage_seconds = outage
                if number == (2 * requests) // 3:
                    log(f"killing redis-server (back, empty, in {redis_down:.0f} s)")
                    cache.kill()
                    threading.Timer(redis_down, cache.start).start()
                request_id = _submit(http, body, figures)
                accepted[body["parameters"]["name"]] = request_id
                time.sleep(1 / rate)
            figures.accepted = len(accepted)
            log(f"{len(accepted)} requests accepted; waiting for every one to finish")
        last_submission = time.monotonic()
        ids = list(accepted.values())
        final, stuck = _wait_terminal(postgres, ids, last_submission + patience)
        figures.terminal_after_database_back_s = round(time.monotonic() - database_back, 1)
        figures.terminal_after_last_submission_s = round(time.monotonic() - last_submission, 1)
        stop.set()
        supervisor.join()
        if startups:
            figures.worker_start_s_median = round(sorted(startups)[len(startups) // 2], 1)

        figures.outage_answers = dict(outage_status)
        figures.stuck = len(stuck)
        figures.lost = sum(1 for view in final.values() if view is None)
        ended = [view for view in final.values() if view]
        before = {i for i in ids[: figures.in_flight_at_outage] if final.get(i)}
        if before and back_at:
            last = max(float(final[i]["finished"]) for i in before)  # type: ignore[index]
            figures.in_flight_terminal_after_database_back_s = round(last - back_at, 1)
        figures.lead_time_s = _percentiles([float(v["lead"]) for v in ended])
        figures.jobs_recovered_from_killed_workers = sum(
            process.text().count("of a dead worker") for process in cluster.processes
        )
        statuses = Counter(view["status"] for view in final.values() if view)
        figures.succeeded = statuses["succeeded"]
        figures.failed = statuses["failed"]
        figures.other_terminal = sum(
            count
            for status, count in statuses.items()
            if status in TERMINAL - {"succeeded", "failed"}
        )
        figures.failures = dict(
            Counter(
                _reason(view["error"])
                for view in final.values()
                if view and view["status"] == "failed"
            )
        )
        figures.duplicated, figures.orphaned = _duplicates_and_orphans(postgres, cache, tag)
        if figures.stuck:
            figures.stuck_detail = _stuck_detail(postgres)
            with lock:
                for worker in workers:  # every thread's stack, into the worker's log
                    if worker.alive():
                        worker.popen.send_signal(signal.SIGUSR1)
            time.sleep(2)
            log(f"stuck: worker logs (with stacks) are in {root}")
        log(f"counted: {json.dumps(asdict(figures))}")
    finally:
        stop.set()
        with lock:
            cluster.stop_all()
        cache.close()
        postgres.close()
        if not figures.stuck:
            shutil.rmtree(root, ignore_errors=True)
    figures.wall_seconds = round(time.monotonic() - started, 1)
    return figures


def _request_body(tag: str, number: int) -> dict[str, Any]:
    if number % 3 == 2:
        return {"template": "redis", "parameters": {"name": f"chaos-{tag}-{number}"}}
    pause = round(random.uniform(0.2, 1.5), 1)
    return {
        "template": "slow-database",
        "parameters": {"name": f"chaos_{tag}_{number}", "pause": pause},
    }


def _submit(http: httpx.Client, body: dict[str, Any], figures: Figures) -> str:
    """Submit once; on a 503 wait as told and submit again (a client following Retry-After)."""
    while True:
        try:
            answer = http.post("/api/v1/requests", json=body)
        except httpx.TransportError:
            time.sleep(1)
            continue
        if answer.status_code == 202:
            return str(answer.json()["id"])
        if answer.status_code == 503:
            figures.submit_503_retried += 1
            time.sleep(float(answer.headers.get("Retry-After", "1")))
            continue
        if answer.status_code >= 500:
            figures.submit_5xx_other_than_503 += 1
            time.sleep(1)
            continue
        raise RuntimeError(f"submission refused: {answer.status_code} {answer.text}")


def _restart_postgres(
    postgres: OwnPostgres,
    api: Process,
    outage: float,
    seen: Counter[str],
    log: Any,
    submission: dict[str, Any],
) -> float:
    """Stop PostgreSQL for ``outage`` s, counting the API's answers to a read, /readyz and a
    ``submission`` meanwhile; returns when it was back."""
    log(f"stopping PostgreSQL for {outage:.0f} s")
    postgres.stop()
    deadline = time.monotonic() + outage
    probes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "/api/v1/requests", None),
        ("GET", "/readyz", None),
        ("POST", "/api/v1/requests", submission),
    ]
    with client(api) as http:
        while time.monotonic() < deadline:
            for method, path, body in probes:
                what = f"{method} {path}"
                try:
                    answer = http.request(method, path, json=body, timeout=10)
                    seen[f"{what} {answer.status_code}"] += 1
                    if answer.status_code == 503 and "Retry-After" not in answer.headers:
                        seen[f"{what} 503 without Retry-After"] += 1
                except httpx.TransportError:
                    seen[f"{what} no answer"] += 1
            time.sleep(0.25)
    postgres.start()
    log("PostgreSQL is back")
    return time.monotonic()


def _wait_terminal(
    postgres: OwnPostgres, ids: list[str], deadline: float
) -> tuple[dict[str, dict[str, Any] | None], list[str]]:
    """Each request's end (None: missing, lost) once terminal, and those still unfinished at
    the deadline. Read from the database, one query a second: polling the API for hundreds of
    requests would take the CPU the workers need."""
    final: dict[str, dict[str, Any] | None] = {}
    while True:
        with contextlib.suppress(psycopg.OperationalError), psycopg.connect(postgres.url) as conn:
            rows = conn.execute(
                "SELECT id::text, status, error, extract(epoch FROM finished_at),"
                " extract(epoch FROM finished_at - created_at)"
                " FROM gp_requests WHERE id::text = ANY(%s)",
                (ids,),
            ).fetchall()
            found = {row[0]: row for row in rows}
            for request_id in ids:
                row = found.get(request_id)
                if row is None:
                    final[request_id] = None
                elif row[1] in TERMINAL:
                    final[request_id] = dict(
                        zip(("id", "status", "error", "finished", "lead"), row, strict=True)
                    )
        if len(final) == len(ids) or time.monotonic() > deadline:
            return final, [i for i in ids if i not in final]
        time.sleep(1)


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def at(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1)

    return {"p50": at(0.5), "p95": at(0.95), "max": at(1.0)}


def _stuck_detail(postgres: OwnPostgres) -> list[str]:
    """Where unfinished requests and their jobs stand, to tell why."""
    with psycopg.connect(postgres.url) as conn:
        requests = conn.execute(
            "SELECT status, count(*) FROM gp_requests GROUP BY 1 ORDER BY 1"
        ).fetchall()
        jobs = conn.execute(
            "SELECT task_name, status, attempts, count(*) FROM procrastinate_jobs"
            " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
        ).fetchall()
        activity = conn.execute(
            "SELECT state, wait_event_type, wait_event, left(query, 80) FROM pg_stat_activity"
            " WHERE state <> 'idle' AND pid <> pg_backend_pid()"
        ).fetchall()
    return (
        [f"requests {s}: {n}" for s, n in requests]
        + [f"jobs {t} {s} attempts={a}: {n}" for t, s, a, n in jobs]
        + [f"session {row}" for row in activity]
    )


def _reason(error: str | None) -> str:
    text = (error or "").split(": ", 2)
    return ": ".join(text[:2])[:100]


def _duplicates_and_orphans(postgres: OwnPostgres, cache: OwnRedis, tag: str) -> tuple[int, int]:
    with psycopg.connect(postgres.url) as conn:
        names = conn.execute(
            "SELECT parameters->>'name', count(*) FROM gp_requests"
            " WHERE parameters->>'name' LIKE %s GROUP BY 1",
            (f"chaos%{tag}%",),
        ).fetchall()
        live = {
            (str(kind), str(name))
            for kind, name in conn.execute(
                "SELECT kind, name FROM gp_resources WHERE state <> 'destroyed'"
            ).fetchall()
        }
        databases = [
            str(row[0])
            for row in conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s", (f"chaos_{tag}_%",)
            ).fetchall()
        ]
    duplicated = sum(count - 1 for _, count in names if count > 1)
    live_names = {name for _, name in live}
    users = [
        user.decode() if isinstance(user, bytes) else str(user)
        for user in cache.client().acl_users()
        if (user.decode() if isinstance(user, bytes) else str(user)).startswith(f"chaos-{tag}-")
    ]
    orphaned = sum(1 for name in [*databases, *users] if name not in live_names)
    return duplicated, orphaned
