"""A golden path skeleton for a ticket type: metadata, ``spec.replaces``, a parameters block
guessed from the fields the tickets keep asking for, and a placeholder step to replace.

A recurring field is a ``Name: value`` (or ``name = value``) line that at least a third of the
type's tickets carry in their description; few distinct values make it an enum, whole numbers
an integer.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import yaml

from goldenpath.store.tickets import StoredTicket

_FIELD = re.compile(r"^\s*([A-Za-z][A-Za-z0-9 _-]{1,30}?)\s*[:=]\s*(\S.{0,80}?)\s*$", re.M)
MIN_SHARE = 1 / 3
MAX_ENUM = 6


def slug(text: str, limit: int = 50) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")
    return words[:limit].strip("-") or "new-path"


def recurring_fields(descriptions: Sequence[str]) -> dict[str, list[str]]:
    """{field name: its values} for fields that enough tickets share."""
    seen: dict[str, list[str]] = {}
    for text in descriptions:
        found: dict[str, str] = {}
        for match in _FIELD.finditer(text):
            name = slug(match.group(1)).replace("-", "_")
            found.setdefault(name, match.group(2))
        for name, value in found.items():
            seen.setdefault(name, []).append(value)
    needed = max(2, int(len(descriptions) * MIN_SHARE + 0.999))
    return {n: v for n, v in sorted(seen.items()) if len(v) >= needed and n[0].isalpha()}


def _property(values: list[str]) -> dict[str, Any]:
    if all(re.fullmatch(r"\d+", v) for v in values):
        numbers = [int(v) for v in values]
        return {"type": "integer", "minimum": min(numbers), "maximum": max(numbers)}
    distinct = sorted(set(values))
    if len(distinct) <= MAX_ENUM and len(values) > len(distinct):
        return {"type": "string", "enum": distinct, "default": Counter(values).most_common(1)[0][0]}
    return {"type": "string", "maxLength": 100, "pattern": "^[A-Za-z0-9][A-Za-z0-9 ._/-]*$"}


def draft_template(type_name: str, tickets: Sequence[StoredTicket]) -> str:
    fields = recurring_fields([t.description for t in tickets])
    properties = {name: {"title": name.replace("_", " ").capitalize(), **_property(values)}
                  for name, values in fields.items()}  # fmt: skip
    if not properties:
        properties = {
            "name": {"type": "string", "title": "Name", "pattern": "^[a-z][a-z0-9-]{2,30}$"}
        }
    titles = Counter(t.title for t in tickets).most_common(3)
    message = "TODO: replace with the real action. " + ", ".join(
        f"{name}=${{{{ parameters.{name} }}}}" for name in properties
    )
    document = {
        "apiVersion": "goldenpath.dev/v1",
        "kind": "GoldenPath",
        "metadata": {
            "name": slug(type_name),
            "title": type_name[:1].upper() + type_name[1:],
            "description": f"Drafted from {len(tickets)} '{type_name}' tickets, e.g. "
            + "; ".join(f"'{title}'" for title, _ in titles),
            "owner": "platform-team",
            "version": "0.1.0",
            "tags": ["draft"],
        },
        "spec": {
            "replaces": type_name,
            "replaces_phrases": [type_name],
            "approval": "always",
            "parameters": [
                {"title": "Request", "required": sorted(properties), "properties": properties}
            ],
            "steps": [
                {
                    "id": "todo",
                    "name": "Placeholder: do what the ticket asked",
                    "action": "debug:log",
                    "input": {"message": message},
                }
            ],
        },
    }
    header = (
        f"# Drafted by `goldenpath insights draft` from {len(tickets)} tickets.\n"
        "# Review the parameters, replace the placeholder step, then `goldenpath templates "
        "verify`.\n"
    )
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
