"""Watching work happen: live step status and log lines of a request, and a resource's teardown.

The API is polled (about every 0.3 s); a status line per step is redrawn in place with Rich
`Live`, and new log lines are printed above it as they arrive.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from goldenpath.cli import output
from goldenpath.cli.client import ApiClient

POLL_SECONDS = 0.3
REQUEST_DONE = frozenset({"succeeded", "failed", "cancelled", "rejected"})
RESOURCE_DONE = frozenset({"destroyed", "failed"})
_STEP_ICONS = {
    "pending": "·",
    "running": ">",
    "succeeded": "✓",
    "failed": "✗",
    "rolled_back": "↺",
    "rollback_failed": "✗",
    "skipped": "-",
}


def follow_request(client: ApiClient, request_id: str, console: Console) -> dict[str, Any]:
    """Show the request's progress until it finishes; returns its final view."""
    with _carries_on(f"request {request_id} carries on: goldenpath requests show {request_id}"):
        return _follow_request(client, request_id, console)


def _follow_request(client: ApiClient, request_id: str, console: Console) -> dict[str, Any]:
    after = 0
    request = client.request(request_id)
    with Live(_progress(request), console=console, refresh_per_second=10, transient=False) as live:
        while True:
            # Logs after status: once the status is final, the logs fetched next are complete.
            for line in client.logs(request_id, after):
                after = max(after, int(line["id"]))
                live.console.print(_log_line(line), soft_wrap=True)
            live.update(_progress(request))
            if request["status"] in REQUEST_DONE:
                break
            time.sleep(POLL_SECONDS)
            request = client.request(request_id)
    if not console.is_terminal:
        console.line()  # Live leaves its last frame without a line end when not on a terminal.
    return request


def follow_resource(client: ApiClient, resource_id: str, console: Console) -> dict[str, Any]:
    """Poll a resource until it is destroyed or its destruction failed; returns its last view."""
    resource = client.resource(resource_id)
    note = f"its destruction carries on: goldenpath resources show {resource_id}"
    with _carries_on(note), console.status(f"Destroying {resource['kind']} '{resource['name']}'…"):
        while resource["state"] not in RESOURCE_DONE:
            time.sleep(POLL_SECONDS)
            resource = client.resource(resource_id)
    return resource


@contextmanager
def _carries_on(note: str) -> Iterator[None]:
    # Ctrl-C stops the watching, not the work: the server goes on with it (exit 130).
    try:
        yield
    except KeyboardInterrupt:
        output.err.print(f"Stopped watching; {note}", markup=False, soft_wrap=True)
        raise


def _progress(request: Mapping[str, Any]) -> Group:
    status = request["status"]
    header = Text(f"Request {request['id']} ", style="bold") + output.status_text(status)
    steps = Table.grid(padding=(0, 1))
    for step in request.get("steps", []):
        steps.add_row(_step_icon(step["status"]), *_step_cells(step))
    if status in REQUEST_DONE:
        # The steps only: the command says how the request ended once, after them.
        return Group(steps)
    return Group(Spinner("dots", text=header), steps)


def _step_icon(status: str) -> Text | Spinner:
    if status == "running":
        return Spinner("dots", style="cyan")
    return Text(_STEP_ICONS.get(status, "?"), style=output.STATUS_STYLES.get(status, ""))


def _step_cells(step: Mapping[str, Any]) -> tuple[Text, Text, Text]:
    seconds = step.get("duration_seconds")
    timing = Text(f"{seconds:.1f}s" if seconds is not None else "", style="dim")
    return Text(step["name"]), output.status_text(step["status"]), timing


def _log_line(line: Mapping[str, Any]) -> Text:
    style = {"error": "red", "warning": "yellow"}.get(str(line.get("level")), "dim")
    stamp = str(line.get("at", ""))[11:19]
    return Text(f"{stamp} ", style="dim") + Text(f"[{line['step']}] {line['message']}", style=style)
