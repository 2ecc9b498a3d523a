"""Running the platform: ``goldenpath up`` (the API, and its worker processes), ``goldenpath api``
(API processes only), ``goldenpath worker`` (a worker only), ``goldenpath db``.

The platform's modules are imported inside the commands, so the client commands start fast.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from goldenpath.cli import output

if TYPE_CHECKING:
    from goldenpath.app import Platform
    from goldenpath.settings import Settings
    from goldenpath.store.database import Database

db_app = typer.Typer(
    rich_markup_mode="markdown", help="The platform's own database.", no_args_is_help=True
)

ConfigFile = Annotated[
    Path | None,
    typer.Option(
        "--config",
        metavar="FILE",
        # No [brackets]: Typer's rich help reads them as markup and drops them.
        help="Settings file (else $GOLDENPATH_CONFIG, else ./goldenpath.yaml, "
        "else /etc/goldenpath/goldenpath.yaml, when present).",
    ),
]


# Not httptools, even when installed: it reads a request head of any length, where h11 refuses
# one past 16 KiB with 400 before any of it is kept.
HTTP_PARSER = "h11"

HostOption = Annotated[
    str | None, typer.Option(help="Address to listen on [default: settings.host].")
]
PortOption = Annotated[int | None, typer.Option(help="Port to listen on [default: settings.port].")]


SandboxOption = Annotated[
    bool,
    typer.Option(
        "--sandbox",
        help="Run every starter path on local stand-ins (moto as AWS, local repositories and CI "
        "secrets, this machine's Redis/MariaDB when found): for trying it out, never for "
        "production. Needs: pip install 'goldenpath[sandbox]'.",
    ),
]


def up(
    host: HostOption = None,
    port: PortOption = None,
    config: ConfigFile = None,
    sandbox: SandboxOption = False,
) -> None:
    """Run the platform: the REST API, and a worker in a process of its own (settings.
    worker_processes of them; Ctrl-C stops it all)."""
    from goldenpath.settings import load_settings, use_config_file

    use_config_file(config)
    settings = _served_at(load_settings(**_given(host=host, port=port, sandbox=sandbox or None)))
    # Before the heavy imports: a busy port is refused at once.
    refuse_busy_port(settings.host, settings.port, "the platform's HTTP port")

    stand_ins = None
    if settings.sandbox:
        from goldenpath.sandbox import start_sandbox

        stand_ins = start_sandbox(settings)
        settings = stand_ins.apply(settings)
    try:
        _run_up(settings, config, stand_ins.notes if stand_ins else None)
    finally:
        if stand_ins is not None:
            stand_ins.stop()


def _run_up(settings: Settings, config: Path | None, sandbox_notes: list[str] | None) -> None:
    import uvicorn

    from goldenpath.api.app import create_api
    from goldenpath.app import build_platform
    from goldenpath.execution.worker_processes import WorkerProcesses

    platform = build_platform(settings)
    # The sandbox's stand-ins are settings of this process only: its worker runs here.
    processes = 0 if settings.sandbox else settings.worker_processes
    workers = WorkerProcesses(
        processes, config=config, grace_seconds=settings.shutdown_grace_seconds
    )
    try:
        refuse_broken_policies(platform)
        _print_banner(platform, sandbox_notes=sandbox_notes)
        _bootstrap(platform)
        api = create_api(platform, run_worker=processes == 0, worker_processes=workers)
        # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal: make that an
        # interrupt, so the embedded PostgreSQL is stopped below instead of being orphaned.
        signal.signal(signal.SIGTERM, _interrupt)
        uvicorn.run(
            api,
            host=settings.host,
            port=settings.port,
            timeout_graceful_shutdown=_drain_seconds(settings.shutdown_grace_seconds),
            http=HTTP_PARSER,
        )
    except KeyboardInterrupt:
        pass
    finally:
        workers.stop()  # (if the API did not): before the embedded PostgreSQL they use
        platform.close()
        output.out.print("Golden Path stopped.")


def api(
    host: HostOption = None,
    port: PortOption = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="API processes (uvicorn workers) to run.")
    ] = 1,
    config: ConfigFile = None,
) -> None:
    """Run the REST API and the portal only, in WORKERS processes: no jobs run here, start
    `goldenpath worker` beside it (SIGTERM drains the requests in flight, then stops)."""
    from goldenpath.settings import load_settings, use_config_file

    use_config_file(config)
    settings = load_settings(**_given(host=host, port=port))
    refuse_sandbox(settings, "goldenpath api")
    refuse_busy_port(settings.host, settings.port, "the API's HTTP port")

    import uvicorn

    from goldenpath.app import build_platform

    # Migrations, the embedded server when no database is configured, the first admin: once,
    # here; each API process then only connects.
    platform = build_platform(settings)
    try:
        refuse_broken_policies(platform)
        _print_banner(platform, worker=False, processes=workers)
        _bootstrap(platform)
        platform.database.dispose()
        signal.signal(signal.SIGTERM, _interrupt)
        uvicorn.run(
            "goldenpath.api.process:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=workers,
            # uvicorn kills a worker process that answers no ping for this long; its start
            # (importing the platform) can take longer than uvicorn's 5 s on a loaded host, and
            # then it is killed and restarted forever.
            timeout_worker_healthcheck=60,
            timeout_graceful_shutdown=_drain_seconds(settings.shutdown_grace_seconds),
            http=HTTP_PARSER,
        )
    except KeyboardInterrupt:
        pass
    finally:
        platform.close()
        output.out.print("Golden Path API stopped.")


def worker(
    concurrency: Annotated[
        int | None,
        typer.Option(
            min=1, max=64, help="Jobs run at once [default: settings.worker_concurrency]."
        ),
    ] = None,
    config: ConfigFile = None,
    exit_with: Annotated[
        int | None, typer.Option(hidden=True, help="Stop when the process with this id ends.")
    ] = None,
) -> None:
    """Run a worker only, against the same database as the API (add as many as needed).

    It rides out database outages (reconnecting with backoff). On SIGTERM or Ctrl-C it claims
    nothing new, lets running jobs finish for settings.shutdown_grace_seconds, hands any
    still running back to the queue, and exits. SIGUSR1 prints every thread's stack."""
    import faulthandler
    import os

    import sqlalchemy as sa

    from goldenpath.app import build_platform
    from goldenpath.execution.worker import run_worker, wait_for_database, worker_options
    from goldenpath.execution.worker_processes import watch_parent
    from goldenpath.settings import load_settings, use_config_file
    from goldenpath.store.database import libpq_conninfo, sqlalchemy_url

    use_config_file(config)
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    if exit_with is not None:
        watch_parent(exit_with)
    settings = load_settings()
    refuse_sandbox(settings, "goldenpath worker")
    if settings.database_url:
        wait_for_database(libpq_conninfo(sa.make_url(sqlalchemy_url(settings.database_url))))
    platform = build_platform(settings, templates=False)
    options = worker_options(settings, concurrency=concurrency)
    try:
        refuse_broken_policies(platform)
    except BaseException:
        platform.close()
        raise
    output.out.print(
        Text(f"Golden Path worker ({options.concurrency} at once) on ")
        + Text(_describe(platform.database))
    )
    released = 0
    try:
        with asyncio.Runner(loop_factory=_fastest_loop()) as runner:
            released = runner.run(run_worker(platform.queue, options, install_signal_handlers=True))
    except KeyboardInterrupt:
        pass
    finally:
        platform.close()
        output.out.print("Worker stopped.")
    if released:
        # Their threads still run: end now, which drops their locks for the next worker.
        output.out.file.flush()
        os._exit(0)


