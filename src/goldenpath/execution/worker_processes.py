"""The worker processes `goldenpath up` runs beside its API: started with it, started again when
one dies, stopped with it.

Why processes and not a task on the API's event loop: one Python process runs one thread of
Python at a time. With the worker on the API's loop, every job's await waited behind the HTTP
traffic (50 clients polling), and a one-step job spent seconds in the queue for a run of 10 ms;
in a process of its own the worker gets a core of its own (see docs/benchmarks.md, issue 12).

Each is ``goldenpath worker --exit-with <this pid>`` with this process's environment and settings
file: the same platform database (an embedded server started here is found running and reused,
never stopped, by the worker), the same settings. A worker ends by itself if this process
disappears without stopping it (killed with SIGKILL), so none outlives the platform.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

logger = logging.getLogger(__name__)

# A worker that dies this soon after its start is failing to start, not crashing at random:
# wait longer before the next try.
EARLY_DEATH_SECONDS = 10.0
RESTART_WAITS = (1.0, 2.0, 5.0, 10.0, 30.0)


class WorkerProcesses:
    def __init__(self, count: int, *, config: Path | None, grace_seconds: float) -> None:
        self._count = count
        self._config = config
        self._grace = grace_seconds
        self._processes: list[subprocess.Popen[bytes]] = []
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._watcher = threading.Thread(
            target=self._watch, name="goldenpath-worker-processes", daemon=True
        )

    def command(self) -> list[str]:
        command = [
            sys.executable,
            "-m",
            "goldenpath.cli",
            "worker",
            "--exit-with",
            str(os.getpid()),
        ]
        if self._config is not None:
            command += ["--config", str(self._config)]
        return command

    def start(self) -> WorkerProcesses:
        if self._count and not self._watcher.is_alive():
            with self._lock:
                self._processes = [self._spawn() for _ in range(self._count)]
            self._watcher.start()
        return self

    def _spawn(self) -> subprocess.Popen[bytes]:
        # Its own process group: a Ctrl-C in the terminal reaches this process only, which
        # then stops the workers in order (after the API has drained its requests).
        return subprocess.Popen(self.command(), start_new_session=True)

    def _watch(self) -> None:
        failures = [0] * self._count
        started = [time.monotonic()] * self._count
        while not self._stopping.wait(0.5):
            for slot in range(self._count):
                with self._lock:
                    process = self._processes[slot]
                code = process.poll()
                if code is None or self._stopping.is_set():
                    continue
                early = time.monotonic() - started[slot] < EARLY_DEATH_SECONDS
                failures[slot] = failures[slot] + 1 if early else 1
                wait = RESTART_WAITS[min(failures[slot], len(RESTART_WAITS)) - 1]
                logger.error(
                    "worker process %d exited with %s; starting another in %.0f s",
                    process.pid,
                    code,
                    wait,
                )
                if self._stopping.wait(wait):
                    return
                with self._lock:
                    if self._stopping.is_set():  # `stop` has its list: start none it misses
                        return
                    self._processes[slot] = self._spawn()
                started[slot] = time.monotonic()

    def stop(self) -> None:
        """SIGTERM to each: it claims nothing new and lets running jobs finish for the grace
        period, then hands the rest back to the queue. Killed if it takes longer still."""
        with self._lock:
            self._stopping.set()
            processes = list(self._processes)
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=self._grace + 10)
            except subprocess.TimeoutExpired:
                logger.warning("worker process %d did not stop; killing it", process.pid)
                process.kill()
                process.wait()
        if self._watcher.is_alive():
            self._watcher.join(timeout=5)


def watch_parent(parent: int) -> None:
    """Send this process SIGTERM once ``parent`` is gone (this process was reparented: also
    when that happened before this was called), from a thread of its own: the worker then
    stops as it does when asked to."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        logger.warning("the platform process %d is gone; the worker stops", parent)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="goldenpath-parent-watch", daemon=True).start()
