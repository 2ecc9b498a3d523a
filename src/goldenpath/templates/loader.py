"""Loading golden path templates from folders, with errors that name file, field and line."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from goldenpath.errors import TemplateInvalid, TemplateNotFound
from goldenpath.templates import parameters
from goldenpath.templates.model import TemplateDocument, content_version
from goldenpath.templates.rendering import check_syntax

TEMPLATE_FILE_NAMES = ("template.yaml", "template.yml")


@dataclass(frozen=True)
class Template:
    """A loaded, validated golden path."""

    document: TemplateDocument
    raw: dict[str, Any]
    source: Path
    version: str
    schema: dict[str, Any]
    guardrails: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.document.metadata.name

    @property
    def title(self) -> str:
        return self.document.metadata.title or self.name

    def snapshot(self) -> dict[str, Any]:
        """What a request pins: the raw document, its version and its guardrail texts."""
        return {
            "raw": self.raw,
            "version": self.version,
            "source": str(self.source),
            "guardrails": self.guardrails,
        }

    @classmethod
    def from_snapshot(cls, snapshot: Mapping[str, Any]) -> Template:
        raw = dict(snapshot["raw"])
        document = TemplateDocument.model_validate(raw)
        return cls(
            document=document,
            raw=raw,
            source=Path(snapshot["source"]),
            version=str(snapshot["version"]),
            schema=parameters.merged_schema(document.spec.parameters),
            guardrails=dict(snapshot.get("guardrails", {})),
        )


@dataclass(frozen=True)
class TemplateCatalog:
    """Every golden path the platform offers, by name, plus the files that failed to load."""

    templates: dict[str, Template]
    problems: tuple[TemplateInvalid, ...] = ()

    def get(self, name: str) -> Template:
        try:
            return self.templates[name]
        except KeyError:
            raise TemplateNotFound(name=name) from None

    def __iter__(self) -> Any:
        return iter(sorted(self.templates.values(), key=lambda t: t.name))


def template_files(folders: Iterable[Path]) -> list[Path]:
    """Template files in each folder: ``*.yaml`` at its top, and ``*/template.yaml``."""
    files: list[Path] = []
    for folder in folders:
        if folder.is_file():
            files.append(folder)
            continue
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.is_file() and path.suffix in (".yaml", ".yml"):
                files.append(path)
            elif path.is_dir():
                files.extend(path / n for n in TEMPLATE_FILE_NAMES if (path / n).is_file())
    return files


def load_catalog(
    folders: Iterable[Path], known_actions: Mapping[str, type[Any]] | None = None
) -> TemplateCatalog:
    """Load every template; a later folder's template replaces an earlier one of the same name."""
    templates: dict[str, Template] = {}
    problems: list[TemplateInvalid] = []
    for path in template_files(folders):
        try:
            template = load_template(path, known_actions)
        except TemplateInvalid as exc:
            problems.append(exc)
            continue
        templates[template.name] = template
    return TemplateCatalog(templates=templates, problems=tuple(problems))


def load_template(path: Path, known_actions: Mapping[str, type[Any]] | None = None) -> Template:
    text = _read(path)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise TemplateInvalid(
            file=str(path),
            field="(document)",
            line=mark.line + 1 if mark else "?",
            problem=f"not valid YAML: {getattr(exc, 'problem', exc)}",
        ) from exc
    if not isinstance(raw, dict):
        raise TemplateInvalid(file=str(path), field="(document)", line=1, problem="not a mapping")
    try:
        document = TemplateDocument.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = list(error["loc"])
        where = _dotted(loc)
        raise TemplateInvalid(
            file=str(path),
            field=where,
            line=_line(node, loc),
            problem=_pydantic_message(error, len(exc.errors())),
        ) from exc
    schema = parameters.merged_schema(document.spec.parameters)
    problem = parameters.check_schema(schema)
    if problem:
        raise TemplateInvalid(
            file=str(path),
            field="spec.parameters",
            line=_line(node, ["spec", "parameters"]),
            problem=f"not valid JSON Schema 2020-12: {problem}",
        )
    _check_steps(path, node, document, known_actions)
    guardrails = _read_guardrails(path, node, document)
    version = document.metadata.version or content_version({"raw": raw, "guardrails": guardrails})
    return Template(
        document=document,
        raw=raw,
        source=path.resolve(),
        version=version,
        schema=schema,
        guardrails=guardrails,
    )


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateInvalid(file=str(path), field="(file)", line="?", problem=str(exc)) from exc