def _fastest_loop() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop when it is installed (as uvicorn picks it for the API), else
    asyncio's own. A worker's fetching and finishing of jobs is mostly event-loop work."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _bootstrap(platform: Platform) -> None:
    settings = platform.settings
    issued = platform.directory.bootstrap(settings.bootstrap_token, settings.default_team)
    if issued is not None and not settings.bootstrap_token:
        output.out.print(
            Text("  first start: created the platform admin ", style="yellow")
            + Text(issued.user, style="bold")
            + Text(". Its API token, shown once:", style="yellow")
        )
        output.out.print(Text(f"  {issued.token}", style="bold"), soft_wrap=True)
        output.out.print(
            Text("  export GOLDENPATH_TOKEN=<token>, then `goldenpath users create ...`.")
        )


def _drain_seconds(grace: float) -> int | None:
    """uvicorn's bound on draining in-flight requests (live progress streams never end)."""
    return max(1, round(grace))


@db_app.command("upgrade")
def db_upgrade(config: ConfigFile = None) -> None:
    """Apply the database migrations up to the newest (safe to run while others start)."""
    from goldenpath.settings import load_settings, use_config_file
    from goldenpath.store.database import open_database, upgrade

    use_config_file(config)
    database = open_database(load_settings(), migrate=False)
    try:
        before = _revision(database)
        upgrade(database)
        after = _revision(database)
    finally:
        database.dispose()
        if database.embedded is not None:
            database.embedded.stop()
    where = _describe(database)
    if before == after:
        output.out.print(Text(f"{where} is up to date (revision {after})."), soft_wrap=True)
    else:
        output.out.print(
            Text(f"{where} upgraded from {before or 'empty'} to {after}."), soft_wrap=True
        )


