"""The status poll's cost on the API: CPU time of `goldenpath up`'s API process per
``GET /api/v1/requests/{id}`` (the call every client repeats while it waits), against the same
number of ``GET /healthz`` (the bare HTTP round trip: uvicorn, no route work) in the same run.

One `goldenpath up` on a fresh embedded data dir; one `postgres-database` request made and
finished first; then ``--gets`` sequential keep-alive GETs of each kind, alternating the kinds
over ``--rounds`` rounds. The API's CPU time is read from ``/proc/<pid>/stat``.

Run: .venv/bin/python bench/status_poll_cpu.py [--gets 3000] [--rounds 4]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from scratch import free_port

GOLDENPATH = Path(sys.executable).with_name("goldenpath")
TOKEN = "gp_benchstatus1_" + "C" * 43  # the token format: 12 characters, then 43
TEAM = "bench"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def per_get_ms(client: httpx.Client, pid: int, path: str, gets: int) -> tuple[float, float]:
    """(API CPU ms, wall ms) per GET of ``path``."""
    cpu, wall = cpu_seconds(pid), time.perf_counter()
    for _ in range(gets):
        client.get(path).raise_for_status()
    return (
        (cpu_seconds(pid) - cpu) / gets * 1000,
        (time.perf_counter() - wall) / gets * 1000,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gets", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=4)
    options = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="gp-bench-poll-"))
    port = free_port()
    env = {
        **os.environ,
        "GOLDENPATH_DATA_DIR": str(scratch / "data"),
        "GOLDENPATH_PORT": str(port),
        "GOLDENPATH_EMBEDDED_PORT": str(free_port()),
        "GOLDENPATH_BOOTSTRAP_TOKEN": TOKEN,
    }
    log = (scratch / "up.log").open("wb")
    server = subprocess.Popen([str(GOLDENPATH), "up"], env=env, stdout=log, stderr=log)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as client:
            request_id = finished_request(client, server, scratch / "up.log")
            poll = f"/api/v1/requests/{request_id}"
            size = len(client.get(poll).content)
            for path in (poll, "/healthz"):  # warm-up
                per_get_ms(client, server.pid, path, 200)
            results: dict[str, list[tuple[float, float]]] = {poll: [], "/healthz": []}
            for _ in range(options.rounds):
                for path in results:
                    results[path].append(per_get_ms(client, server.pid, path, options.gets))
    finally:
        server.terminate()
        server.wait(timeout=60)
    shutil.rmtree(scratch, ignore_errors=True)  # kept, with the server's log, after a failure
    load = os.getloadavg()[0]
    print(f"{options.rounds} rounds of {options.gets} sequential GETs each, load {load:.1f}")
    print(f"{'':34}{'API CPU ms/GET':>16}{'wall ms/GET':>14}")
    for path, label in (
        (poll, f"status poll ({size} B view)"),
        ("/healthz", "bare round trip (/healthz)"),
    ):
        cpu = statistics.median(c for c, _ in results[path])
        wall = statistics.median(w for _, w in results[path])
        spread = f"{min(c for c, _ in results[path]):.2f}-{max(c for c, _ in results[path]):.2f}"
        print(f"{label:34}{cpu:>9.2f} ({spread}){wall:>10.2f}")


def finished_request(client: httpx.Client, server: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + 120
    while True:
        if server.poll() is not None:
            raise SystemExit(f"goldenpath up exited {server.returncode} (its log: {log})")
        try:
            if client.get("/healthz").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("goldenpath up did not answer within 120 s")
        time.sleep(0.2)
    client.post("/api/v1/teams", json={"name": TEAM}).raise_for_status()
    made = client.post(
        "/api/v1/requests",
        json={"template": "postgres-database", "team": TEAM, "parameters": {"name": "poll_bench"}},
    )
    made.raise_for_status()
    request_id = str(made.json()["id"])
    while client.get(f"/api/v1/requests/{request_id}").json()["status"] != "succeeded":
        time.sleep(0.1)
    return request_id


if __name__ == "__main__":
    main()