def _check_steps(
    path: Path,
    node: yaml.Node | None,
    document: TemplateDocument,
    known_actions: Mapping[str, type[Any]] | None,
) -> None:
    earlier: set[str] = set()
    for index, step in enumerate(document.spec.steps):
        loc: list[Any] = ["spec", "steps", index]
        if known_actions is not None and step.action not in known_actions:
            raise TemplateInvalid(
                file=str(path),
                field=f"spec.steps[{index}].action",
                line=_line(node, [*loc, "action"]),
                problem=f"unknown action '{step.action}' (known: {', '.join(sorted(known_actions))})",
            )
        for where, text in _strings(step.input, f"spec.steps[{index}].input"):
            _check_expression(path, node, [*loc, "input"], where, text, earlier)
        if isinstance(step.if_, str):
            _check_expression(
                path, node, [*loc, "if"], f"spec.steps[{index}].if", step.if_, earlier
            )
        earlier.add(step.id)
    step_ids = {s.id for s in document.spec.steps}
    output = document.spec.output
    for group, values in (("values", output.values), ("secrets", output.secrets)):
        for key, text in values.items():
            where = f"spec.output.{group}.{key}"
            _check_expression(path, node, ["spec", "output", group, key], where, text, step_ids)


def _check_expression(
    path: Path,
    node: yaml.Node | None,
    loc: Sequence[Any],
    where: str,
    text: str,
    visible_steps: set[str],
) -> None:
    from goldenpath.templates.rendering import STEP_REF

    error = check_syntax(text)
    if error:
        raise TemplateInvalid(file=str(path), field=where, line=_line(node, loc), problem=error)
    for step_id, _ in STEP_REF.findall(text):
        if step_id not in visible_steps:
            raise TemplateInvalid(
                file=str(path),
                field=where,
                line=_line(node, loc),
                problem=f"refers to step '{step_id}', which does not run before it",
            )


def _strings(value: Any, where: str) -> Iterable[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _strings(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{where}[{i}]")


def _read_guardrails(
    path: Path, node: yaml.Node | None, document: TemplateDocument
) -> dict[str, str]:
    texts: dict[str, str] = {}
    folder = path.parent.resolve()
    for index, relative in enumerate(document.spec.guardrails):
        file = (folder / relative).resolve()
        if not file.is_relative_to(folder) or not file.is_file():
            raise TemplateInvalid(
                file=str(path),
                field=f"spec.guardrails[{index}]",
                line=_line(node, ["spec", "guardrails", index]),
                problem=f"guardrail file '{relative}' not found beside the template",
            )
        texts[f"{document.metadata.name}/{relative}"] = file.read_text(encoding="utf-8")
    return texts


def _dotted(loc: Sequence[Any]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(document)"


def _line(node: yaml.Node | None, loc: Sequence[Any]) -> int | str:
    """The 1-based line of the deepest node along ``loc`` that exists."""
    if node is None:
        return "?"
    line = node.start_mark.line + 1
    current: yaml.Node = node
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                if key.value == part:
                    child = value
                    line = key.start_mark.line + 1
                    break
        elif isinstance(current, yaml.SequenceNode) and isinstance(part, int):
            if part < len(current.value):
                child = current.value[part]
                line = child.start_mark.line + 1
        if child is None:
            break
        current = child
    return line


def _pydantic_message(error: Mapping[str, Any], count: int) -> str:
    message = str(error["msg"])
    if error["type"] == "missing":
        message = "is required"
    elif error["type"] == "extra_forbidden":
        message = "is not a known field"
    if count > 1:
        message += f" (and {count - 1} more problem{'s' if count > 2 else ''})"
    return message
