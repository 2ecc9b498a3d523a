"""Loading golden path templates from folders, with errors that name file, field and line."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version
from pydantic import ValidationError

from goldenpath.actions.base import ResourceOperation
from goldenpath.errors import TemplateInvalid, TemplateNotFound
from goldenpath.templates import parameters, yaml12
from goldenpath.templates.backstage import conversion as backstage
from goldenpath.templates.model import TemplateDocument, content_version
from goldenpath.templates.rendering import STEP_REF, check_syntax, condition_text

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
    # A digest of the files the template ships (a skeleton, a Terraform module): a queued
    # request must run the files it was judged with, even under an unchanged version.
    bundle: str = ""

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
            "bundle": self.bundle,
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
            bundle=str(snapshot.get("bundle", "")),
        )

    def day2_schema(self, name: str) -> dict[str, Any]:
        """The form of the day-2 action ``name`` (which the caller knows is declared)."""
        action = self.document.spec.day2_action(name)
        assert action is not None
        return parameters.merged_schema(action.parameters)

    def bundle_changed(self) -> bool:
        """Whether the files beside the template differ from when it was loaded."""
        return bool(self.bundle) and bundle_digest(self.source) != self.bundle


@dataclass(frozen=True)
class TemplateCatalog:
    """Every golden path the platform offers, by name, plus the files that failed to load.

    ``templates`` holds the version new requests use (the newest that is not retired);
    ``versions`` every loaded version of each name, retired ones included, so what an older
    version made can still be judged and upgraded.
    """

    templates: dict[str, Template]
    problems: tuple[TemplateInvalid, ...] = ()
    versions: dict[str, dict[str, Template]] = field(default_factory=dict)

    def get(self, name: str, version: str | None = None) -> Template:
        if version is None:
            try:
                return self.templates[name]
            except KeyError:
                raise TemplateNotFound(name=name) from None
        found = self.versions_of(name).get(version)
        if found is None:
            raise TemplateNotFound(name=f"{name}@{version}")
        return found

    def versions_of(self, name: str) -> dict[str, Template]:
        """Every loaded version of ``name``, oldest first (empty when there is none)."""
        if name in self.versions:
            return self.versions[name]
        newest = self.templates.get(name)
        return {newest.version: newest} if newest is not None else {}

    def newest(self, name: str) -> Template | None:
        return self.templates.get(name)

    def __iter__(self) -> Iterator[Template]:
        return iter(sorted(self.templates.values(), key=lambda t: t.name))


def version_key(version: str) -> tuple[int, Any]:
    """Sort key of a template version: PEP 440 / semantic versions in order, others after."""
    try:
        return (0, Version(version))
    except InvalidVersion:
        return (1, version)


def _newest_usable(versions: Mapping[str, Template]) -> Template | None:
    usable = [t for t in versions.values() if t.document.metadata.status != "retired"]
    return max(usable, key=lambda t: version_key(t.version)) if usable else None


def template_files(folders: Iterable[Path]) -> list[Path]:
    """Template files in each folder: ``*.yaml`` at its top, ``*/template.yaml``, and
    ``*/<version>/template.yaml`` (one folder per version)."""
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
                own = [path / n for n in TEMPLATE_FILE_NAMES if (path / n).is_file()]
                # name/<version>/template.yaml: one folder per version of a golden path.
                files.extend(own or _version_folders(path))
    return files


def _version_folders(folder: Path) -> list[Path]:
    return [
        sub / n
        for sub in sorted(folder.iterdir(), key=lambda p: version_key(p.name))
        if sub.is_dir()
        for n in TEMPLATE_FILE_NAMES
        if (sub / n).is_file()
    ]


def load_catalog(
    folders: Iterable[Path], known_actions: Mapping[str, type[Any]] | None = None
) -> TemplateCatalog:
    """Load every template; a later folder's template replaces an earlier one of the same name.

    A file that does not load, or that repeats a name another file of the same folder has, is
    kept in ``problems`` and the rest still load.
    """
    versions: dict[str, dict[str, Template]] = {}
    problems: list[TemplateInvalid] = []
    for folder in folders:
        in_this_folder: dict[str, dict[str, Template]] = {}
        for path in template_files([folder]):
            try:
                template = load_template(path, known_actions)
            except TemplateInvalid as exc:
                problems.append(exc)
                continue
            loaded = in_this_folder.setdefault(template.name, {})
            clash = _version_clash(template, loaded)
            if clash is not None:
                where, problem = clash
                problems.append(
                    TemplateInvalid(
                        file=str(path),
                        field=f"metadata.{where}",
                        line=_line(_compose(path), ["metadata", where]),
                        problem=problem,
                    )
                )
                continue
            loaded[template.version] = template
        versions.update(in_this_folder)
    ordered = {
        name: dict(sorted(found.items(), key=lambda item: version_key(item[0])))
        for name, found in versions.items()
    }
    templates = {
        name: newest
        for name, found in ordered.items()
        if (newest := _newest_usable(found)) is not None
    }
    return TemplateCatalog(templates=templates, problems=tuple(problems), versions=ordered)


def _version_clash(template: Template, loaded: Mapping[str, Template]) -> tuple[str, str] | None:
    """The field and the reason ``template`` cannot sit beside the versions of its name already
    loaded from this folder."""
    if not loaded:
        return None
    first = next(iter(loaded.values()))
    if template.document.metadata.version is None or first.document.metadata.version is None:
        return (
            "name",
            f"'{template.name}' is already the name of {first.source}; several versions of one "
            "golden path each need their own metadata.version",
        )
    if template.version in loaded:
        where = loaded[template.version].source
        return "version", f"{template.name}@{template.version} is already loaded from {where}"
    return None


def load_template(path: Path, known_actions: Mapping[str, type[Any]] | None = None) -> Template:
    text = _read(path)
    try:
        node, raw = yaml12.parse(text)
        _check_unique_keys(path, node)
    except yaml12.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise TemplateInvalid(
            file=str(path),
            field="(document)",
            line=mark.line + 1 if mark else "?",
            problem=f"not valid YAML: {getattr(exc, 'problem', None) or exc}",
        ) from exc
    if not isinstance(raw, dict):
        raise TemplateInvalid(file=str(path), field="(document)", line=1, problem="not a mapping")
    if backstage.is_backstage(raw):
        raw = backstage.convert(raw, path, known_actions)
    try:
        document = TemplateDocument.model_validate(raw)
    except ValidationError as exc:
        raise _invalid_document(path, node, raw, exc) from exc
    schema = _parameter_schema(path, node, document)
    _check_steps(path, node, document, known_actions)
    _check_day2(path, node, document, known_actions)
    guardrails = _read_guardrails(path, node, document)
    bundle = bundle_digest(path.resolve())
    version = document.metadata.version or content_version(
        {"raw": raw, "guardrails": guardrails, "bundle": bundle}
    )
    return Template(
        document=document,
        raw=raw,
        source=path.resolve(),
        version=version,
        schema=schema,
        guardrails=guardrails,
        bundle=bundle,
    )


def bundle_digest(template_file: Path) -> str:
    """A digest of every file in a folder template (``<name>/template.yaml``). A lone YAML file
    ships nothing more than what a request's snapshot already holds: its digest is empty."""
    if template_file.name not in TEMPLATE_FILE_NAMES:
        return ""
    root = template_file.parent
    files = sorted(p for p in root.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for file in files:
        digest.update(str(file.relative_to(root)).encode() + b"\0")
        try:
            digest.update(file.read_bytes())
        except OSError:
            digest.update(b"(unreadable)")
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def _compose(path: Path) -> yaml12.Node | None:
    try:
        return yaml12.compose(_read(path))
    except (yaml12.YAMLError, TemplateInvalid):
        return None


def _check_unique_keys(path: Path, node: yaml12.Node | None, loc: Sequence[Any] = ()) -> None:
    """YAML keeps the last of two equal keys silently; in a template that hides a mistake."""
    if isinstance(node, yaml12.MappingNode):
        first_lines: dict[Any, int] = {}
        for key, value in node.value:
            if isinstance(key, yaml12.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                if key.value in first_lines:
                    raise TemplateInvalid(
                        file=str(path),
                        field=_dotted([*loc, key.value]),
                        line=key.start_mark.line + 1,
                        problem=f"is set twice (first on line {first_lines[key.value]})",
                    )
                first_lines[key.value] = key.start_mark.line + 1
            _check_unique_keys(path, value, [*loc, key.value])
    elif isinstance(node, yaml12.SequenceNode):
        for index, item in enumerate(node.value):
            _check_unique_keys(path, item, [*loc, index])


def _invalid_document(
    path: Path, node: yaml12.Node | None, raw: Mapping[str, Any], exc: ValidationError
) -> TemplateInvalid:
    """The first problem pydantic found, named by its YAML field and line."""
    errors = exc.errors()
    loc = _yaml_loc(raw, errors[0])
    same_field = [e for e in errors if _yaml_loc(raw, e) == loc]
    problem = _pydantic_message(same_field)
    others = len(errors) - len(same_field)
    if others:
        problem += f" (and {others} more problem{'s' if others > 1 else ''})"
    return TemplateInvalid(
        file=str(path), field=_dotted(loc), line=_line(node, loc), problem=problem
    )


def _yaml_loc(raw: Any, error: Mapping[str, Any]) -> list[Any]:
    """Pydantic's ``loc`` as a path in the YAML.

    Pydantic adds the member type of a union (``str``, ``dict[str,any]``) to ``loc``; those parts
    are not in the document and are dropped. The last part is kept when it names a missing or
    unknown field.
    """
    loc = list(error["loc"])
    kept: list[Any] = []
    current: Any = raw
    for position, part in enumerate(loc):
        in_mapping = isinstance(current, Mapping) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if in_mapping or in_list:
            current = current[part]
        elif position == len(loc) - 1 and error["type"] in ("missing", "extra_forbidden"):
            current = None
        else:
            continue
        kept.append(part)
    if error["type"] == "duplicate_step_id":
        kept += [error["ctx"]["index"], "id"]
    if error["type"] == "duplicate_day2_name":
        kept += [error["ctx"]["index"], "name"]
    return kept


def _parameter_schema(
    path: Path, node: yaml12.Node | None, document: TemplateDocument
) -> dict[str, Any]:
    declared = document.spec.parameters
    for index, page in enumerate(parameters.pages(declared)):
        found = parameters.schema_problem(page)
        if found:
            reason, at = found
            loc = ["spec", "parameters", *([index] if isinstance(declared, list) else []), *at]
            raise TemplateInvalid(
                file=str(path),
                field=_dotted(loc),
                line=_line(node, loc),
                problem=f"not valid JSON Schema 2020-12: {reason}",
            )
    schema = parameters.merged_schema(declared)
    problem = parameters.check_schema(schema)
    if problem:
        raise TemplateInvalid(
            file=str(path),
            field="spec.parameters",
            line=_line(node, ["spec", "parameters"]),
            problem=f"not valid JSON Schema 2020-12 once its pages are merged: {problem}",
        )
    return schema


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateInvalid(file=str(path), field="(file)", line="?", problem=str(exc)) from exc


def _check_steps(
    path: Path,
    node: yaml12.Node | None,
    document: TemplateDocument,
    known_actions: Mapping[str, type[Any]] | None,
) -> None:
    all_steps = {s.id for s in document.spec.steps}
    earlier: set[str] = set()
    for index, step in enumerate(document.spec.steps):
        loc: list[Any] = ["spec", "steps", index]
        if known_actions is not None and step.action not in known_actions:
            known = ", ".join(sorted(known_actions))
            raise TemplateInvalid(
                file=str(path),
                field=_dotted([*loc, "action"]),
                line=_line(node, [*loc, "action"]),
                problem=f"unknown action '{step.action}' (known: {known})",
            )
        operation = (known_actions or {}).get(step.action)
        if isinstance(operation, type) and issubclass(operation, ResourceOperation):
            raise TemplateInvalid(
                file=str(path),
                field=_dotted([*loc, "action"]),
                line=_line(node, [*loc, "action"]),
                problem=f"'{step.action}' works on an existing resource: use it in spec.day2",
            )
        for at, text in _strings(step.input, [*loc, "input"]):
            _check_expression(path, node, at, text, earlier, all_steps)
        for at, text in _strings(step.each, [*loc, "each"]):
            _check_expression(path, node, at, text, earlier, all_steps)
        if step.each is None and any("each." in text for _, text in _strings(step.input, [])):
            raise TemplateInvalid(
                file=str(path),
                field=_dotted([*loc, "input"]),
                line=_line(node, [*loc, "input"]),
                problem="uses 'each.' but the step has no 'each'",
            )
        if isinstance(step.if_, str):
            _check_expression(
                path, node, [*loc, "if"], condition_text(step.if_), earlier, all_steps
            )
        earlier.add(step.id)
    output = document.spec.output
    rendered_after_all_steps: list[tuple[list[Any], Any]] = [
        (["spec", "output", "values"], output.values),
        (["spec", "output", "secrets"], output.secrets),
        (["spec", "output", "links"], output.links),
        (["spec", "output", "text"], output.text),
    ]
    for loc, value in rendered_after_all_steps:
        for at, text in _strings(value, loc):
            _check_expression(path, node, at, text, all_steps, all_steps)


def _check_day2(
    path: Path,
    node: yaml12.Node | None,
    document: TemplateDocument,
    known_actions: Mapping[str, type[Any]] | None,
) -> None:
    """Each day-2 action: a valid form, and steps that work on a resource of ``spec.steps``
    through an operation on what that step's action makes."""
    made_by = {s.id: s.action for s in document.spec.steps}

    def invalid(loc: Sequence[Any], problem: str) -> TemplateInvalid:
        return TemplateInvalid(
            file=str(path), field=_dotted(loc), line=_line(node, loc), problem=problem
        )

    for index, day2 in enumerate(document.spec.day2):
        loc: list[Any] = ["spec", "day2", index]
        found = parameters.schema_problem(day2.parameters)
        if found:
            reason, at = found
            raise invalid([*loc, "parameters", *at], f"not valid JSON Schema 2020-12: {reason}")
        own_steps = {s.id for s in day2.steps}
        earlier: set[str] = set()
        for position, step in enumerate(day2.steps):
            at_step = [*loc, "steps", position]
            if step.resource not in made_by:
                raise invalid(
                    [*at_step, "resource"],
                    f"'{step.resource}' is not a step of spec.steps (steps: {', '.join(made_by)})",
                )
            if step.each is not None:
                raise invalid([*at_step, "each"], "a day-2 step works on one resource: no 'each'")
            operation = (known_actions or {}).get(step.action)
            if known_actions is not None and operation is None:
                raise invalid(
                    [*at_step, "action"],
                    f"unknown action '{step.action}' (known: {', '.join(sorted(known_actions))})",
                )
            if operation is not None and not (
                isinstance(operation, type) and issubclass(operation, ResourceOperation)
            ):
                raise invalid(
                    [*at_step, "action"],
                    f"'{step.action}' creates things; a day-2 step needs an action that works "
                    "on an existing resource",
                )
            if operation is not None and made_by[step.resource] not in operation.operates_on:
                raise invalid(
                    [*at_step, "action"],
                    f"'{step.action}' works on {', '.join(sorted(operation.operates_on))}, not "
                    f"on what step '{step.resource}' makes ({made_by[step.resource]})",
                )
            for where, text in _strings(step.input, [*at_step, "input"]):
                _check_expression(path, node, where, text, earlier, own_steps)
            if isinstance(step.if_, str):
                _check_expression(
                    path, node, [*at_step, "if"], condition_text(step.if_), earlier, own_steps
                )
            earlier.add(step.id)


def _check_expression(
    path: Path,
    node: yaml12.Node | None,
    loc: Sequence[Any],
    text: str,
    visible_steps: set[str],
    all_steps: set[str],
) -> None:
    error = check_syntax(text)
    if error:
        raise TemplateInvalid(
            file=str(path), field=_dotted(loc), line=_line(node, loc), problem=error
        )
    for step_id, _ in STEP_REF.findall(text):
        if step_id not in visible_steps:
            reason = (
                "which does not run before it"
                if step_id in all_steps
                else "which is not a step of this golden path"
            )
            raise TemplateInvalid(
                file=str(path),
                field=_dotted(loc),
                line=_line(node, loc),
                problem=f"refers to step '{step_id}', {reason}",
            )


def _strings(value: Any, loc: list[Any]) -> Iterable[tuple[list[Any], str]]:
    if isinstance(value, str):
        yield loc, value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _strings(v, [*loc, k])
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, [*loc, i])


def _read_guardrails(
    path: Path, node: yaml12.Node | None, document: TemplateDocument
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
        try:
            texts[f"{document.metadata.name}/{relative}"] = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TemplateInvalid(
                file=str(path),
                field=f"spec.guardrails[{index}]",
                line=_line(node, ["spec", "guardrails", index]),
                problem=f"guardrail file '{relative}' cannot be read: {exc}",
            ) from exc
    return texts


def _dotted(loc: Sequence[Any]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(document)"


def _line(node: yaml12.Node | None, loc: Sequence[Any]) -> int | str:
    """The 1-based line of the deepest node along ``loc`` that exists."""
    if node is None:
        return "?"
    line: int = node.start_mark.line + 1
    current: yaml12.Node = node
    for part in loc:
        child: yaml12.Node | None = None
        if isinstance(current, yaml12.MappingNode):
            for key, value in current.value:
                if key.value == part:
                    child = value
                    line = key.start_mark.line + 1
                    break
        elif (
            isinstance(current, yaml12.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(current.value)
        ):
            child = current.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        current = child
    return line


_SHOWS_INPUT = ("literal_error", "string_pattern_mismatch", "enum", "greater_than_equal")
_SHOULD_BE = "Input should be "


def _pydantic_message(errors: Sequence[Mapping[str, Any]]) -> str:
    """One message for the errors pydantic found at one field (several when it is a union)."""
    texts: list[str] = []
    for error in errors:
        if error["type"] == "missing":
            text = "is required"
        elif error["type"] == "extra_forbidden":
            text = "is not a known field"
        else:
            text = str(error["msg"]).removeprefix("Value error, ")
            if error["type"] in _SHOWS_INPUT:
                shown = repr(error["input"])
                text += f" (got {shown if len(shown) <= 60 else shown[:57] + '...'})"
        if text not in texts:
            texts.append(text)
    if len(texts) > 1 and all(t.startswith(_SHOULD_BE) for t in texts):
        return _SHOULD_BE + " or ".join(t.removeprefix(_SHOULD_BE) for t in texts)
    return "; ".join(texts)
