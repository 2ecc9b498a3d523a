"""Terraform's ``http`` state backend, served by the process that runs Terraform.

One server per operation on one workspace: it listens on a random loopback port, for the
length of the operation only, and answers only requests with the operation's random
credential (HTTP basic auth, handed to Terraform as ``TF_HTTP_USERNAME``/``TF_HTTP_PASSWORD``
in its environment: never on a command line, never in a file). Behind it is the platform's
`StateStore`, which seals the state with the platform's key.

Why the worker and not the API: the worker is where Terraform runs, so the state never
crosses the network in clear, workers need no route to the API, and the credential cannot
outlive the run that was given it.

The protocol is Terraform's (``backend/remote-state/http``): ``GET`` the state (404 when
there is none), ``POST`` it (``?ID=`` the lock id when locked), ``DELETE`` it, and ``LOCK`` /
``UNLOCK`` with the lock info as the body; a held lock is answered ``423 Locked`` with the
holder's lock info. Locks are leased rows, renewed while this server runs and dropped when
it stops, so a lock left by a killed Terraform or a dead worker never blocks for good.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from goldenpath.actions.state_store import StateStore
from goldenpath.actions.terraform.process import Deadline
from goldenpath.actions.terraform.state import WorkspaceBusy

PATH_PREFIX = "/internal/terraform/state/"
USERNAME = "goldenpath"
OPERATION = "operation"
STATE = "state"
_MAX_STATE_BYTES = 256 * 1024 * 1024
# How often the serving loop looks whether it was asked to stop: the operation waits that
# long at its end (socketserver's default, 0.5 s, was a third of a Terraform request's time).
_SHUTDOWN_POLL_SECONDS = 0.01

logger = logging.getLogger(__name__)


class StateServer:
    """The ``http`` backend for ``workspace``; a context manager that serves while open."""

    def __init__(self, store: StateStore, workspace: str, *, who: str) -> None:
        self.store = store
        self.workspace = workspace
        self.who = who
        self.holder = secrets.token_hex(16)
        self._password = secrets.token_urlsafe(32)
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    # --- lifetime ---------------------------------------------------------------------------

    def __enter__(self) -> StateServer:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        self._server = server
        self._threads = [
            threading.Thread(
                target=server.serve_forever,
                args=(_SHUTDOWN_POLL_SECONDS,),
                name="tfstate-http",
                daemon=True,
            ),
            threading.Thread(target=self._renew_leases, name="tfstate-lease", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self.store.release_all(self.holder)

    @property
    def address(self) -> str:
        assert self._server is not None, "the state server is not running"
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}{PATH_PREFIX}{self.workspace}"

    def environment(self) -> dict[str, str]:
        """What Terraform needs to use this server, for its environment only."""
        return {
            "TF_HTTP_ADDRESS": self.address,
            "TF_HTTP_LOCK_ADDRESS": self.address,
            "TF_HTTP_UNLOCK_ADDRESS": self.address,
            "TF_HTTP_LOCK_METHOD": "LOCK",
            "TF_HTTP_UNLOCK_METHOD": "UNLOCK",
            "TF_HTTP_USERNAME": USERNAME,
            "TF_HTTP_PASSWORD": self._password,
        }

    def outputs(self) -> dict[str, Any]:
        """The root module's outputs in the state this server keeps, shaped as ``terraform
        output -json`` prints them (which reads the same state), without starting Terraform."""
        stored = self.store.read(self.workspace)
        document = json.loads(stored) if stored else {}
        found = document.get("outputs") if isinstance(document, dict) else None
        return {
            name: {
                "sensitive": bool(output.get("sensitive", False)),
                "type": output.get("type"),
                "value": output.get("value"),
            }
            for name, output in (found or {}).items()
            if isinstance(output, dict)
        }

    def after_command(self) -> None:
        """A Terraform that was killed could not unlock: its command is over, so its lock is."""
        try:
            self.store.release_all(self.holder, STATE)
        except Exception:  # never hide the command's own outcome; the lease will lapse
            logger.warning("could not drop the state lock of workspace '%s'", self.workspace)

    @contextmanager
    def operation(
        self, what: str, deadline: Deadline, log: Callable[[str], None]
    ) -> Iterator[None]:
        """Hold the workspace for one platform operation: two never run on it at once."""
        info = {
            "ID": self.holder,
            "Operation": f"goldenpath {what}",
            "Who": self.who,
            "Created": datetime.now(UTC).isoformat(),
        }
        delay = 0.2
        while (
            held := self.store.acquire(self.workspace, OPERATION, self.holder, info)
        ) is not None:
            if deadline.remaining <= delay:
                raise WorkspaceBusy(workspace=self.workspace, seconds=deadline.seconds)
            if delay == 0.2:
                log(
                    f"waiting for another operation on workspace '{self.workspace}' to finish "
                    f"({_describe(held)})"
                )
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
        try:
            yield
        finally:
            self.store.release(self.workspace, OPERATION, self.holder)

    def _renew_leases(self) -> None:
        interval = max(self.store.lease_seconds / 4, 0.5)
        while not self._stopping.wait(interval):
            try:
                self.store.renew(self.holder)
            except Exception:  # the database may be restarting; the next round retries
                logger.warning("could not renew the leases of workspace '%s'", self.workspace)

    # --- the protocol -----------------------------------------------------------------------

    def authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except ValueError:
            return False
        return hmac.compare_digest(user, USERNAME) and hmac.compare_digest(
            password.encode(), self._password.encode()
        )

    def get(self) -> tuple[int, bytes]:
        state = self.store.read(self.workspace)
        return (HTTPStatus.OK, state) if state is not None else (HTTPStatus.NOT_FOUND, b"")

    def post(self, body: bytes, lock_id: str | None, md5: str | None) -> tuple[int, bytes]:
        if (
            md5 is not None
            and base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode() != md5
        ):
            return _problem(HTTPStatus.BAD_REQUEST, "Content-MD5 does not match the body")
        try:
            document = json.loads(body)
        except ValueError:
            return _problem(HTTPStatus.BAD_REQUEST, "the state is not JSON")
        if not isinstance(document, dict):
            return _problem(HTTPStatus.BAD_REQUEST, "the state is not a JSON object")
        refused = self._refused_by_locks(lock_id)
        if refused is not None:
            return refused
        self.store.write(self.workspace, body)
        return HTTPStatus.OK, b""

    def delete(self) -> tuple[int, bytes]:
        refused = self._refused_by_locks(None)
        if refused is not None:
            return refused
        self.store.delete(self.workspace)
        return HTTPStatus.OK, b""

    def lock(self, body: bytes) -> tuple[int, bytes]:
        info = _lock_info(body)
        if info is None:
            return _problem(HTTPStatus.BAD_REQUEST, "the lock info is not a JSON object")
        operation = self.store.holding(self.workspace, OPERATION)
        if operation is not None and operation[0] != self.holder:
            return _operation_holds(operation[1])
        held = self.store.acquire(self.workspace, STATE, self.holder, info)
        if held is not None:
            return HTTPStatus.LOCKED, json.dumps(held).encode()
        return HTTPStatus.OK, b""

    def unlock(self, body: bytes) -> tuple[int, bytes]:
        info = _lock_info(body) or {}
        held = self.store.holding(self.workspace, STATE)
        if held is None:
            return HTTPStatus.OK, b""
        if info.get("ID") not in (None, "", held[1].get("ID")):
            return HTTPStatus.LOCKED, json.dumps(held[1]).encode()
        self.store.release(self.workspace, STATE, held[0])
        return HTTPStatus.OK, b""

    def _refused_by_locks(self, lock_id: str | None) -> tuple[int, bytes] | None:
        """A write while someone else holds the state or the workspace is refused."""
        held = self.store.holding(self.workspace, STATE)
        if held is not None and held[1].get("ID") != lock_id:
            return HTTPStatus.LOCKED, json.dumps(held[1]).encode()
        operation = self.store.holding(self.workspace, OPERATION)
        if held is None and operation is not None and operation[0] != self.holder:
            return _operation_holds(operation[1])
        return None


def _handler_for(state: StateServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "goldenpath-tfstate"

        def do_GET(self) -> None:
            self._serve(lambda body, query: state.get())

        def do_POST(self) -> None:
            self._serve(
                lambda body, query: state.post(
                    body, query.get("ID", [None])[0], self.headers.get("Content-MD5")
                )
            )

        def do_DELETE(self) -> None:
            self._serve(lambda body, query: state.delete())

        def do_LOCK(self) -> None:
            self._serve(lambda body, query: state.lock(body))

        def do_UNLOCK(self) -> None:
            self._serve(lambda body, query: state.unlock(body))

        def _serve(
            self, answer: Callable[[bytes, dict[str, list[str]]], tuple[int, bytes]]
        ) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            if length > _MAX_STATE_BYTES:
                self._reply(*_problem(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "state too large"))
                return
            body = self.rfile.read(length) if length else b""
            if not state.authorized(self.headers.get("Authorization")):
                self._reply(HTTPStatus.UNAUTHORIZED, b"", {"WWW-Authenticate": 'Basic realm="tf"'})
                return
            if url.path != PATH_PREFIX + state.workspace:
                self._reply(*_problem(HTTPStatus.NOT_FOUND, "no such workspace on this server"))
                return
            try:
                status, content = answer(body, parse_qs(url.query))
            except Exception:
                logger.exception("terraform state %s of '%s' failed", self.command, state.workspace)
                status, content = _problem(HTTPStatus.INTERNAL_SERVER_ERROR, "state store failed")
            self._reply(status, content)

        def _reply(self, status: int, content: bytes, headers: Mapping[str, str] = {}) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(content)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("terraform state: " + format, *args)

    return Handler


def _operation_holds(info: Mapping[str, Any]) -> tuple[int, bytes]:
    """423 for a platform operation's hold; Terraform prints only the ``ID`` of the holder's
    lock info, so the ID says who holds it and why."""
    return HTTPStatus.LOCKED, json.dumps({**info, "ID": _describe(info)}).encode()


def _problem(status: int, message: str) -> tuple[int, bytes]:
    return status, json.dumps({"error": message}).encode()


def _lock_info(body: bytes) -> dict[str, Any] | None:
    try:
        info = json.loads(body or b"{}")
    except ValueError:
        return None
    return info if isinstance(info, dict) else None


def _describe(info: Mapping[str, Any]) -> str:
    return ", ".join(
        f"{key}: {info[key]}" for key in ("Who", "Operation", "Created") if key in info
    )
