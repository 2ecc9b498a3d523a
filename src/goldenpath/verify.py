"""Proof at publish time: walk a template's parameter space and judge every input's plan.

Finite parameters (enums, booleans, consts, small integer ranges) are enumerated exhaustively;
free ones (strings, numbers, large ranges) are sampled with hypothesis-jsonschema under a fixed
seed. Every finite combination is tried, each with sampled values for the free parameters, so a
guardrail that depends on a choice in the form is checked for every choice. Planning has no side
effects, so nothing is created.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from goldenpath.actions.registry import ActionRegistry
from goldenpath.errors import GoldenPathError, InvalidInputs
from goldenpath.execution.guardrails import Guardrails, TeamFacts, input_document
from goldenpath.execution.planner import Requester, resolve_plan
from goldenpath.policy import Violation
from goldenpath.settings import BackendSettings
from goldenpath.templates import parameters as params
from goldenpath.templates.loader import Template

MAX_RANGE = 32
MAX_COMBINATIONS = 4096
VERIFIER = Requester(user="verifier", team="verify")


@dataclass(frozen=True)
class Counterexample:
    parameters: dict[str, Any]
    problems: tuple[str, ...]


@dataclass(frozen=True)
class VerifyResult:
    template: str
    version: str
    inputs: int
    exhaustive: bool
    combinations: int
    counterexample: Counterexample | None = None
    skipped: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        # Nothing tried proves nothing: a form that accepts none of the generated inputs
        # (or a sampler that found none) is a failure, never a pass.
        return self.counterexample is None and self.inputs > 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "template": self.template,
            "version": self.version,
            "ok": self.ok,
            "inputs": self.inputs,
            "exhaustive": self.exhaustive,
            "combinations": self.combinations,
            "counterexample": None
            if self.counterexample is None
            else {
                "parameters": self.counterexample.parameters,
                "problems": list(self.counterexample.problems),
            },
            "summary": self.summary,
        }

    @property
    def summary(self) -> str:
        name = f"{self.template}@{self.version}"
        if self.counterexample is not None:
            values = ", ".join(f"{k}={v!r}" for k, v in self.counterexample.parameters.items())
            return f"{name}: counterexample {{{values}}}: " + "; ".join(
                self.counterexample.problems
            )
        if self.inputs == 0:
            return (
                f"{name}: verified nothing: none of the generated inputs is accepted by the "
                "form (check its patterns and bounds, or raise --samples)"
            )
        if self.exhaustive:
            return f"{name}: proven for all {self.inputs} inputs"
        return (
            f"{name}: sampled {self.inputs} inputs (all {self.combinations} combinations of "
            "finite parameters), no violation"
        )


class _AnyBackend(Mapping[str, BackendSettings]):
    """Every backend name resolves: verification judges templates, not this machine's config."""

    def __getitem__(self, name: str) -> BackendSettings:
        return BackendSettings(kind="*")

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def finite_values(schema: Mapping[str, Any]) -> list[Any] | None:
    """Every value a property schema allows, when there are few enough; else None."""
    if "const" in schema:
        return [schema["const"]]
    if "enum" in schema:
        return list(schema["enum"])
    kind = schema.get("type")
    if kind == "boolean":
        return [False, True]
    if kind == "integer" and "minimum" in schema and "maximum" in schema:
        low, high = int(schema["minimum"]), int(schema["maximum"])
        if high - low < MAX_RANGE:
            return list(range(low, high + 1))
    return None


def _free_samples(schema: Mapping[str, Any], count: int, seed: int) -> list[Any]:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis.errors import HypothesisException
    from hypothesis_jsonschema import from_schema

    found: list[Any] = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(from_schema(dict(schema)))
    def collect(value: Any) -> None:
        found.append(value)

    collect._hypothesis_internal_use_seed = seed  # type: ignore[attr-defined]
    # No value may satisfy the schema (a pattern at odds with its length bounds): nothing to
    # sample, which the result then reports as "verified nothing", never as a pass.
    try:
        collect()
    except HypothesisException:
        pass
    except AttributeError:
        # hypothesis-jsonschema 0.23 breaks on object schemas under recent hypothesis ('many'
        # object has no attribute 'more'): such a parameter goes unsampled (left out when it
        # is optional), which the counts in the result show.
        found.clear()
    return found or [None]


