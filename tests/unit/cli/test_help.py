"""Every command's help, as a newcomer reads it: a description for each, no type beside a flag,
help texts printed whole, and `login --token` not marked required (it is asked for)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from goldenpath.cli.main import app

ROOT = typer.main.get_command(app)


def _commands(command: Any = ROOT, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


COMMANDS = list(_commands())


def _help(*path: str) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("path", COMMANDS[1:], ids=" ".join)
def test_every_command_has_a_description(path: tuple[str, ...]) -> None:
    command: Any = ROOT
    for name in path:
        command = command.commands[name]
    assert (command.help or "").strip(), f"`goldenpath {' '.join(path)}` has no description"


def test_no_flag_shows_a_type_and_brackets_in_help_texts_are_printed() -> None:
    for path in COMMANDS:
        shown = _help(*path)
        assert "<bool>" not in shown, f"goldenpath {' '.join(path)} --help:\n{shown}"
    assert "[default: the signed-in profile's, else http://127.0.0.1:8000]" in _help("request")
    assert "'goldenpath[sandbox]'" in _help("up")


def test_login_asks_for_the_token_instead_of_requiring_it() -> None:
    shown = _help("login")
    assert "[required]" not in shown
    assert "asked for" in shown
