"""Running one Terraform command: its output streamed line by line, its time bounded.

Terraform runs in a session (process group) of its own, so that a timeout or a cancellation
reaches everything it started (providers, ``local-exec`` shells): first SIGINT to the group,
which Terraform answers by finishing in-flight operations, saving state and releasing its lock;
then, after a grace period, SIGKILL. Where ``setpriv`` exists the child also gets SIGINT when
the worker thread that started it dies, so a killed worker does not leave Terraform running on
its own for minutes.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from goldenpath.errors import ActionError

# How long Terraform may take to stop cleanly after SIGINT before the group is killed.
GRACE_SECONDS = 10.0
_SETPRIV = shutil.which("setpriv")

LineSink = Callable[[str, str], None]
"""Receives each output line and the stream it came from (``stdout`` or ``stderr``)."""


@dataclass(frozen=True)
class Deadline:
    """When an operation's time is up (``time.monotonic()``), and the budget it was given."""

    at: float
    seconds: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds, seconds)

    @property
    def remaining(self) -> float:
        return self.at - time.monotonic()


@dataclass(frozen=True)
class Completed:
    exit_code: int
    stdout: str
    stderr: str


class TerraformTimeout(ActionError):
    """terraform {command} timed out after {seconds:g} s and was stopped."""


class TerraformCancelled(ActionError):
    """terraform {command} was cancelled and stopped."""


def run(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    deadline: Deadline,
    on_line: LineSink,
    cancel: threading.Event | None = None,
    grace_seconds: float = GRACE_SECONDS,
) -> Completed:
    """Run ``argv`` until it exits, the deadline passes, or ``cancel`` is set.

    ``on_line`` is called on the calling thread, never on a reader thread, so it may write to
    the step's journal. Both streams are also kept whole for the caller.
    """
    command = argv[1] if len(argv) > 1 else argv[0]
    wrapper = [_SETPRIV, "--pdeathsig", "INT", "--"] if _SETPRIV else []
    process = subprocess.Popen(
        [*wrapper, *argv],
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    lines: queue.Queue[tuple[str, str | None]] = queue.Queue()
    readers = [
        _start_reader(process.stdout, "stdout", lines),
        _start_reader(process.stderr, "stderr", lines),
    ]
    kept: dict[str, list[str]] = {"stdout": [], "stderr": []}
    open_streams = len(readers)
    try:
        while open_streams:
            if cancel is not None and cancel.is_set():
                _stop_group(process, grace_seconds)
                raise TerraformCancelled(command=command)
            remaining = deadline.remaining
            if remaining <= 0:
                _stop_group(process, grace_seconds)
                raise TerraformTimeout(command=command, seconds=deadline.seconds)
            try:
                stream, line = lines.get(timeout=min(remaining, 0.2))
            except queue.Empty:
                continue
            if line is None:
                open_streams -= 1
                continue
            kept[stream].append(line)
            on_line(line.rstrip("\n"), stream)
        exit_code = process.wait(timeout=max(deadline.remaining, 0.1))
    except subprocess.TimeoutExpired:
        _stop_group(process, grace_seconds)
        raise TerraformTimeout(command=command, seconds=deadline.seconds) from None
    except BaseException:
        # Whatever stops us (KeyboardInterrupt, a failing sink) must not leave Terraform behind.
        if process.returncode is None:
            _stop_group(process, grace_seconds)
        raise
    finally:
        for reader in readers:
            reader.join(timeout=1)
    return Completed(exit_code, "".join(kept["stdout"]), "".join(kept["stderr"]))


def _start_reader(
    stream: IO[str] | None, name: str, lines: queue.Queue[tuple[str, str | None]]
) -> threading.Thread:
    def pump() -> None:
        assert stream is not None
        with stream:
            for line in stream:
                lines.put((name, line))
        lines.put((name, None))

    thread = threading.Thread(target=pump, name=f"terraform-{name}", daemon=True)
    thread.start()
    return thread


def _stop_group(process: subprocess.Popen[str], grace_seconds: float) -> None:
    """SIGINT to the whole group, then SIGKILL to what is left of it after the grace period."""
    group = process.pid  # start_new_session: the child leads its own group
    _signal_group(group, signal.SIGINT)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace_seconds)
    # Children Terraform started (a provisioner's shell) may outlive it: kill the group anyway.
    _signal_group(group, signal.SIGKILL)
    process.wait()


def _signal_group(group: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, sig)
