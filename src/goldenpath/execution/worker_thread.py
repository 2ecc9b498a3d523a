"""A worker on its own event loop in a background thread, for embedding the platform in a
process that has other work on its main thread (tests, benchmarks, notebooks)."""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from goldenpath.app import Platform


class WorkerThread:
    def __init__(self, platform: Platform, *, concurrency: int = 2) -> None:
        self._platform = platform
        self._concurrency = concurrency
        self._loop = asyncio.new_event_loop()
        self._task: asyncio.Task[None] | None = None
        self._thread = threading.Thread(target=self._run, name="goldenpath-worker", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        settings = self._platform.settings
        self._task = self._loop.create_task(
            self._platform.queue.run_worker(
                concurrency=self._concurrency,
                heartbeat_seconds=settings.worker_heartbeat_seconds,
                stalled_after_seconds=settings.stalled_after_seconds,
                install_signal_handlers=False,
            )
        )
        try:
            self._loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            pass
        finally:
            self._loop.close()

    def start(self) -> WorkerThread:
        if not self._thread.is_alive():
            self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        if self._task is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(timeout=timeout)

    def __enter__(self) -> WorkerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
