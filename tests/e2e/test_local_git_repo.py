"""`new-repo` on the platform's own git server: the owning team clones and pushes with its
token; another team cannot even see the repository; force-pushing main is refused."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from tests.e2e.conftest import Cli, Server, git, make_user


def test_the_owning_team_clones_and_pushes_others_cannot(
    server: Server, cli: Cli, developer_token: str, tmp_path: Path
) -> None:
    name = f"svc-{secrets.token_hex(3)}"
    made = cli("request", "new-repo", "-p", f"name={name}", "--wait")
    assert made.code == 0, made.stdout + made.stderr
    assert re.search(rf"/git/{name}\.git", made.stdout)
    # The output states what main enforces; the pushes below check exactly that statement.
    said = " ".join(made.stdout.split())
    assert "main refuses force-pushes and deletion" in said
    assert "direct (fast-forward) pushes to main are allowed" in said
    assert "pull request" not in said
    host = server.url.removeprefix("http://")

    work = tmp_path / "work"
    cloned = git("clone", f"http://dev:{developer_token}@{host}/git/{name}.git", str(work))
    assert cloned.returncode == 0, cloned.stderr
    assert "@e2e" in (work / "CODEOWNERS").read_text()
    (work / "app.py").write_text("print('hello')\n")
    git("add", "app.py", cwd=work)
    git("commit", "-m", "First code", cwd=work)
    pushed = git("push", "origin", "main", cwd=work)
    assert pushed.returncode == 0, pushed.stderr

    git("reset", "--hard", "HEAD~1", cwd=work)
    forced = git("push", "--force", "origin", "main", cwd=work)
    assert forced.returncode != 0
    assert "force" in forced.stderr.lower()

    outsider = make_user(server, f"outsider-{secrets.token_hex(2)}", "other-team")
    refused = git("clone", f"http://x:{outsider}@{host}/git/{name}.git", str(tmp_path / "nope"))
    assert refused.returncode != 0
    assert not (tmp_path / "nope" / "CODEOWNERS").exists()
