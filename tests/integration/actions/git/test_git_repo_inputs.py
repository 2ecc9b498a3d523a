"""git:repo's guards: hostile inputs, skeletons that leave the template folder, and skeleton
rendering that treats the developer's values as data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from goldenpath.actions.base import PlanContext
from goldenpath.actions.git.repo import GitRepo, GitRepoInputs
from goldenpath.errors import ActionError, BackendNotFound
from goldenpath.settings import BackendSettings

from .conftest import NEW_REPO_TEMPLATE, git, git_context

LOCAL = BackendSettings(kind="git", provider="local")


def plan_context(
    template_dir: Path, backends: dict[str, BackendSettings] | None = None, **inputs: Any
) -> PlanContext[GitRepoInputs]:
    return PlanContext(
        inputs=GitRepoInputs(**{"name": "orders-service", **inputs}),
        backends={"git": LOCAL} if backends is None else backends,
        owner_team="payments",
        requested_by="alice",
        template_name="new-repo",
        template_dir=template_dir,
    )


@pytest.fixture
def template(tmp_path: Path) -> Path:
    """A template folder with a skeleton the tests fill in."""
    (tmp_path / "template" / "skeleton").mkdir(parents=True)
    return tmp_path / "template"


@pytest.mark.parametrize(
    "name",
    [
        "../etc",
        "a/b",
        "-leading",
        "Upper",
        "x",
        "a" * 64,
        "has space",
        "evil\n",
        "",
        "a.git",
        "ñame",
    ],
)
def test_hostile_names_are_refused_by_the_inputs(name: str) -> None:
    with pytest.raises(ValidationError, match="name"):
        GitRepoInputs(name=name)


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("description", "line\nbreak", "control characters"),
        ("description", "bell\x07", "control characters"),
        ("description", "x" * 201, "at most 200"),
        ("values", {"Bad-Key": "v"}, "must match"),
        ("values", {"k": "v" * 1001}, "longer than 1000"),
        ("values", {f"k{i}": "v" for i in range(51)}, "at most 50"),
        ("skeleton", "../../etc", "template's folder"),
        ("skeleton", "/etc", "relative folder path"),
        ("skeleton", "skeleton/../../..", "template's folder"),
        ("backend", "../x", "backend"),
    ],
)
def test_bad_inputs_are_refused_with_the_rule(field: str, value: Any, rule: str) -> None:
    with pytest.raises(ValidationError, match=rule):
        GitRepoInputs(name="orders-service", **{field: value})


def test_the_starter_skeleton_plans_every_file_for_the_owner() -> None:
    [planned] = GitRepo().plan(plan_context(NEW_REPO_TEMPLATE))

    assert planned.type == "git:repo"
    assert planned.tags == {"owner": "payments"}
    assert planned.config["private"] is True
    assert planned.config["files"] == [
        ".github/workflows/ci.yml",
        ".gitignore",
        "CODEOWNERS",
        "README.md",
    ]


def test_an_unknown_backend_or_provider_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BackendNotFound):
        GitRepo().plan(plan_context(NEW_REPO_TEMPLATE, backends={}))
    odd = BackendSettings(kind="git", provider="svn")
    ctx = git_context(GitRepoInputs(name="orders-service"), odd, data_dir=tmp_path)
    with pytest.raises(Exception, match="expected one of local, github, gitea"):
        GitRepo().apply(ctx)


def test_a_symlink_leaving_the_skeleton_is_refused_and_nothing_is_made(
    template: Path, tmp_path: Path
) -> None:
    (template / "skeleton" / "README.md").write_text("# {{ name }}\n")
    (template / "skeleton" / "passwd").symlink_to("/etc/passwd")
    ctx = git_context(
        GitRepoInputs(name="orders-service"), LOCAL, data_dir=tmp_path, template_dir=template
    )

    with pytest.raises(ActionError, match="symlink leaving the skeleton"):
        GitRepo().plan(plan_context(template))
    with pytest.raises(ActionError, match="symlink leaving the skeleton"):
        GitRepo().apply(ctx)
    assert not (tmp_path / "git" / "orders-service.git").exists()


def test_a_skeleton_folder_that_is_a_symlink_out_of_the_template_is_refused(
    template: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not for you\n")
    (template / "elsewhere").symlink_to(outside)

    with pytest.raises(ActionError, match="leaves the template's folder"):
        GitRepo().plan(plan_context(template, skeleton="elsewhere"))


def test_a_symlinked_folder_inside_the_skeleton_is_refused(template: Path, tmp_path: Path) -> None:
    (template / "skeleton" / "loop").symlink_to(template / "skeleton")

    with pytest.raises(ActionError, match="symlink"):
        GitRepo().plan(plan_context(template))


def test_values_are_rendered_as_data_and_names_are_rendered_too(
    template: Path, tmp_path: Path
) -> None:
    skeleton = template / "skeleton"
    (skeleton / "{{ name }}.md").write_text(
        "tagline: {{ values.tagline }}\nteam: {{ owner_team }}\n"
    )
    (skeleton / "run.sh").write_text("#!/bin/sh\necho {{ name }}\n")
    (skeleton / "run.sh").chmod(0o755)
    (skeleton / "logo.bin").write_bytes(b"\x89PNG\x00\xff{{ name }}")
    hostile = "{{ ''.__class__ }} {% for x in range(9) %}x{% endfor %}"
    ctx = git_context(
        GitRepoInputs(name="orders-service", values={"tagline": hostile}),
        LOCAL,
        data_dir=tmp_path,
        template_dir=template,
    )

    GitRepo().apply(ctx)

    repo = str(tmp_path / "git" / "orders-service.git")
    shown = git("--git-dir", repo, "show", "main:orders-service.md").stdout
    assert shown == f"tagline: {hostile}\nteam: payments\n"
    tree = git("--git-dir", repo, "ls-tree", "main").stdout
    assert "100755 blob" in next(line for line in tree.splitlines() if line.endswith("run.sh"))
    # Binary files are copied byte for byte, not rendered.
    logo = git("--git-dir", repo, "rev-parse", "main:logo.bin").stdout
    assert logo == git("hash-object", str(skeleton / "logo.bin")).stdout


@pytest.mark.parametrize(
    ("file_name", "text", "problem"),
    [
        ("evil.txt", "{{ ''.__class__.__mro__[1].__subclasses__() }}", "does not render"),
        ("missing.txt", "{{ nope }}", "does not render"),
        ("broken.txt", "{% if %}", "does not render"),
        ("{{ values.path }}", "x", "bad name"),
        (".git", "x", "bad name"),
    ],
)
def test_skeletons_that_do_not_render_safely_are_refused(
    template: Path, file_name: str, text: str, problem: str
) -> None:
    (template / "skeleton" / file_name).write_text(text)

    with pytest.raises(ActionError, match=problem):
        GitRepo().plan(plan_context(template, values={"path": ".."}))
