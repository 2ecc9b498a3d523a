"""The sandbox: local stand-ins for the starter paths' backends, to try everything on a laptop.

``goldenpath up --sandbox`` (or ``sandbox: true`` in goldenpath.yaml, ``GOLDENPATH_SANDBOX``)
starts them with the platform and stops them with it:

- ``aws``: moto's server (EC2, S3, ...) on a free loopback port, in memory: what it holds is
  gone when the platform stops;
- ``postgres``: the platform's own PostgreSQL; ``git``: local repositories served by the
  platform; ``ci``: secrets of those repositories, for their hooks (`actions.ci.local`);
- ``redis`` and ``mysql``: only when a server answers on 127.0.0.1:6379 / :3306 without a
  password; otherwise those paths stay "needs setup".

In a sandbox these names are always the stand-ins: a backend of the same name in the settings is
ignored (and the banner says so), so nothing made in a sandbox reaches a real account.
Everything the platform shows is labelled as a sandbox.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from goldenpath.backend_check import check_backend
from goldenpath.errors import ConfigurationError
from goldenpath.settings import BackendSettings, Settings

INSTALL_HINT = "pip install 'goldenpath[sandbox]'"
REGION = "eu-west-1"
REDIS_DSN = "redis://127.0.0.1:6379/0"
MYSQL_DSN = "mysql://root@127.0.0.1:3306/"
PROBE_TIMEOUT_SECONDS = 2.0
# The names the sandbox provides; `postgres` and `git` are the platform's defaults (app.py).
STAND_IN_NAMES = ("aws", "ci", "git", "postgres", "redis", "mysql")


@dataclass
class Sandbox:
    """The running stand-ins; `stop` ends them."""

    backends: dict[str, BackendSettings]
    # What each stand-in is, one line each, for the start-up banner.
    notes: list[str] = field(default_factory=list)
    _stops: list[Callable[[], None]] = field(default_factory=list)

    def apply(self, settings: Settings) -> Settings:
        """``settings`` with the stand-ins in place of the backends of their names."""
        kept = {n: b for n, b in settings.backends.items() if n not in STAND_IN_NAMES}
        return settings.model_copy(update={"backends": {**kept, **self.backends}})

    def stop(self) -> None:
        while self._stops:
            self._stops.pop()()


def start_sandbox(
    settings: Settings, *, redis_dsn: str = REDIS_DSN, mysql_dsn: str = MYSQL_DSN
) -> Sandbox:
    """Start the stand-ins; refuses at once without the ``sandbox`` extra installed."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        raise ConfigurationError(
            problem=f"the sandbox needs moto's server: {INSTALL_HINT} (then run "
            "`goldenpath up --sandbox` again)"
        ) from None
    ignored = sorted(n for n in settings.backends if n in STAND_IN_NAMES)
    sandbox = Sandbox(backends={})
    if ignored:
        sandbox.notes.append(f"ignored (replaced by stand-ins): backends {', '.join(ignored)}")
    # moto's werkzeug request log would flood the platform's log.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    sandbox._stops.append(server.stop)
    try:
        _add_stand_ins(sandbox, server, settings, {"redis": redis_dsn, "mysql": mysql_dsn})
    except BaseException:
        sandbox.stop()
        raise
    return sandbox


def _add_stand_ins(
    sandbox: Sandbox, server: Any, settings: Settings, found_servers: dict[str, str]
) -> None:
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    sandbox.backends["aws"] = BackendSettings(
        kind="aws",
        region=REGION,
        endpoint_url=endpoint,
        access_key_id="sandbox",
        secret_access_key="sandbox",  # noqa: S106 - moto takes any credentials
    )
    sandbox.notes.append(f"aws:      moto at {endpoint} (in memory; gone when the platform stops)")
    sandbox.backends["ci"] = BackendSettings(kind="ci", provider="local")
    sandbox.notes.append("ci:       secrets of the local repositories (local/<name>), for hooks")
    sandbox.notes.append(f"git:      local repositories, served at {settings.url.rstrip('/')}/git")
    sandbox.notes.append("postgres: the platform's own PostgreSQL server")
    for name, dsn in found_servers.items():
        found = BackendSettings(kind=name, dsn=dsn)
        probe = check_backend(
            name, found, data_dir=settings.data_dir, timeout=PROBE_TIMEOUT_SECONDS
        )
        if probe.reachable:
            sandbox.backends[name] = found
            sandbox.notes.append(f"{name + ':':<9} {probe.detail}")
        else:
            sandbox.notes.append(f"{name + ':':<9} needs setup (nothing answers: {probe.detail})")
