"""PolicySet: Rego guardrails loaded once, evaluated on input documents into one Verdict.

regorus engines are "unsendable": an engine may only be used, cloned and dropped on the thread that
created it. So a PolicySet keeps the module sources, not an engine, and each thread builds its own
engine the first time it evaluates the set.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from goldenpath.policy.groups import (
    KINDS,
    REQUEST,
    TERRAFORM,
    PolicyGroup,
    native_group,
)
from goldenpath.policy.rego import (
    Engine,
    RegoModule,
    add_module,
    error_text,
    is_engine_error,
    outline,
    read_modules,
)
from goldenpath.policy.verdict import Verdict, Violation

REQUEST_NAMESPACE = "goldenpath"
TERRAFORM_NAMESPACE = "goldenpath.terraform"
RULES = KINDS
ERROR_RULE = "error"
# Template guardrails may add packages but never extend or shadow these (nor any org package).
RESERVED_PACKAGES = ("goldenpath.config",)


@dataclass(frozen=True)
class _Target:
    package: str
    policy: str
    rule: str
    kind: str
    input_key: str | None
    strict: bool

    @property
    def path(self) -> str:
        return f"data.{self.package}.{self.rule}"


@dataclass(frozen=True)
class PolicyFile:
    """One loaded policy file as `policies lint` and ``GET /policies`` show it."""

    name: str
    package: str
    group: str
    applies_to: str | None
    dialect: str
    rules: tuple[str, ...]
    helper: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.name,
            "package": self.package,
            "group": self.group,
            "applies_to": self.applies_to,
            "rego": self.dialect,
            "rules": list(self.rules),
            "helper": self.helper,
        }


def _error(policy: str, package: str, detail: str) -> Violation:
    return Violation(
        policy=policy,
        rule=ERROR_RULE,
        message=f"policy engine error in {policy}: {detail}",
        package=package,
    )


def _overlaps(package: str, other: str) -> bool:
    return package == other or package.startswith(other + ".") or other.startswith(package + ".")


def _is_terraform(name: str) -> bool:
    return name == TERRAFORM_NAMESPACE or name.startswith(TERRAFORM_NAMESPACE + ".")


def _referenced(package: str, module: RegoModule, others: Iterable[RegoModule]) -> bool:
    """True when another module reads ``data.<package>`` (a helper library)."""
    pattern = re.compile(r"\bdata\." + re.escape(package) + r"(?![\w])")
    return any(
        other.name != module.name and pattern.search(other.source) is not None for other in others
    )


def _dead_reason(package: str, group: PolicyGroup | None) -> str:
    if group is None:
        return (
            f"declares package {package}, which no evaluation reads: request policies must be "
            f"in a package under goldenpath., Terraform plan policies under "
            f"goldenpath.terraform., and foreign packages (conftest's main, say) must be named "
            f"in a policies.yaml beside them"
        )
    if not group.claims(package):
        return (
            f"declares package {package}, but its group '{group.name}' evaluates only "
            f"{', '.join(group.namespaces)}"
        )
    names = sorted({n for names in group.rules.values() for n in names})
    return (
        f"package {package} declares none of the rules {group.describe()} evaluates "
        f"({', '.join(names)}) and no other policy uses it: it would never judge anything"
    )


# Module-level and never freed: per-thread dicts are then cleared by their own thread when it ends,
# so engines are never dropped on a foreign thread (pyo3 refuses that for unsendable classes).
_threads = threading.local()
_tokens = itertools.count(1)


def _thread_engines() -> dict[int, tuple[weakref.ref[PolicySet], Any]]:
    engines: dict[int, tuple[weakref.ref[PolicySet], Any]] | None = getattr(
        _threads, "engines", None
    )
    if engines is None:
        engines = _threads.engines = {}
    return engines


def _messages(value: Any, target: _Target) -> tuple[str, ...]:
    if value is None or value is False:
        return ()
    if isinstance(value, set | frozenset) and all(isinstance(item, str) for item in value):
        return tuple(sorted(value))
    if not target.strict:
        # As conftest reads them: strings, objects with "msg", or a rule that is simply true.
        if value is True:
            return (f"{target.package}.{target.rule}",)
        if isinstance(value, str):
            return (value,)
        items = value if isinstance(value, set | frozenset | list | tuple) else None
        if items is not None and all(
            isinstance(i, str) or (isinstance(i, Mapping) and isinstance(i.get("msg"), str))
            for i in items
        ):
            return tuple(sorted(i if isinstance(i, str) else str(i["msg"]) for i in items))
    raise TypeError(
        f"rule '{target.rule}' must be a set of strings, got {type(value).__name__} {value!r}"
    )


class PolicySet:
    """Loaded Rego modules, evaluated on input documents; thread safe through per-thread engines.

    Fails closed: a file that cannot be read or parsed, or that is loaded but would never be
    evaluated (a package no evaluation reads, no rule that counts), is a load error, and every
    evaluation denies with it until it is fixed.
    """

    def __init__(
        self,
        org: Iterable[RegoModule] = (),
        *,
        template: Iterable[RegoModule] = (),
        data: Mapping[str, Any] | None = None,
        unreadable: Iterable[tuple[str, str]] = (),
    ) -> None:
        self._org = tuple(org)
        self._template = tuple(template)
        self._data = dict(data) if data else None
        self._unreadable = tuple(unreadable)
        self._token = next(_tokens)

        errors = [_error(name, "", reason) for name, reason in self._unreadable]
        engine = Engine()
        if self._data is not None:
            try:
                engine.add_data(self._data)
            except BaseException as exc:
                if not is_engine_error(exc):
                    raise
                errors.append(_error("policy data", "", error_text(exc)))
                self._data = None
        loaded: list[RegoModule] = []
        org_packages: set[str] = set()
        for module in self._org:
            try:
                package, resolved = add_module(engine, module)
            except BaseException as exc:
                if not is_engine_error(exc):
                    raise
                errors.append(_error(module.name, "", error_text(exc)))
                continue
            org_packages.add(package.removeprefix("data."))
            loaded.append(resolved)
        for module in self._template:
            native = RegoModule(name=module.name, source=module.source)
            try:
                package = add_module(Engine(), native)[0].removeprefix("data.")
            except BaseException as exc:
                if not is_engine_error(exc):
                    raise
                errors.append(_error(module.name, "", error_text(exc)))
                continue
            taken = next(
                (p for p in (*sorted(org_packages), *RESERVED_PACKAGES) if _overlaps(package, p)),
                None,
            )
            if taken is not None:
                errors.append(
                    _error(
                        module.name,
                        package,
                        f"a template guardrail may not declare package {package}: "
                        f"it would change the organisation's package {taken}",
                    )
                )
                continue
            loaded.append(add_module(engine, native)[1])

        self._loaded = tuple(loaded)
        self._files, targets, dead = self._classify(engine)
        self._load_errors = tuple(errors + dead)
        self._targets = {
            applies_to: tuple(t for t in targets if t[0] == applies_to)
            for applies_to in (REQUEST, TERRAFORM)
        }
        _thread_engines()[self._token] = (weakref.ref(self), engine)

    def _classify(
        self, engine: Any
    ) -> tuple[tuple[PolicyFile, ...], list[tuple[str, _Target]], list[Violation]]:
        """Which rules each evaluation reads, what each file contributes, and the dead files."""
        by_name = {module.name: module for module in self._loaded}
        outlines = [o for o in outline(engine) if o.name in by_name]
        group_of = {o.name: by_name[o.name].group or native_group(o.package) for o in outlines}
        counted: dict[tuple[str, str], set[str]] = {}
        for found in outlines:
            group = group_of[found.name]
            if group is None or not group.claims(found.package):
                continue
            rules = {rule for rule in found.rules if group.kind_of(rule)}
            counted.setdefault((group.name, found.package), set()).update(rules)
        files: list[PolicyFile] = []
        targets: dict[tuple[str, str, str, str | None], tuple[str, _Target]] = {}
        dead: list[Violation] = []
        for found in outlines:
            module, group = by_name[found.name], group_of[found.name]
            rules = counted.get((group.name, found.package), set()) if group else set()
            helper = not rules and _referenced(found.package, module, self._loaded)
            if not rules and not helper:
                dead.append(_error(found.name, found.package, _dead_reason(found.package, group)))
                continue
            mine = sorted(rule for rule in found.rules if rule in rules)
            files.append(
                PolicyFile(
                    name=found.name,
                    package=found.package,
                    group=group.describe() if group else "helper library",
                    applies_to=group.applies_to if group and rules else None,
                    dialect=module.dialect,
                    rules=tuple(mine),
                    helper=helper,
                )
            )
            if group is None:
                continue
            for rule in mine:
                kind = group.kind_of(rule)
                assert kind is not None
                key = (group.applies_to, found.package, rule, group.input_key)
                previous = targets.get(key)
                policy = found.name if previous is None else f"{previous[1].policy}, {found.name}"
                targets[key] = (
                    group.applies_to,
                    _Target(
                        package=found.package,
                        policy=policy,
                        rule=rule,
                        kind=kind,
                        input_key=group.input_key,
                        strict=group.native,
                    ),
                )
        return tuple(files), list(targets.values()), dead

    @classmethod
    def from_paths(
        cls, paths: Iterable[Path], *, data: Mapping[str, Any] | None = None
    ) -> PolicySet:
        """Policies from files and folders (every *.rego below a folder, except *_test.rego)."""
        modules, unreadable = read_modules(paths, include_tests=False)
        return cls(modules, data=data, unreadable=unreadable)

    @classmethod
    def from_sources(
        cls, sources: Mapping[str, str], *, data: Mapping[str, Any] | None = None
    ) -> PolicySet:
        """Policies from name -> Rego text."""
        return cls(
            (RegoModule(name=name, source=text) for name, text in sources.items()), data=data
        )

    def with_sources(self, extra: Mapping[str, str]) -> PolicySet:
        """This set plus a template's own guardrails, which can add rules but never remove ours."""
        added = (RegoModule(name=name, source=text) for name, text in extra.items())
        return PolicySet(
            self._org,
            template=(*self._template, *added),
            data=self._data,
            unreadable=self._unreadable,
        )

    @property
    def packages(self) -> tuple[str, ...]:
        return tuple(sorted({f.package for f in self._files}))

    @property
    def policies(self) -> tuple[str, ...]:
        return tuple(module.name for module in self._loaded)

    @property
    def load_errors(self) -> tuple[Violation, ...]:
        return self._load_errors

    @property
    def files(self) -> tuple[PolicyFile, ...]:
        """Every loaded file that contributes, with the rules each evaluation reads from it."""
        return self._files

    @property
    def problems(self) -> tuple[str, ...]:
        """The load errors as lines naming the file (empty when every file is sound)."""
        return tuple(v.message for v in self._load_errors)

    def evaluate(
        self, document: Mapping[str, Any], *, namespace: str = REQUEST_NAMESPACE
    ) -> Verdict:
        """Every deny, warn and require_approval of the policies that judge this kind of
        document (requests, or Terraform plans when ``namespace`` is goldenpath.terraform).

        Never raises for engine trouble: any error becomes a deny naming the policy (fail closed).
        """
        applies_to = TERRAFORM if _is_terraform(namespace) else REQUEST
        found: dict[str, list[Violation]] = {rule: [] for rule in RULES}
        found["deny"].extend(self._load_errors)
        plain = document if isinstance(document, dict) else dict(document)
        try:
            engine = self._engine()
        except BaseException as exc:
            if not is_engine_error(exc):
                raise
            self._forget_engine()
            found["deny"].append(_error("policy engine", "", error_text(exc)))
            return Verdict.of(found["deny"])
        failed = False
        shapes: dict[str | None, list[_Target]] = {}
        for _, target in self._targets[applies_to]:
            shapes.setdefault(target.input_key, []).append(target)
        for input_key, targets in shapes.items():
            try:
                engine.set_input(plain if input_key is None else {input_key: plain})
            except BaseException as exc:
                if not is_engine_error(exc):
                    raise
                self._forget_engine()
                found["deny"].append(_error("input document", "", error_text(exc)))
                return Verdict.of(found["deny"])
            for target in targets:
                try:
                    # Foreign rules may hold objects ({"msg": ...}), which only JSON carries.
                    value = (
                        engine.eval_rule(target.path)
                        if target.strict
                        else json.loads(engine.eval_rule_as_json(target.path))
                    )
                    messages = _messages(value, target)
                except BaseException as exc:
                    if not is_engine_error(exc):
                        raise
                    failed = True
                    found["deny"].append(_error(target.policy, target.package, error_text(exc)))
                    continue
                found[target.kind].extend(
                    Violation(
                        policy=target.policy, rule=target.kind, message=m, package=target.package
                    )
                    for m in messages
                )
        if failed:
            self._forget_engine()
        return Verdict.of(found["deny"], found["warn"], found["require_approval"])

    def _engine(self) -> Any:
        engines = _thread_engines()
        entry = engines.get(self._token)
        if entry is not None:
            return entry[1]
        for token, (owner, _) in list(engines.items()):
            if owner() is None:
                del engines[token]
        engine = Engine()
        if self._data is not None:
            engine.add_data(self._data)
        for module in self._loaded:
            add_module(engine, module)
        engines[self._token] = (weakref.ref(self), engine)
        return engine

    def _forget_engine(self) -> None:
        # After an error the engine state is unknown; the next evaluation here rebuilds it.
        _thread_engines().pop(self._token, None)
