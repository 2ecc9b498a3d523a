"""A step's durable journal: log lines and checkpoints, each committed at once.

Known secret values are masked in every log line, whatever the action writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from goldenpath.secretbox import SecretBox
from goldenpath.store import queries
from goldenpath.store.database import Database

MASK = "********"


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def masked(value: Any, secrets: set[str]) -> Any:
    """A copy of JSON-like data with every known secret value replaced by the mask."""
    if isinstance(value, str):
        return MASK if value in secrets else redact(value, secrets)
    if isinstance(value, dict):
        return {k: masked(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v, secrets) for v in value]
    return value


class StepJournal:
    def __init__(
        self,
        database: Database,
        box: SecretBox,
        request_id: str,
        step_id: str,
        secrets: set[str],
    ) -> None:
        self._database = database
        self._box = box
        self._request_id = request_id
        self._step_id = step_id
        self._secrets = secrets

    def log(self, message: str, level: str = "info") -> None:
        # Visible to watchers at once, but not worth a wait for the disk: a crash may lose the
        # last few log lines, never a step's status or checkpoint (those commit synchronously).
        with self._database.autocommit() as conn:
            queries.append_log_unsynced(
                conn, self._request_id, self._step_id, level, redact(message, self._secrets)
            )

    def checkpoint(self, key: str, produce: Callable[[], str]) -> str:
        with self._database.begin() as conn:
            stored = queries.get_checkpoint(conn, self._request_id, self._step_id, key)
            if stored is None:
                stored = queries.put_checkpoint(
                    conn, self._request_id, self._step_id, key, self._box.seal(produce())
                )
        value = str(self._box.open(stored))
        self._secrets.add(value)
        return value
