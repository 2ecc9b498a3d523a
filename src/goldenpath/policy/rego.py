"""The one place that touches regorus: importing it quietly, reading modules, cleaning errors."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from goldenpath.policy.groups import PolicyConfigError, PolicyGroup, group_for, read_groups

# regorus reports errors through anyhow, which appends a Rust stack backtrace to every message when
# RUST_BACKTRACE=1 (set on some machines); RUST_LIB_BACKTRACE takes precedence for library errors.
os.environ.setdefault("RUST_LIB_BACKTRACE", "0")
os.environ.setdefault("RUST_BACKTRACE", "0")

import regorus

Engine = regorus.Engine


@dataclass(frozen=True)
class RegoModule:
    """A Rego source file: the name violations will cite, its text, and the group it was
    written for (None: native, judged by its package)."""

    name: str
    source: str
    group: PolicyGroup | None = None
    # "auto" until loaded; then the dialect it parsed in ("v0" or "v1").
    dialect: str = "auto"


@dataclass(frozen=True)
class ModuleOutline:
    """What a loaded module declares: its package and the names of its top-level rules."""

    name: str
    package: str
    rules: frozenset[str]


def is_engine_error(exc: BaseException) -> bool:
    """True for errors from the engine, including Rust panics (pyo3 raises BaseException)."""
    if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
        return False
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


_BACKTRACE = re.compile(r"\n\s*(Stack backtrace:|stack backtrace:).*", re.DOTALL)
_LOCATION = re.compile(r"^\s*-->\s*(\S+)\s*$")
_SOURCE_LINE = re.compile(r"^\s*\d+\s*\|\s?(.*)$")


def error_text(exc: BaseException) -> str:
    """regorus's multi-line diagnostic as one readable line: message, location and source line."""
    text = _BACKTRACE.sub("", str(exc)).strip()
    location = source = None
    message_lines: list[str] = []
    for line in text.splitlines():
        if match := _LOCATION.match(line):
            location = match.group(1)
        elif match := _SOURCE_LINE.match(line):
            source = match.group(1).strip()
        elif line.strip().startswith("error:"):
            message_lines.append(line.strip().removeprefix("error:").strip())
        elif line.strip() and line.strip() != "|" and not set(line.strip()) <= set("|^ -~"):
            message_lines.append(line.strip())
    message = "; ".join(message_lines) or type(exc).__name__
    if location:
        message += f" at {location}"
    if source:
        message += f" ({source})"
    return message


_PACKAGE = re.compile(r"^\s*package\s+([A-Za-z_][\w.]*)", re.MULTILINE)


def declared_package(source: str) -> str | None:
    """The package a Rego source declares, read from its text (before parsing it)."""
    match = _PACKAGE.search(source)
    return match.group(1) if match else None


def add_module(engine: Any, module: RegoModule) -> tuple[str, RegoModule]:
    """Add ``module`` to ``engine`` in its dialect; its package and the module, dialect resolved.

    "auto" reads Rego v1 first and falls back to v0 (conftest's ``deny[msg] { ... }``) only when
    the file does not ask for v1; the error shown is then the v1 one.
    """
    wanted = module.dialect
    if wanted == "auto" and module.group is not None:
        wanted = module.group.rego
    if wanted in ("v0", "v1"):
        return _add(engine, module, wanted), replace(module, dialect=wanted)
    try:
        return _add(engine, module, "v1"), replace(module, dialect="v1")
    except BaseException as first:
        if not (is_engine_error(first) and _looks_like_v0(first, module.source)):
            raise
        try:
            return _add(engine, module, "v0"), replace(module, dialect="v0")
        except BaseException as second:
            if not is_engine_error(second):
                raise
            raise first from None


def _looks_like_v0(error: BaseException, source: str) -> bool:
    # v1 refuses v0's rule bodies with "`if` keyword is required" (or `contains`); anything
    # else is a real error, shown as it is, without a second parse's warnings.
    return "keyword is required" in str(error) and "rego.v1" not in source


def _add(engine: Any, module: RegoModule, dialect: str) -> str:
    engine.set_rego_v0(dialect == "v0")
    try:
        return str(engine.add_policy(module.name, module.source))
    finally:
        engine.set_rego_v0(False)


def _ref_path(node: Any) -> list[str]:
    if not isinstance(node, dict) or len(node) != 1:
        return []
    kind, body = next(iter(node.items()))
    if kind == "Var":
        return [str(body.get("value", ""))]
    if kind == "RefDot":
        field = body.get("field")
        name = field[1] if isinstance(field, list) and len(field) == 2 else ""
        return [*_ref_path(body.get("refr")), str(name)]
    if kind == "RefBrack":
        return _ref_path(body.get("refr"))
    return []


def _rule_name(rule: Any) -> str | None:
    if not isinstance(rule, dict) or len(rule) != 1:
        return None
    kind, body = next(iter(rule.items()))
    if kind == "Default":
        path = _ref_path(body.get("refr"))
    elif kind == "Spec":
        head = body.get("head", {})
        head_body: Any = next(iter(head.values()), {}) if isinstance(head, dict) else {}
        path = _ref_path(head_body.get("refr"))
    else:
        return None
    return path[0] if path else None


def outline(engine: Any) -> list[ModuleOutline]:
    """Package and rule names of every module loaded in the engine, read from its AST."""
    outlines = []
    for module in json.loads(engine.get_ast_as_json()):
        ast = module.get("ast", {})
        package = ".".join(_ref_path(ast.get("package", {}).get("refr")))
        names = {_rule_name(rule) for rule in ast.get("rules", [])}
        outlines.append(
            ModuleOutline(
                name=str(module.get("source", {}).get("file", "")),
                package=package,
                rules=frozenset(name for name in names if name),
            )
        )
    return outlines


def _files_under(path: Path, include_tests: bool) -> Iterator[tuple[str, Path]]:
    if path.is_dir():
        for file in sorted(path.rglob("*.rego")):
            if include_tests or not file.name.endswith("_test.rego"):
                yield file.relative_to(path).as_posix(), file
    else:
        yield path.name, path


def read_modules(
    paths: Iterable[Path], *, include_tests: bool
) -> tuple[list[RegoModule], list[tuple[str, str]]]:
    """Rego modules from files and folders, and (name, reason) for each path that cannot be read.

    A folder's ``policies.yaml`` assigns its files to foreign groups (conftest, OPA).
    """
    modules: list[RegoModule] = []
    failures: list[tuple[str, str]] = []
    for path in paths:
        path = Path(path)
        if not path.exists():
            failures.append((str(path), "no such file or folder"))
            continue
        groups: tuple[PolicyGroup, ...] = ()
        if path.is_dir():
            try:
                groups = read_groups(path)
            except PolicyConfigError as exc:
                failures.append((str(path / "policies.yaml"), str(exc)))
                continue
        for name, file in _files_under(path, include_tests):
            try:
                source = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                failures.append((name, f"cannot read {file}: {exc}"))
                continue
            group = group_for(groups, name)
            if any(m.name == name for m in modules):
                # Two folders with a file of the same name: cite the one that is not first by
                # its full path, so messages and engines never mix them up.
                name = str(file)
            modules.append(RegoModule(name=name, source=source, group=group))
    return modules, failures