def parameter_inputs(
    template: Template, samples: int, seed: int = 0
) -> tuple[list[dict[str, Any]], bool, int]:
    """The inputs to try, whether they cover the space exhaustively, and the finite combinations."""
    properties: dict[str, Any] = template.schema.get("properties", {})
    required = set().union(
        *(set(p.get("required", [])) for p in params.pages(template.document.spec.parameters))
    )
    finite: dict[str, list[Any]] = {}
    free: dict[str, list[Any]] = {}
    for name, schema in properties.items():
        choices = finite_values(schema)
        if choices is not None:
            finite[name] = choices + ([] if name in required or "default" in schema else [_OMIT])
        else:
            free[name] = _free_samples(schema, samples, seed)
    names = list(finite)
    combinations = list(itertools.islice(itertools.product(*finite.values()), MAX_COMBINATIONS))
    exhaustive = not free and len(combinations) < MAX_COMBINATIONS
    rounds = 1 if not free else max(samples, 1)
    inputs: list[dict[str, Any]] = []
    for index in range(max(rounds, 1)):
        for combination in combinations:
            candidate = {n: v for n, v in zip(names, combination, strict=True) if v is not _OMIT}
            for name, pool in free.items():
                value = pool[(index + len(inputs)) % len(pool)]
                if value is not None or name in required:
                    candidate[name] = value
            inputs.append(candidate)
        if not free:
            break
    return inputs, exhaustive, len(combinations)


def _without_refused_optional(
    template: Template, values: Mapping[str, Any], refused: InvalidInputs
) -> dict[str, Any] | None:
    required = set().union(
        *(set(p.get("required", [])) for p in params.pages(template.document.spec.parameters))
    )
    named = {re.split(r"[.\[]", e.field, maxsplit=1)[0] for e in refused.errors}
    if named & required or not named & set(values):
        return None
    try:
        return params.validate(template.schema, {k: v for k, v in values.items() if k not in named})
    except InvalidInputs:
        return None


class _Omit:
    def __repr__(self) -> str:
        return "(omitted)"


_OMIT = _Omit()


def verify_template(
    template: Template,
    registry: ActionRegistry,
    guardrails: Guardrails,
    *,
    samples: int = 50,
    seed: int = 0,
) -> VerifyResult:
    inputs, exhaustive, combinations = parameter_inputs(template, samples, seed)
    backends = _AnyBackend()
    team = TeamFacts(name=VERIFIER.team, monthly_budget_usd=None, current_spend_usd=0.0)
    tried = 0
    for values in inputs:
        try:
            accepted = params.validate(template.schema, values)
        except InvalidInputs as refused:
            # Optional free fields are sampled into every input; a conditional form (another
            # branch's field, a page that does not apply) refuses them, so try without them.
            repaired = _without_refused_optional(template, values, refused)
            if repaired is None:
                continue  # the form refuses it: not an input a developer can send
            accepted = repaired
        tried += 1
        try:
            plan = resolve_plan(
                template,
                accepted,
                VERIFIER,
                registry,
                backends,
                plan_guard=guardrails.terraform_guard(template),
            )
        except GoldenPathError as exc:
            problem = f"the form accepts it but planning fails: {exc.message}"
            return _found(template, tried, exhaustive, combinations, accepted, (problem,))
        document = input_document(template, accepted, VERIFIER, team, plan)
        verdict = guardrails.judge(template, document)
        # What a Terraform plan's own guardrails denied counts like any other denial.
        denied = [*verdict.violations, *map(Violation.from_dict, plan["plan_violations"])]
        if denied:
            problems = tuple(f"{v.policy}: {v.message}" for v in denied)
            return _found(template, tried, exhaustive, combinations, accepted, problems)
    return VerifyResult(
        template=template.name,
        version=template.version,
        inputs=tried,
        exhaustive=exhaustive,
        combinations=combinations,
    )


def _found(
    template: Template,
    tried: int,
    exhaustive: bool,
    combinations: int,
    values: dict[str, Any],
    problems: tuple[str, ...],
) -> VerifyResult:
    return VerifyResult(
        template=template.name,
        version=template.version,
        inputs=tried,
        exhaustive=exhaustive,
        combinations=combinations,
        counterexample=Counterexample(parameters=values, problems=problems),
    )
