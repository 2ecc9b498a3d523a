"""What the AWS action tests share besides fixtures: the moto region, credentials, a journal."""

from __future__ import annotations

from collections.abc import Callable

REGION = "eu-west-1"
ACCESS_KEY_ID = "testing"
SECRET_ACCESS_KEY = "testing"


class MemoryJournal:
    """Keeps log lines, and checkpoints like the store does: the first value stored wins."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.values: dict[str, str] = {}

    def log(self, message: str, level: str) -> None:
        self.lines.append(message)

    def checkpoint(self, key: str, produce: Callable[[], str]) -> str:
        if key not in self.values:
            self.values[key] = produce()
        return self.values[key]
