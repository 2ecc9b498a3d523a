"""Parameters typed on the command line: ``-p key=value`` (a string), ``-p key:=json`` (a JSON
value: number, boolean, list, object), over an optional ``--params-file`` (JSON or YAML).

Mistakes are reported as bad input naming the parameter, before anything is sent.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from goldenpath.cli.client import CliError
from goldenpath.templates import yaml12


def parse_parameters(pairs: Iterable[str], params_file: Path | None = None) -> dict[str, Any]:
    """The parameters of a request; ``-p`` values win over the file's."""
    values = read_params_file(params_file) if params_file else {}
    for pair in pairs:
        key, value = parse_pair(pair)
        values[key] = value
    return values


def parse_pair(pair: str) -> tuple[str, Any]:
    key, sign, text = pair.partition("=")
    if not sign:
        raise CliError.bad_input(f"-p {pair}", "must be key=value, or key:=JSON")
    as_json = key.endswith(":")
    key = key.removesuffix(":").strip()
    if not key:
        raise CliError.bad_input(f"-p {pair}", "needs a parameter name before '='")
    if not as_json:
        return key, text
    try:
        return key, json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError.bad_input(key, f"':=' needs a JSON value ({exc.msg})") from None


def read_params_file(path: Path) -> dict[str, Any]:
    field = "--params-file"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError.bad_input(field, f"cannot read {path}: {exc.strerror}") from None
    try:
        loaded = json.loads(text) if path.suffix.lower() == ".json" else yaml12.load(text)
    except (json.JSONDecodeError, yaml12.YAMLError) as exc:
        raise CliError.bad_input(field, f"{path} is not valid JSON or YAML: {exc}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise CliError.bad_input(field, f"{path} must hold a mapping of parameter names to values")
    return {str(key): value for key, value in loaded.items()}
