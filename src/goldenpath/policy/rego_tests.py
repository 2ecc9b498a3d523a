"""Running the `test_*` rules of Rego policy tests (what `goldenpath policies test` reports)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from goldenpath.policy.rego import (
    Engine,
    add_module,
    error_text,
    is_engine_error,
    outline,
    read_modules,
)


@dataclass(frozen=True)
class RegoTestResult:
    """One `test_*` rule: passed iff it evaluated to true."""

    file: str
    package: str
    name: str
    passed: bool
    error: str | None = None


@dataclass(frozen=True)
class RegoTestReport:
    """Every test found, plus the files that could not be read or parsed (each a failure)."""

    results: tuple[RegoTestResult, ...]

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(result.passed for result in self.results)

    @property
    def failures(self) -> tuple[RegoTestResult, ...]:
        return tuple(result for result in self.results if not result.passed)

    @property
    def summary(self) -> str:
        failed = len(self.failures)
        return f"{len(self.results) - failed} passed, {failed} failed"


def run_rego_tests(paths: Iterable[Path]) -> RegoTestReport:
    """Load every .rego under the paths (policies and tests) in one engine; run each test rule."""
    modules, unreadable = read_modules(paths, include_tests=True)
    results = [
        RegoTestResult(file=name, package="", name="(load)", passed=False, error=reason)
        for name, reason in unreadable
    ]
    engine = Engine()
    for module in modules:
        try:
            add_module(engine, module)
        except BaseException as exc:
            if not is_engine_error(exc):
                raise
            results.append(
                RegoTestResult(
                    file=module.name, package="", name="(load)", passed=False, error=error_text(exc)
                )
            )
    for found in outline(engine):
        for name in sorted(rule for rule in found.rules if rule.startswith("test_")):
            results.append(_run_one(engine, found.name, found.package, name))
    return RegoTestReport(results=tuple(results))


def _run_one(engine: object, file: str, package: str, name: str) -> RegoTestResult:
    try:
        value = engine.eval_rule(f"data.{package}.{name}")  # type: ignore[attr-defined]
    except BaseException as exc:
        if not is_engine_error(exc):
            raise
        return RegoTestResult(file, package, name, passed=False, error=error_text(exc))
    if value is True:
        return RegoTestResult(file, package, name, passed=True)
    got = "undefined" if value is None else repr(value)
    return RegoTestResult(file, package, name, passed=False, error=f"expected true, got {got}")
