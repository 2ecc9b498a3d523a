"""Ctrl-C while `--wait` follows a request stops the watching, not the request: the CLI exits 130
(interrupted) and says how to follow the request, which carries on to its end."""

from __future__ import annotations

import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.e2e.conftest import ADMIN_TOKEN, Cli, Server, clean_environment, goldenpath_command

SLOW = ("-p", "pause:=8")  # long enough to press Ctrl-C while it runs


def wait_for_status(cli: Cli, name: str, wanted: set[str]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        found = [
            r for r in cli("requests", "list", "--json").json() if r["parameters"]["name"] == name
        ]
        if found and found[0]["status"] in wanted:
            return dict(found[0])
        assert time.monotonic() < deadline, f"the request of {name} is not {wanted}: {found}"
        time.sleep(0.2)


def test_ctrl_c_during_wait_exits_130_and_the_request_carries_on(
    templates_server: Server, new_name: Callable[[], str], tmp_path: Path
) -> None:
    cli = Cli(url=templates_server.url, cwd=tmp_path, token=ADMIN_TOKEN)
    name = new_name()
    with subprocess.Popen(
        [*goldenpath_command(), "request", "slow-database", "-p", f"name={name}", *SLOW, "--wait"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=clean_environment(GOLDENPATH_URL=templates_server.url, GOLDENPATH_TOKEN=ADMIN_TOKEN),
    ) as watching:
        assert watching.stdout is not None
        # Ctrl-C once the CLI is watching: it has printed the first step's log line.
        seen: list[str] = []
        reader = threading.Thread(target=lambda: seen.extend(iter(watching.stdout.readline, "")))
        reader.start()
        deadline = time.monotonic() + 60
        while not any("created database" in line for line in seen):
            assert watching.poll() is None, f"exited {watching.returncode}: {seen}"
            assert time.monotonic() < deadline, f"the CLI never showed the first step: {seen}"
            time.sleep(0.1)
        # At once: the step pauses 8 s, and on a loaded machine each CLI call below takes
        # seconds (a status check first could come after the request's end).
        watching.send_signal(signal.SIGINT)
        err = watching.stderr.read() if watching.stderr else ""
        watching.wait(timeout=30)
        reader.join(timeout=30)
        out = "".join(seen)

    assert watching.returncode == 130, out + err
    done = wait_for_status(cli, name, {"succeeded", "failed", "cancelled"})
    assert f"Stopped watching; request {done['id']} carries on" in err
    assert f"goldenpath requests show {done['id']}" in err
    assert "Traceback" not in out + err
    assert done["status"] == "succeeded", done
    assert re.fullmatch(r"[0-9a-f-]{36}", done["id"])
