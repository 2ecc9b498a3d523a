"""Golden Path against a real Backstage scaffolder, side by side, with the shared harness.

Both systems run on this machine at once; the peer's own ``measure.py`` drives Backstage and its
``measure_goldenpath.py`` drives our API, with the same phases and definitions (submit, then poll
the status every 10 ms until done; a template with one ``debug:log`` step). Each round runs the
two alternately (which goes first alternates too): sequential, 50 at once and dry-runs, then
``--big-n`` requests by 50 clients. Medians over the rounds are printed with their spread
(min-max) and the ratio Golden Path / Backstage. Then the resident memory of every process of
each side, and optionally throughput against the worker's concurrency and worker processes.

The peer must be installed (``npm ci``) in a writable copy of ../shared/peers/backstage:

    .venv/bin/python bench/vs_backstage.py --peer-dir /path/to/backstage-copy \\
        [--rounds 3] [--database-server postgresql://postgres@127.0.0.1:5432/postgres] \\
        [--sweep-concurrency 1,4,16,64] [--sweep-workers 1,2,4]

Without ``--database-server`` the platform uses its embedded PostgreSQL (in a temporary data
dir), whose processes are then counted in the memory figure.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from scratch import free_port

ROOT = Path(__file__).resolve().parent.parent
GOLDENPATH = Path(sys.executable).with_name("goldenpath")
BACKSTAGE_READY = "/api/catalog/entities/by-name/template/default/log-only"
GP_READY = "/api/v1/templates/log-only"
TOKEN = "gp_benchvsbstg1_" + "B" * 43


# --- processes ------------------------------------------------------------------------------


def _wait_ready(
    url: str, headers: dict[str, str], proc: subprocess.Popen[bytes], timeout: float = 300
) -> float:
    """Seconds until ``url`` first answers 200."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}; see the servers log")
        try:
            request = urllib.request.Request(url, headers=headers)  # noqa: S310 - local http
            with urllib.request.urlopen(request, timeout=5):  # noqa: S310
                return time.perf_counter() - start
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    base_url: str
    started_in: float

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_backstage(peer: Path, log: Path) -> Server:
    started = time.perf_counter()
    proc = subprocess.Popen(
        ["node", "index.js"], cwd=peer, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )
    _wait_ready("http://127.0.0.1:7007" + BACKSTAGE_READY, {}, proc)
    return Server("backstage", proc, "http://127.0.0.1:7007", time.perf_counter() - started)


@dataclass(frozen=True)
class GoldenPathSetup:
    templates: Path
    data_dir: Path
    database_url: str | None
    port: int
    embedded_port: int

    def env(self, concurrency: int | None = None, processes: int | None = None) -> dict[str, str]:
        env = {
            **os.environ,
            "GOLDENPATH_TEMPLATE_DIRS": str(self.templates),
            "GOLDENPATH_LOAD_STARTER": "false",
            "GOLDENPATH_DATA_DIR": str(self.data_dir),
            "GOLDENPATH_PORT": str(self.port),
            "GOLDENPATH_EMBEDDED_PORT": str(self.embedded_port),
            "GOLDENPATH_BOOTSTRAP_TOKEN": TOKEN,
        }
        if self.database_url:
            env["GOLDENPATH_DATABASE_URL"] = self.database_url
        if concurrency is not None:
            env["GOLDENPATH_WORKER_CONCURRENCY"] = str(concurrency)
        if processes is not None:
            env["GOLDENPATH_WORKER_PROCESSES"] = str(processes)
        return env


def start_goldenpath(
    setup: GoldenPathSetup,
    log: Path,
    *,
    concurrency: int | None = None,
    processes: int | None = None,
) -> Server:
    """``goldenpath up``: the API and its ``processes`` worker processes (default 1)."""
    env = setup.env(concurrency, processes)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(GOLDENPATH), "up"], env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{setup.port}"
    _wait_ready(base + GP_READY, {"Authorization": f"Bearer {TOKEN}"}, proc)
    return Server("goldenpath", proc, base, time.perf_counter() - started)


