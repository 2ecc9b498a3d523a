"""The verdict of a guardrail check: what was denied, warned about, or sent to a human."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

ALLOW = "allow"
DENY = "deny"
REQUIRE_APPROVAL = "require_approval"
DECISIONS = (ALLOW, DENY, REQUIRE_APPROVAL)


@dataclass(frozen=True)
class Violation:
    """One message from one rule of one policy."""

    policy: str
    rule: str
    message: str
    package: str

    def as_dict(self) -> dict[str, str]:
        return {
            "policy": self.policy,
            "rule": self.rule,
            "message": self.message,
            "package": self.package,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Violation:
        return cls(
            policy=str(data["policy"]),
            rule=str(data["rule"]),
            message=str(data["message"]),
            package=str(data.get("package", "")),
        )


def _sorted(items: Iterable[Violation]) -> tuple[Violation, ...]:
    # Rego sets are unordered; a stable order makes verdicts comparable and diffs readable.
    return tuple(sorted(items, key=lambda v: (v.policy, v.package, v.rule, v.message)))


@dataclass(frozen=True)
class Verdict:
    """One decision for a request or plan: deny beats require_approval, which beats allow."""

    decision: str
    violations: tuple[Violation, ...] = ()
    warnings: tuple[Violation, ...] = ()
    approvals: tuple[Violation, ...] = ()

    def __post_init__(self) -> None:
        if self.decision not in DECISIONS:
            raise ValueError(
                f"decision must be one of {', '.join(DECISIONS)}, not {self.decision!r}"
            )

    @classmethod
    def of(
        cls,
        violations: Iterable[Violation] = (),
        warnings: Iterable[Violation] = (),
        approvals: Iterable[Violation] = (),
    ) -> Verdict:
        """The verdict that follows from these findings."""
        denied, warned, routed = _sorted(violations), _sorted(warnings), _sorted(approvals)
        decision = DENY if denied else REQUIRE_APPROVAL if routed else ALLOW
        return cls(decision=decision, violations=denied, warnings=warned, approvals=routed)

    @property
    def allowed(self) -> bool:
        return self.decision != DENY

    def as_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "violations": [v.as_dict() for v in self.violations],
            "warnings": [v.as_dict() for v in self.warnings],
            "approvals": [v.as_dict() for v in self.approvals],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Verdict:
        return cls(
            decision=str(data["decision"]),
            violations=tuple(Violation.from_dict(v) for v in data.get("violations", ())),
            warnings=tuple(Violation.from_dict(v) for v in data.get("warnings", ())),
            approvals=tuple(Violation.from_dict(v) for v in data.get("approvals", ())),
        )
