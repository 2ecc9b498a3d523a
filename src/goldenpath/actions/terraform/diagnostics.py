"""Terraform's messages, read: machine-readable UI lines (``-json``) and plain error text.

Developers see one clear sentence, not a wall of Terraform output: a variable's ``validation``
failure becomes an `InvalidInput` on ``variables.<name>`` carrying the module author's
``error_message``; any other error becomes an `ActionError` with Terraform's summary and the
first paragraph of its detail. The whole output stays in the step log.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from goldenpath.errors import ActionError, GoldenPathError, InvalidInput, InvalidInputs

LOCK_ERROR = "Error acquiring the state lock"
_INVALID_VARIABLE = "Invalid value for variable"
_CHECKED_BY = re.compile(r"\n\s*This was checked by the validation rule at .*", re.DOTALL)
_VARIABLE_TRAVERSAL = re.compile(r"^var\.([A-Za-z_][A-Za-z0-9_-]*)$")
_MAX_DETAIL = 600


@dataclass(frozen=True)
class Diagnostic:
    severity: str
    summary: str
    detail: str
    variable: str | None = None

    @property
    def sentence(self) -> str:
        first = self.detail.strip().split("\n\n", 1)[0].strip()
        text = f"{self.summary}: {first}" if first else self.summary
        return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 3] + "..."


def ui_messages(stdout: str) -> list[dict[str, Any]]:
    """The JSON objects of a ``-json`` run, one per line; anything else is skipped."""
    messages = []
    for line in stdout.splitlines():
        message = parse_ui_line(line)
        if message is not None:
            messages.append(message)
    return messages


def parse_ui_line(line: str) -> dict[str, Any] | None:
    if not line.startswith("{"):
        return None
    try:
        message = json.loads(line)
    except json.JSONDecodeError:
        return None
    return message if isinstance(message, dict) else None


def log_text(message: Mapping[str, Any]) -> str:
    """What a ``-json`` line says to a person; diagnostics with their detail."""
    text = str(message.get("@message", ""))
    diagnostic = message.get("diagnostic")
    if isinstance(diagnostic, Mapping) and diagnostic.get("detail"):
        text += f" — {str(diagnostic['detail']).strip()}"
    return text


def diagnostics(messages: Iterable[Mapping[str, Any]]) -> list[Diagnostic]:
    found = []
    for message in messages:
        raw = message.get("diagnostic")
        if message.get("type") != "diagnostic" or not isinstance(raw, Mapping):
            continue
        found.append(
            Diagnostic(
                severity=str(raw.get("severity", "error")),
                summary=str(raw.get("summary", "")),
                detail=str(raw.get("detail", "")),
                variable=_variable_of(raw),
            )
        )
    return found


def text_errors(text: str) -> list[Diagnostic]:
    """``Error: ...`` blocks of plain (``-no-color``) output."""
    found = []
    blocks = re.split(r"^(?:[│╷╵ ]*)Error: ", text, flags=re.MULTILINE)[1:]
    for block in blocks:
        lines = [line.lstrip("│ ").rstrip() for line in block.splitlines()]
        summary, detail = lines[0].strip(), "\n".join(lines[1:]).strip()
        found.append(Diagnostic(severity="error", summary=summary, detail=detail))
    return found


def is_lock_error(text: str) -> bool:
    return LOCK_ERROR in text


def failure(command: str, errors: list[Diagnostic], output_tail: str) -> GoldenPathError:
    """The error to raise for a failed command: variable problems first, they are the user's."""
    invalid = [
        InvalidInput(field=f"variables.{d.variable}", rule=_error_message(d), variable=d.variable)
        for d in errors
        if d.summary == _INVALID_VARIABLE and d.variable
    ]
    if len(invalid) == 1:
        return invalid[0]
    if invalid:
        return InvalidInputs(invalid)
    if errors:
        return ActionError(
            problem=f"terraform {command} failed: " + "; ".join(d.sentence for d in errors)
        )
    tail = output_tail.strip()[-_MAX_DETAIL:]
    return ActionError(problem=f"terraform {command} failed: {tail or 'no output'}")


def _error_message(diagnostic: Diagnostic) -> str:
    """The module's ``error_message``, without Terraform's "checked by the rule at ..."."""
    return _CHECKED_BY.sub("", diagnostic.detail).strip() or diagnostic.summary


def _variable_of(diagnostic: Mapping[str, Any]) -> str | None:
    address = diagnostic.get("address")
    if isinstance(address, str):
        match = _VARIABLE_TRAVERSAL.match(address)
        if match:
            return match.group(1)
    snippet = diagnostic.get("snippet")
    values = snippet.get("values") if isinstance(snippet, Mapping) else None
    for value in values if isinstance(values, list) else []:
        traversal = value.get("traversal") if isinstance(value, Mapping) else None
        match = _VARIABLE_TRAVERSAL.match(traversal) if isinstance(traversal, str) else None
        if match:
            return match.group(1)
    return None