# --- memory ---------------------------------------------------------------------------------


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def _pss_kib(pid: int) -> int:
    """Proportional set size: shared pages (PostgreSQL's shared buffers) counted once overall."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (FileNotFoundError, PermissionError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _postmaster(pgdata: Path) -> int | None:
    pidfile = pgdata / "postmaster.pid"
    return int(pidfile.read_text().split()[0]) if pidfile.exists() else None


def memory_of(server: Server, pgdata: Path | None) -> dict[str, tuple[float, float]]:
    """Resident and proportional MiB of each process of a side (the embedded PostgreSQL's
    processes summed): ``goldenpath up`` and its worker processes."""
    groups: dict[str, list[int]] = {f"{server.name} ({server.process.pid})": [server.process.pid]}
    for child in _children(server.process.pid):
        groups[f"worker process ({child})"] = [child]
    master = _postmaster(pgdata) if pgdata else None
    if master is not None:
        pids = [master, *_children(master)]
        groups[f"embedded PostgreSQL ({len(pids)} processes)"] = pids
    return {
        name: (sum(map(_rss_kib, pids)) / 1024, sum(map(_pss_kib, pids)) / 1024)
        for name, pids in groups.items()
    }


# --- the harness ------------------------------------------------------------------------------


def harness(peer: Path, side: Server, out: Path, *args: str) -> dict[str, Any]:
    """Run the peer's measuring script for one side; its summaries by phase name."""
    script = "measure.py" if side.name == "backstage" else "measure_goldenpath.py"
    command = [sys.executable, str(peer / script), "--base-url", side.base_url, *args]
    command += ["--json", str(out)]
    env = {**os.environ, "GOLDENPATH_TOKEN": TOKEN}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800)
    sys.stdout.write(f"  [{side.name}] " + done.stdout.strip().replace("\n", f"\n  [{side.name}] "))
    sys.stdout.write("\n")
    sys.stdout.flush()
    summaries = json.loads(out.read_text())["summaries"] if out.exists() else []
    return {s["phase"].split("(")[0]: s for s in summaries}


MEASURES: list[tuple[str, str, str, str]] = [
    # label, phase, key, unit
    ("sequential one-step, e2e median", "sequential", "e2e_ms_median", "ms"),
    ("50 clients at once, e2e median", "concurrent", "e2e_ms_median", "ms"),
    ("50 clients at once, throughput", "concurrent", "throughput_tasks_per_s", "/s"),
    ("{big} requests by 50 clients, throughput", "big", "throughput_tasks_per_s", "/s"),
    ("{big} requests by 50 clients, p95", "big", "e2e_ms_p95", "ms"),
    ("dry-run median", "dry-run", "ms_median", "ms"),
]


def _fmt(values: list[float], unit: str) -> str:
    if not values:
        return "—"
    mid = statistics.median(values)
    return f"{mid:,.1f} {unit} ({min(values):,.1f}-{max(values):,.1f})"


def print_table(results: dict[str, list[dict[str, Any]]], big: int, starts: dict[str, Any]) -> None:
    print("\n| measure | Backstage | Golden Path | ratio GP / Backstage |")
    print("|---|---|---|---|")
    for label, phase, key, unit in MEASURES:
        sides = {}
        for name in ("backstage", "goldenpath"):
            sides[name] = [r[phase][key] for r in results[name] if phase in r and key in r[phase]]
        ratio = "—"
        if sides["backstage"] and sides["goldenpath"]:
            ours, theirs = (
                statistics.median(sides["goldenpath"]),
                statistics.median(sides["backstage"]),
            )
            ratio = f"{ours / theirs:.2f}x"
        print(
            f"| {label.format(big=big)} | {_fmt(sides['backstage'], unit)} | "
            f"{_fmt(sides['goldenpath'], unit)} | {ratio} |"
        )
    for label, bs_key, gp_key in (
        ("start to first served request (first start)", "backstage", "goldenpath_first"),
        ("start to first served request (restart)", "backstage", "goldenpath_restart"),
    ):
        bs, gp = starts.get(bs_key), starts.get(gp_key)
        if bs and gp:
            print(f"| {label} | {bs:.1f} s | {gp:.1f} s | {gp / bs:.2f}x |")


# --- main -----------------------------------------------------------------------------------


