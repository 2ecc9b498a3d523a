"""Reading a ``terraform show -json`` document: each resource change with its configuration,
its provider's settings and the other resources it refers to.

Values Terraform will only know after apply (``after_unknown``) read as ``UNKNOWN``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from goldenpath.policy.vocabulary.description import UNKNOWN

_CHANGES = {
    ("create",): "create",
    ("update",): "update",
    ("delete",): "delete",
    ("delete", "create"): "replace",
    ("create", "delete"): "replace",
    ("no-op",): "no-op",
    ("read",): "read",
}
_INDEX = re.compile(r"\[[^\]]*\]")


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True)
class PlannedChange:
    """One entry of ``resource_changes`` and the configuration block that declared it."""

    address: str
    type: str
    module: str
    change: str
    after: Mapping[str, Any]
    unknown: Mapping[str, Any]
    expressions: Mapping[str, Any]
    provider_key: str

    @property
    def config_address(self) -> str:
        """``aws_s3_bucket.logs`` for ``module.a.aws_s3_bucket.logs["x"]``."""
        local = self.address.removeprefix(self.module + ".") if self.module else self.address
        return _INDEX.sub("", local)

    def value(self, key: str, default: Any = None) -> Any:
        """The planned value of an attribute, ``UNKNOWN`` until apply, ``default`` when unset."""
        if self.unknown.get(key) is True:
            return UNKNOWN
        found = self.after.get(key)
        return default if found is None else found

    def block(self, key: str) -> Mapping[str, Any] | None:
        """The first nested block ``key`` (Terraform plans show blocks as lists)."""
        found = self.after.get(key)
        if isinstance(found, list) and found and isinstance(found[0], Mapping):
            return found[0]
        return found if isinstance(found, Mapping) else None

    def is_set(self, key: str) -> bool:
        """Whether the configuration sets the attribute (computed defaults are not "set")."""
        return key in self.expressions

    def references(self, key: str | None = None) -> list[str]:
        """Every reference in the attribute's expression (or in all of them)."""
        source: Any = self.expressions if key is None else self.expressions.get(key)
        return list(_references(source))


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, Mapping):
        for name, value in node.items():
            if name == "references" and isinstance(value, list):
                yield from (str(v) for v in value)
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for item in node:
            yield from _references(item)


class TerraformPlan:
    """The changes of one plan, indexed by address, with what joins them."""

    def __init__(self, show_json: Mapping[str, Any]) -> None:
        self.document = show_json
        configuration = _mapping(show_json.get("configuration"))
        self._providers = _mapping(configuration.get("provider_config"))
        self._variables = _mapping(show_json.get("variables"))
        self._config: dict[tuple[str, str], Mapping[str, Any]] = {}
        self._walk_modules(_mapping(configuration.get("root_module")), "")
        self.changes: list[PlannedChange] = []
        raw = show_json.get("resource_changes") or []
        for entry in raw if isinstance(raw, list) else []:
            if not isinstance(entry, Mapping) or entry.get("mode", "managed") != "managed":
                continue
            body = _mapping(entry.get("change"))
            actions = body.get("actions") or []
            kind = _CHANGES.get(tuple(actions) if isinstance(actions, list) else ())
            if kind is None or kind in ("no-op", "read"):
                continue
            address = str(entry.get("address", ""))
            module = str(entry.get("module_address") or "")
            after = body.get("before") if kind == "delete" else body.get("after")
            draft = PlannedChange(address, str(entry.get("type", "")), module, kind, {}, {}, {}, "")
            config = self._config.get((_INDEX.sub("", module), draft.config_address), {})
            self.changes.append(
                PlannedChange(
                    address=address,
                    type=draft.type,
                    module=module,
                    change=kind,
                    after=_mapping(after),
                    unknown=_mapping(body.get("after_unknown")) if kind != "delete" else {},
                    expressions=_mapping(config.get("expressions")),
                    provider_key=str(config.get("provider_config_key", "")),
                )
            )
        self.by_address = {change.address: change for change in self.changes}
        self._by_config: dict[tuple[str, str], list[PlannedChange]] = {}
        self._by_type: dict[str, list[PlannedChange]] = {}
        for change in self.changes:
            key = (_INDEX.sub("", change.module), change.config_address)
            self._by_config.setdefault(key, []).append(change)
            self._by_type.setdefault(change.type, []).append(change)
        self._settings: dict[tuple[str, str, str], dict[str, list[PlannedChange]]] = {}

    def _walk_modules(self, module: Mapping[str, Any], prefix: str) -> None:
        for resource in module.get("resources") or []:
            if isinstance(resource, Mapping):
                self._config[(prefix, str(resource.get("address", "")))] = resource
        for name, call in _mapping(module.get("module_calls")).items():
            child = f"{prefix}.module.{name}" if prefix else f"module.{name}"
            self._walk_modules(_mapping(_mapping(call).get("module")), child)

    def of_type(self, *types: str) -> list[PlannedChange]:
        return [change for type_ in types for change in self._by_type.get(type_, [])]

    def referenced(self, change: PlannedChange, key: str, *types: str) -> list[PlannedChange]:
        """The changes of ``types`` that ``change``'s attribute ``key`` refers to (same module)."""
        module = _INDEX.sub("", change.module)
        found: dict[str, PlannedChange] = {}
        for reference in change.references(key):
            parts = reference.split(".")
            if len(parts) >= 2 and parts[0] in types:
                target = f"{parts[0]}.{_INDEX.sub('', parts[1])}"
                for other in self._by_config.get((module, target), []):
                    found[other.address] = other
        return list(found.values())

    def settings_of(
        self,
        target: PlannedChange,
        setting_type: str,
        target_type: str,
        name_key: str,
        target_name: str = "name",
    ) -> list[PlannedChange]:
        """The ``setting_type`` resources whose ``name_key`` argument refers to ``target`` (or,
        without a reference, holds its ``target_name``): an S3 bucket's policy, its ACL, ..."""
        key = (setting_type, target_type, name_key)
        index = self._settings.get(key)
        if index is None:
            index = {}
            for setting in self.of_type(setting_type):
                targets = {t.address for t in self.referenced(setting, name_key, target_type)}
                value = setting.value(name_key)
                if isinstance(value, str) and value != UNKNOWN:
                    targets.add("name:" + value)
                for address in targets:
                    index.setdefault(address, []).append(setting)
            self._settings[key] = index
        name = target.value(target_name)
        found = {s.address: s for s in index.get(target.address, [])}
        if isinstance(name, str) and name != UNKNOWN:
            found.update({s.address: s for s in index.get("name:" + name, [])})
        return list(found.values())

    def provider_setting(self, change: PlannedChange, key: str) -> Any:
        """A provider argument (``region``): its constant, a root variable's value, else
        ``UNKNOWN`` when set from something only apply knows, ``None`` when not set at all."""
        provider = self._provider(change)
        if provider is None:
            return None
        expression = _mapping(_mapping(provider.get("expressions")).get(key))
        if not expression:
            return None
        if "constant_value" in expression:
            return expression["constant_value"]
        references = expression.get("references") or []
        if len(references) == 1 and str(references[0]).startswith("var."):
            variable = _mapping(self._variables.get(str(references[0])[4:]))
            if "value" in variable:
                return variable["value"]
        return UNKNOWN

    def _provider(self, change: PlannedChange) -> Mapping[str, Any] | None:
        name = change.type.split("_", 1)[0]
        keys = [change.provider_key, change.provider_key.split(":")[-1], name]
        for key in keys:
            found = self._providers.get(key)
            if isinstance(found, Mapping):
                return found
        return None
