"""The action registry: built-ins, and third-party actions through the `goldenpath.actions`
entry-point group — installed here as a real distribution on sys.path, not patched in."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from goldenpath.actions.registry import ActionRegistry, default_registry
from goldenpath.errors import ActionNotFound, ConfigurationError

THIRD_PARTY = textwrap.dedent(
    """
    from goldenpath.actions.base import Action, ActionInputs, Context


    class HelloInputs(ActionInputs):
        who: str


    class Hello(Action[HelloInputs]):
        id = "acme:hello"
        description = "Say hello."
        Inputs = HelloInputs

        def apply(self, ctx: Context[HelloInputs]) -> dict[str, str]:
            return {"greeting": f"hello {ctx.inputs.who}"}
    """
)


@pytest.fixture
def installed_plugin(tmp_path: Path) -> Iterator[str]:
    """A distribution `acme-actions` whose entry point adds `acme:hello`."""
    module = f"acme_actions_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{module}.py").write_text(THIRD_PARTY)
    dist_info = tmp_path / "acme_actions-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-actions\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text(f"[goldenpath.actions]\nhello = {module}:Hello\n")
    sys.path.insert(0, str(tmp_path))
    try:
        yield module
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop(module, None)


def test_builtins_are_registered() -> None:
    ids = {action.id for action in default_registry()}
    assert {"postgres:database", "secret:generate", "debug:log", "debug:wait"} <= ids


def test_a_third_party_action_arrives_through_its_entry_point(installed_plugin: str) -> None:
    registry = default_registry()
    hello = registry.get("acme:hello")
    assert hello.description == "Say hello."
    assert type(hello).__module__ == installed_plugin


def test_a_broken_entry_point_is_a_clear_configuration_error(tmp_path: Path) -> None:
    dist_info = tmp_path / "broken_actions-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-actions\nVersion: 1\n")
    (dist_info / "entry_points.txt").write_text("[goldenpath.actions]\nx = no_such_module:X\n")
    sys.path.insert(0, str(tmp_path))
    try:
        with pytest.raises(ConfigurationError, match="entry point 'x' failed to load"):
            default_registry()
    finally:
        sys.path.remove(str(tmp_path))


def test_unknown_action_and_bad_ids() -> None:
    registry = ActionRegistry()
    with pytest.raises(ActionNotFound, match="nope:nope"):
        registry.get("nope:nope")

    class NoId:
        id = "not an id"

    with pytest.raises(ConfigurationError, match="family:verb"):
        registry.register(NoId)  # type: ignore[arg-type]
