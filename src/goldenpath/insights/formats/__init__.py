"""Readers of ticket exports, one module per tracker, and the choice between them."""

from __future__ import annotations

import json
from typing import Any

from goldenpath.errors import InvalidInput
from goldenpath.insights.dates import zone as parse_zone
from goldenpath.insights.formats import generic, github, jira, servicenow
from goldenpath.insights.formats.csvrows import decode, read_header
from goldenpath.insights.tickets import Parsed

FORMATS = ("jira-csv", "jira-json", "github", "servicenow", "csv")


def read_export(
    data: bytes,
    *,
    format: str | None = None,
    mapping: str | None = None,
    timezone: str = "UTC",
) -> Parsed:
    """Read an export into tickets. ``format`` is guessed from the content when not given;
    a ``mapping`` (``created=Opened,...``) means the generic CSV reader."""
    zone = parse_zone(timezone)
    if format is not None and format not in FORMATS:
        raise InvalidInput(field="format", rule=f"must be one of {', '.join(FORMATS)}")
    text = decode(data)
    if not text.strip():
        raise InvalidInput(field="file", rule="is empty")
    chosen = format or ("csv" if mapping else _guess(text))
    if chosen in ("jira-json", "github"):
        document = _json(text)
        if chosen == "github":
            if not isinstance(document, list):
                raise InvalidInput(field="file", rule="a GitHub export is a JSON list of issues")
            return github.read_json(document, zone)
        return jira.read_json(document, zone)
    if chosen == "jira-csv":
        return jira.read_csv(text, zone)
    if chosen == "servicenow":
        return servicenow.read_csv(text, zone)
    if not mapping:
        raise InvalidInput(field="map", rule="a generic CSV needs --map key=...,title=...")
    return generic.read_csv(text, zone, generic.parse_mapping(mapping))


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidInput(field="file", rule=f"is not JSON: {exc}") from exc
    except RecursionError as exc:
        raise InvalidInput(field="file", rule="is JSON nested too deeply to read") from exc


def _guess(text: str) -> str:
    start = text.lstrip()[:1]
    if start in "[{":
        document = _json(text)
        items = document.get("issues") if isinstance(document, dict) else document
        first = items[0] if isinstance(items, list) and items else None
        if isinstance(first, dict) and "fields" in first:
            return "jira-json"
        if isinstance(first, dict) and "number" in first and "created_at" in first:
            return "github"
        raise InvalidInput(field="format", rule="unknown JSON export: give --format")
    header = {h.lower() for h in read_header(text)}
    if "issue key" in header:
        return "jira-csv"
    if "number" in header and "opened_at" in header:
        return "servicenow"
    raise InvalidInput(
        field="format", rule="unknown CSV export: give --format, or --map for a generic CSV"
    )
