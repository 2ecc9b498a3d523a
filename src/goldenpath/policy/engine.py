"""PolicySet: Rego guardrails loaded once, evaluated on input documents into one Verdict.

regorus engines are "unsendable": an engine may only be used, cloned and dropped on the thread that
created it. So a PolicySet keeps the module sources, not an engine, and each thread builds its own
engine the first time it evaluates the set.
"""

from __future__ import annotations

import itertools
import threading
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from goldenpath.policy.rego import (
    Engine,
    RegoModule,
    error_text,
    is_engine_error,
    outline,
    read_modules,
)
from goldenpath.policy.verdict import Verdict, Violation

REQUEST_NAMESPACE = "goldenpath"
TERRAFORM_NAMESPACE = "goldenpath.terraform"
RULES = ("deny", "warn", "require_approval")
ERROR_RULE = "error"
# Template guardrails may add packages but never extend or shadow these (nor any org package).
RESERVED_PACKAGES = ("goldenpath.config",)


@dataclass(frozen=True)
class _Target:
    package: str
    policy: str
    rule: str
    path: str


def _error(policy: str, package: str, detail: str) -> Violation:
    return Violation(
        policy=policy,
        rule=ERROR_RULE,
        message=f"policy engine error in {policy}: {detail}",
        package=package,
    )


def _overlaps(package: str, other: str) -> bool:
    return package == other or package.startswith(other + ".") or other.startswith(package + ".")


def _in_namespace(package: str, namespace: str) -> bool:
    if not package.startswith(namespace + "."):
        return False
    # Terraform plan policies read a different input; they only run when asked for by namespace.
    return not _is_terraform(package) or _is_terraform(namespace)


def _is_terraform(name: str) -> bool:
    return name == TERRAFORM_NAMESPACE or name.startswith(TERRAFORM_NAMESPACE + ".")


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


def _messages(value: Any, rule: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, set | frozenset) and all(isinstance(item, str) for item in value):
        return tuple(sorted(value))
    raise TypeError(f"rule '{rule}' must be a set of strings, got {type(value).__name__} {value!r}")


class PolicySet:
    """Loaded Rego modules, evaluated on input documents; thread safe through per-thread engines."""

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
        self._target_cache: dict[str, tuple[_Target, ...]] = {}

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
                org_packages.add(
                    engine.add_policy(module.name, module.source).removeprefix("data.")
                )
                loaded.append(module)
            except BaseException as exc:
                if not is_engine_error(exc):
                    raise
                errors.append(_error(module.name, "", error_text(exc)))
        for module in self._template:
            try:
                package = Engine().add_policy(module.name, module.source).removeprefix("data.")
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
            engine.add_policy(module.name, module.source)
            loaded.append(module)

        self._loaded = tuple(loaded)
        self._load_errors = tuple(errors)
        files: dict[str, set[str]] = {}
        rules: dict[str, set[str]] = {}
        for found in outline(engine):
            files.setdefault(found.package, set()).add(found.name)
            rules.setdefault(found.package, set()).update(found.rules)
        self._packages = {
            package: (", ".join(sorted(files[package])), frozenset(rules[package]))
            for package in sorted(files)
        }
        _thread_engines()[self._token] = (weakref.ref(self), engine)

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
        return tuple(self._packages)

    @property
    def policies(self) -> tuple[str, ...]:
        return tuple(module.name for module in self._loaded)

    @property
    def load_errors(self) -> tuple[Violation, ...]:
        return self._load_errors

    def evaluate(
        self, document: Mapping[str, Any], *, namespace: str = REQUEST_NAMESPACE
    ) -> Verdict:
        """Every deny, warn and require_approval of the namespace's packages, as one Verdict.

        Never raises for engine trouble: any error becomes a deny naming the policy (fail closed).
        """
        found: dict[str, list[Violation]] = {rule: [] for rule in RULES}
        found["deny"].extend(self._load_errors)
        try:
            engine = self._engine()
            engine.set_input(document if isinstance(document, dict) else dict(document))
        except BaseException as exc:
            if not is_engine_error(exc):
                raise
            self._forget_engine()
            found["deny"].append(_error("input document", "", error_text(exc)))
            return Verdict.of(found["deny"])
        failed = False
        for target in self._targets(namespace):
            try:
                messages = _messages(engine.eval_rule(target.path), target.rule)
            except BaseException as exc:
                if not is_engine_error(exc):
                    raise
                failed = True
                found["deny"].append(_error(target.policy, target.package, error_text(exc)))
                continue
            found[target.rule].extend(
                Violation(policy=target.policy, rule=target.rule, message=m, package=target.package)
                for m in messages
            )
        if failed:
            self._forget_engine()
        return Verdict.of(found["deny"], found["warn"], found["require_approval"])

    def _targets(self, namespace: str) -> tuple[_Target, ...]:
        targets = self._target_cache.get(namespace)
        if targets is None:
            targets = tuple(
                _Target(package=package, policy=policy, rule=rule, path=f"data.{package}.{rule}")
                for package, (policy, rules) in self._packages.items()
                if _in_namespace(package, namespace)
                for rule in RULES
                if rule in rules
            )
            self._target_cache[namespace] = targets
        return targets

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
            engine.add_policy(module.name, module.source)
        engines[self._token] = (weakref.ref(self), engine)
        return engine

    def _forget_engine(self) -> None:
        # After an error the engine state is unknown; the next evaluation here rebuilds it.
        _thread_engines().pop(self._token, None)
