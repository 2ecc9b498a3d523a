from __future__ import annotations

import json

import pytest

from goldenpath.policy import Verdict, Violation


def violation(rule: str, message: str, policy: str = "p.rego") -> Violation:
    return Violation(policy=policy, rule=rule, message=message, package="goldenpath.p")


@pytest.mark.parametrize(
    ("violations", "approvals", "decision"),
    [
        ([], [], "allow"),
        ([], [violation("require_approval", "over budget")], "require_approval"),
        ([violation("deny", "public")], [], "deny"),
        ([violation("deny", "public")], [violation("require_approval", "over budget")], "deny"),
    ],
)
def test_decision_precedence(
    violations: list[Violation], approvals: list[Violation], decision: str
) -> None:
    verdict = Verdict.of(violations, [violation("warn", "heads up")], approvals)
    assert verdict.decision == decision
    assert verdict.allowed is (decision != "deny")


def test_every_violation_is_kept_in_a_stable_order() -> None:
    found = [violation("deny", f"m{i}", policy=f"{'zyx'[i % 3]}.rego") for i in range(9)]
    verdict = Verdict.of(reversed(found))
    assert len(verdict.violations) == 9
    assert verdict.violations == Verdict.of(found).violations


def test_round_trips_through_json() -> None:
    verdict = Verdict.of(
        [violation("deny", "public")],
        [violation("warn", "heads up")],
        [violation("require_approval", "over budget")],
    )
    assert Verdict.from_dict(json.loads(json.dumps(verdict.as_dict()))) == verdict


def test_rejects_an_unknown_decision() -> None:
    with pytest.raises(ValueError, match="decision must be one of"):
        Verdict(decision="maybe")
