"""A worker on its own event loop in a background thread, for embedding the platform in a
process that has other work on its main thread (tests, benchmarks, notebooks)."""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING

from goldenpath.execution.worker import run_worker, worker_options

if TYPE_CHECKING:
    from goldenpath.app import Platform


class WorkerThread:
    def __init__(self, platform: Platform, *, concurrency: int = 2) -> None:
        self._platform = platform
        self._concurrency = concurrency
        self._loop = asyncio.new_event_loop()
        # Created here, bound to the worker's loop when first awaited there (Python >= 3.10).
        self._stop = asyncio.Event()
        self._thread = threading.Thread(target=self._run, name="goldenpath-worker", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        options = worker_options(self._platform.settings, concurrency=self._concurrency)
        try:
            self._loop.run_until_complete(
                run_worker(self._platform.queue, options, stop=self._stop)
            )
        finally:
            self._loop.close()

    def start(self) -> WorkerThread:
        if not self._thread.is_alive():
            self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=timeout)

    def __enter__(self) -> WorkerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