@db_app.command("reseal-secrets")
def db_reseal_secrets(config: ConfigFile = None) -> None:
    """Encrypt every stored secret again with the newest key (after adding one in front of
    GOLDENPATH_SECRET_KEY); afterwards the old key can be dropped."""
    from goldenpath.secretbox import load_secret_box
    from goldenpath.settings import load_settings, use_config_file
    from goldenpath.store.database import open_database
    from goldenpath.store.reseal import reseal_all

    use_config_file(config)
    settings = load_settings()
    database = open_database(settings)
    try:
        counts = reseal_all(database, load_secret_box(settings.secret_key, settings.data_dir))
    finally:
        database.dispose()
        if database.embedded is not None:
            database.embedded.stop()
    total = sum(counts.values())
    output.out.print(Text(f"Resealed {total} secret values with the newest key."))
    for where, count in counts.items():
        output.out.print(Text(f"  {where}: {count}"))


@db_app.command(
    "terraform", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def db_terraform(
    ctx: typer.Context,
    workspace: Annotated[str, typer.Argument(help="The workspace (the resource's name).")],
    config: ConfigFile = None,
) -> None:
    """Run terraform in the current folder (a copy of the module) against a workspace's sealed
    state, for operators: `goldenpath db terraform svc-checkout state list`. The state is
    served to this run only, on a loopback port; a platform operation on the workspace keeps
    locking commands out."""
    import getpass
    import os
    import re
    import socket
    import subprocess

    from goldenpath.actions.terraform.action import WORKSPACE
    from goldenpath.actions.terraform.backend import resolve_backend
    from goldenpath.actions.terraform.state_server import StateServer
    from goldenpath.actions.terraform.workspace import BACKEND_OVERRIDE
    from goldenpath.errors import InvalidInput
    from goldenpath.secretbox import load_secret_box
    from goldenpath.settings import load_settings, use_config_file
    from goldenpath.store.action_state import SealedStateStore
    from goldenpath.store.database import open_database

    if not re.match(WORKSPACE, workspace):
        raise InvalidInput(field="workspace", rule=f"must match {WORKSPACE}")
    folder = Path.cwd()
    if not any(folder.glob("*.tf")):
        raise InvalidInput(field="folder", rule=f"{folder} holds no Terraform (.tf) files")
    use_config_file(config)
    settings = load_settings()
    binary = resolve_backend(settings.backends, "terraform").binary
    database = open_database(settings)
    override = folder / BACKEND_OVERRIDE
    try:
        store = SealedStateStore(database, load_secret_box(settings.secret_key, settings.data_dir))
        who = f"{getpass.getuser()}@{socket.gethostname()} (goldenpath db terraform)"
        override.write_text('terraform {\n  backend "http" {}\n}\n', encoding="utf-8")
        with StateServer(store, workspace, who=who) as server:
            env = {**os.environ, **server.environment(), "CHECKPOINT_DISABLE": "1"}
            subprocess.run(
                [str(binary), "init", "-input=false", "-reconfigure"],
                cwd=folder,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            code = subprocess.run([str(binary), *ctx.args], cwd=folder, env=env).returncode
    finally:
        override.unlink(missing_ok=True)
        database.dispose()
        if database.embedded is not None:
            database.embedded.stop()
    raise typer.Exit(code)


def refuse_busy_port(host: str, port: int, what: str) -> None:
    """Exit at once, naming the port, when something already listens there (a second
    `goldenpath up`, say), instead of starting everything else and then failing to bind."""
    from goldenpath.store.ports import port_in_use

    if port and port_in_use(host, port):
        from goldenpath.errors import PortInUse

        raise PortInUse(
            what=what,
            host=host,
            port=port,
            hint="is another `goldenpath up` or `goldenpath api` running? Stop it, or pass "
            "--port (or GOLDENPATH_PORT)",
        )


def refuse_sandbox(settings: Settings, command: str) -> None:
    """The sandbox's stand-ins live in the `goldenpath up` process: other processes cannot
    reach them, and a production command must never run on them by a stray setting."""
    if settings.sandbox:
        from goldenpath.errors import ConfigurationError

        raise ConfigurationError(
            problem=f"the sandbox runs with `goldenpath up --sandbox` only, not `{command}` "
            "(unset sandbox / GOLDENPATH_SANDBOX)"
        )


def refuse_broken_policies(platform: Platform) -> None:
    """Start nothing on a broken or dead org policy file: it would deny every request."""
    from goldenpath.errors import PolicyMisconfigured

    problems = platform.guardrails.org.problems
    if problems:
        raise PolicyMisconfigured(
            problems="; ".join(problems) + " (run `goldenpath policies lint` to check a fix)"
        )


def _print_banner(
    platform: Platform,
    *,
    worker: bool = True,
    processes: int = 1,
    sandbox_notes: list[str] | None = None,
) -> None:
    settings = platform.settings
    names = [t.name for t in platform.catalog]
    out = output.out
    what = "" if worker else f" API ({processes} process{'es' if processes > 1 else ''}, no worker)"
    if sandbox_notes is not None:
        what = " SANDBOX" + what
    out.print(
        Text("Golden Path", style="bold green")
        + Text(f"{what} on http://{settings.host}:{settings.port}")
    )
    if sandbox_notes is not None:
        out.print(
            Text(
                "  SANDBOX: local stand-ins, not production; nothing here reaches a real account",
                style="bold yellow",
            )
        )
        for note in sandbox_notes:
            out.print(Text(f"  sandbox {note}"), soft_wrap=True)
    out.print(
        Text(
            f"  portal:    http://{settings.host}:{settings.port}/ (sign in with a user's name "
            "and password; give one with `goldenpath users passwd NAME`)"
        ),
        soft_wrap=True,
    )
    out.print(Text("  database:  ") + Text(_describe(platform.database)), soft_wrap=True)
    out.print(Text(f"  templates: {len(names)} loaded ({', '.join(names) or 'none'})"))
    for problem in platform.catalog.problems:
        out.print(Text("  template problem: ", style="yellow") + Text(str(problem)), soft_wrap=True)
    policies = platform.guardrails.org
    by_kind = {
        kind: sum(1 for f in policies.files if f.applies_to == kind)
        for kind in ("request", "terraform")
    }
    out.print(
        Text(
            f"  policies:  {len(policies.files)} files ({by_kind['request']} judge requests, "
            f"{by_kind['terraform']} judge Terraform plans)"
        )
    )
    out.print(Text("  Ctrl-C stops it.", style="dim"))


def _describe(database: Database) -> str:
    """Where the platform database is, without its password."""
    if database.embedded is not None:
        return f"embedded PostgreSQL at {database.embedded.pgdata} (port {database.embedded.port})"
    url = database.url.set(drivername="postgresql", password=None)
    return url.render_as_string(hide_password=False)


def _revision(database: Database) -> str | None:
    import sqlalchemy as sa

    with database.engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def _served_at(settings: Settings) -> Settings:
    """Unless the URL is configured, the one this server listens on: links it hands out (git
    clone URLs) then point at its own port, not the default one."""
    if "url" in settings.model_fields_set:
        return settings
    wildcard = settings.host in ("0.0.0.0", "::", "")  # noqa: S104 - compared, not bound
    host = "127.0.0.1" if wildcard else settings.host
    return settings.model_copy(update={"url": f"http://{host}:{settings.port}"})


def _given(**options: Any) -> dict[str, Any]:
    return {name: value for name, value in options.items() if value is not None}


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