@contextmanager
def platform_database(server_url: str | None) -> Iterator[str | None]:
    if server_url is None:
        yield None
        return
    name = f"gp_bench_{secrets.token_hex(4)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield server_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer-dir", type=Path, required=True, help="installed peer copy")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("-n", type=int, default=50, help="tasks per small phase")
    parser.add_argument("--big-n", type=int, default=500, help="tasks of the sustained phase")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--database-server", help="admin URL; default: embedded PostgreSQL")
    parser.add_argument("--sweep-concurrency", default="", help="e.g. 1,4,16,64")
    parser.add_argument("--sweep-workers", default="", help="e.g. 1,2,4 worker processes")
    parser.add_argument("--sweep-n", type=int, default=200, help="tasks per sweep point")
    args = parser.parse_args()

    peer = args.peer_dir.resolve()
    work = Path(tempfile.mkdtemp(prefix="gp-vs-bs-"))
    templates = work / "templates"
    templates.mkdir()
    shutil.copy(peer / "goldenpath-log-only.yaml", templates / "log-only.yaml")
    log = work / "servers.log"
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M:%S %Z')}, {os.cpu_count()} cores, load "
        f"{os.getloadavg()[0]:.1f}; logs and raw JSON in {work}"
    )
    small = ["-n", str(args.n), "--warmup", str(args.warmup), "--dry-runs", str(args.n)]
    big = [
        "-n",
        str(args.big_n),
        "--concurrency",
        "50",
        "--warmup",
        str(args.warmup),
        "--phases",
        "concurrent",
    ]
    with platform_database(args.database_server) as database_url:
        setup = GoldenPathSetup(templates, work / "data", database_url, free_port(), free_port())
        pgdata = None if database_url else work / "data" / "postgres"
        starts: dict[str, float] = {}
        backstage = start_backstage(peer, log)
        starts["backstage"] = backstage.started_in
        ours = start_goldenpath(setup, log)
        starts["goldenpath_first"] = ours.started_in
        ours.stop()
        ours = start_goldenpath(setup, log)
        starts["goldenpath_restart"] = ours.started_in
        print(
            f"start to first request: Backstage {starts['backstage']:.1f} s, Golden Path "
            f"{starts['goldenpath_first']:.1f} s first, "
            f"{starts['goldenpath_restart']:.1f} s restart"
        )
        results: dict[str, list[dict[str, Any]]] = {"backstage": [], "goldenpath": []}
        try:
            for round_no in range(args.rounds):
                order = [backstage, ours] if round_no % 2 == 0 else [ours, backstage]
                print(f"round {round_no + 1}: {order[0].name} first, load {os.getloadavg()[0]:.1f}")
                for side in order:
                    found = harness(peer, side, work / f"{side.name}-{round_no}.json", *small)
                    found["big"] = harness(
                        peer, side, work / f"{side.name}-{round_no}-big.json", *big
                    ).get("concurrent", {})
                    results[side.name].append(found)
            print_table(results, args.big_n, starts)
            sent = sum(r.get("big", {}).get("tasks", 0) for r in results["goldenpath"])
            print(f"\nresident memory after {sent + 3 * args.rounds * args.n}+ requests each:")
            for side, data in ((backstage, None), (ours, pgdata)):
                mib = memory_of(side, data)
                parts = ", ".join(f"{k} {rss:.0f}/{pss:.0f}" for k, (rss, pss) in mib.items())
                rss_sum = sum(rss for rss, _ in mib.values())
                pss_sum = sum(pss for _, pss in mib.values())
                print(f"  {side.name}: RSS {rss_sum:.0f} MiB, PSS {pss_sum:.0f} MiB ({parts})")
        finally:
            ours.stop()
            backstage.stop()
        sweep(peer, setup, log, work, args)
    print(f"(raw JSON in {work})")


def sweep(peer: Path, setup: GoldenPathSetup, log: Path, work: Path, args: Any) -> None:
    """Throughput of ``--sweep-n`` requests by 50 clients against the worker's settings."""
    points: list[tuple[str, int | None, int | None]] = []
    points += [
        (f"concurrency {c}", int(c), None) for c in filter(None, args.sweep_concurrency.split(","))
    ]
    points += [
        (f"{w} worker process(es)", None, int(w))
        for w in filter(None, args.sweep_workers.split(","))
    ]
    if not points:
        return
    print("\n| worker setting | throughput /s | e2e median ms | p95 ms |\n|---|---|---|---|")
    for label, concurrency, processes in points:
        server = start_goldenpath(setup, log, concurrency=concurrency, processes=processes)
        try:
            found = harness(
                peer,
                server,
                work / f"sweep-{label.replace(' ', '_')}.json",
                "-n",
                str(args.sweep_n),
                "--concurrency",
                "50",
                "--warmup",
                "5",
                "--phases",
                "concurrent",
            ).get("concurrent", {})
        finally:
            server.stop()
        print(
            f"| {label} | {found.get('throughput_tasks_per_s', float('nan')):.1f} | "
            f"{found.get('e2e_ms_median', float('nan')):,.0f} | "
            f"{found.get('e2e_ms_p95', float('nan')):,.0f} |"
        )


if __name__ == "__main__":
    main()
