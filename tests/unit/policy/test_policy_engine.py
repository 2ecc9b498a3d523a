from __future__ import annotations

import copy
import gc
import re
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from goldenpath.policy import PolicySet, Verdict
from goldenpath.policy.vocabulary import described

STARTER = Path(__file__).resolve().parents[3] / "starter" / "policies"

PRIVATE_BLOCK = {
    "block_public_acls": True,
    "ignore_public_acls": True,
    "block_public_policy": True,
    "restrict_public_buckets": True,
}
TAGS = {"owner": "payments", "cost-center": "cc-1"}


def resource(type_: str, name: str, config: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return described(
        {
            "step": name,
            "action": type_,
            "type": type_,
            "name": name,
            "config": config,
            "tags": dict(TAGS),
            "region": None,
            "monthly_cost_usd": 5.0,
        }
        | extra
    )


def request(*resources: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "template": {"name": "postgres-database", "version": "1.0.0", "owner": "platform-team"},
        "parameters": {"name": "orders", "size": "small"},
        "actor": {"user": "alice", "teams": ["payments"], "roles": ["developer"]},
        "team": {"name": "payments", "monthly_budget_usd": 500.0, "current_spend_usd": 120.0},
        "request": {"dry_run": False, "exception": False},
        "plan": {
            "resources": list(resources)
            or [resource("postgres:database", "orders", {"connection_limit": 20})],
            "outputs": [
                {
                    "name": "dsn",
                    "kind": "value",
                    "expression": "${{ steps.db.output.dsn }}",
                    "secret_refs": [],
                },
                {
                    "name": "password",
                    "kind": "secret",
                    "expression": "${{ steps.db.output.password }}",
                    "secret_refs": ["steps.db.output.password"],
                },
            ],
            "total_monthly_cost_usd": 15.0,
        },
    }
    doc.update(overrides)
    return doc


def bucket(
    name: str = "logs",
    *,
    region: str = "eu-west-1",
    tags: dict[str, str] = TAGS,
    **config: Any,
) -> dict[str, Any]:
    base = {"public_access_block": dict(PRIVATE_BLOCK), "acl": "private", "versioning": False}
    return resource("aws:s3:bucket", name, {**base, **config}, region=region, tags=tags)


def instance(instance_type: str, name: str = "web") -> dict[str, Any]:
    config = {"instance_type": instance_type, "public_ip": False}
    return resource("aws:ec2:instance", name, config, region="eu-west-1")


@pytest.fixture(scope="module")
def starter() -> PolicySet:
    policies = PolicySet.from_paths([STARTER])
    assert policies.load_errors == ()
    return policies


def messages(verdict: Verdict) -> list[tuple[str, str]]:
    return [(v.policy, v.message) for v in verdict.violations]


def test_starter_library_loads_every_policy_but_not_the_tests(starter: PolicySet) -> None:
    assert set(starter.policies) == {
        "budget.rego",
        "database_sizes.rego",
        "instance_types.rego",
        "naming.rego",
        "regions.rego",
        "required_tags.rego",
        "s3_private.rego",
        "secret_outputs.rego",
        "unknown_resources.rego",
    }


def test_a_compliant_request_is_allowed(starter: PolicySet) -> None:
    verdict = starter.evaluate(request(bucket(), instance("t3.small")))
    assert verdict.decision == "allow", verdict.as_dict()
    assert verdict.violations == verdict.approvals == ()


@pytest.mark.parametrize("instance_type", ["t3.nano", "t3.micro", "t3.small", "t3.medium"])
def test_small_instance_types_are_allowed(starter: PolicySet, instance_type: str) -> None:
    assert starter.evaluate(request(instance(instance_type))).decision == "allow"


@pytest.mark.parametrize("instance_type", ["m5.large", "t3.large", "p4d.24xlarge"])
def test_large_instance_types_are_denied_naming_the_policy(
    starter: PolicySet, instance_type: str
) -> None:
    verdict = starter.evaluate(request(instance(instance_type)))
    assert verdict.decision == "deny"
    [found] = verdict.violations
    assert found.policy == "instance_types.rego"
    assert found.package == "goldenpath.instance_types"
    assert found.message.startswith(
        f"aws:ec2:instance.web (aws:ec2:instance) uses size '{instance_type}', which is not allowed"
    )


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            {"acl": "public-read"},
            "bucket 'aws:s3:bucket.site' must not have a public ACL: acl is 'public-read'",
        ),
        (
            {"public_access_block": {**PRIVATE_BLOCK, "block_public_acls": False}},
            "bucket 'aws:s3:bucket.site' must block public access: block_public_acls is false",
        ),
        (
            {"public_access_block": {**PRIVATE_BLOCK, "restrict_public_buckets": False}},
            "bucket 'aws:s3:bucket.site' must block public access: "
            "restrict_public_buckets is false",
        ),
    ],
)
def test_a_hard_coded_public_bucket_is_denied(
    starter: PolicySet, config: dict[str, Any], expected: str
) -> None:
    verdict = starter.evaluate(request(bucket("site", **config)))
    assert messages(verdict) == [("s3_private.rego", expected)]


def test_every_violation_is_collected(starter: PolicySet) -> None:
    bad = bucket("Logs", acl="public-read-write", tags={}, region="ap-south-1")
    verdict = starter.evaluate(request(bad, instance("m5.large")))
    assert {policy for policy, _ in messages(verdict)} == {
        "instance_types.rego",
        "naming.rego",
        "regions.rego",
        "required_tags.rego",
        "s3_private.rego",
    }
    assert len(verdict.violations) == 6


@pytest.mark.parametrize(
    ("spend", "budget", "decision"),
    [(120.0, 500.0, "allow"), (485.0, 500.0, "allow"), (490.0, 500.0, "require_approval")],
)
def test_going_over_budget_requires_approval_not_a_deny(
    starter: PolicySet, spend: float, budget: float, decision: str
) -> None:
    team = {"name": "payments", "monthly_budget_usd": budget, "current_spend_usd": spend}
    verdict = starter.evaluate(request(team=team))
    assert verdict.decision == decision
    assert verdict.violations == ()
    if decision == "require_approval":
        [reason] = verdict.approvals
        assert reason.policy == "budget.rego"
        assert "team 'payments' would exceed its monthly budget" in reason.message


def test_no_budget_means_no_approval(starter: PolicySet) -> None:
    team = {"name": "payments", "monthly_budget_usd": None, "current_spend_usd": 1e9}
    assert starter.evaluate(request(team=team)).decision == "allow"


def test_a_secret_in_a_plain_output_is_denied(starter: PolicySet) -> None:
    doc = request()
    doc["plan"]["outputs"][0]["secret_refs"] = ["steps.db.output.password"]
    verdict = starter.evaluate(doc)
    assert verdict.decision == "deny"
    [(policy, message)] = messages(verdict)
    assert policy == "secret_outputs.rego"
    assert message.startswith("output 'dsn' would show a secret in plain text")


def test_regions_come_from_platform_data_when_configured() -> None:
    data = {"goldenpath": {"config": {"allowed_regions": ["ap-south-1"]}}}
    policies = PolicySet.from_paths([STARTER / "regions.rego"], data=data)
    assert policies.evaluate(request(bucket(region="ap-south-1"))).decision == "allow"
    assert policies.evaluate(request(bucket(region="eu-west-1"))).decision == "deny"


def test_terraform_policies_do_not_run_on_requests() -> None:
    policies = PolicySet.from_sources(
        {"tf.rego": 'package goldenpath.terraform.always\ndeny contains "plan denied" if true\n'}
    )
    assert policies.evaluate(request()).decision == "allow"
    assert policies.evaluate({}, namespace="goldenpath.terraform").decision == "deny"


def test_warnings_are_reported_without_changing_the_decision() -> None:
    policies = PolicySet.from_sources(
        {"w.rego": 'package goldenpath.w\nwarn contains "consider versioning" if true\n'}
    )
    verdict = policies.evaluate(request())
    assert verdict.decision == "allow"
    assert [w.message for w in verdict.warnings] == ["consider versioning"]


NOISE = ("RUST_BACKTRACE", "panicked", "Stack backtrace", "Traceback", "\n")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "package goldenpath.bad\ndeny contains msg if {\n",
            r"expecting expression at bad\.rego:\d+",
        ),
        (
            "package goldenpath.bad\ndeny contains msg if { msg := no.such_builtin(1) }\n",
            "could not find function no.such_builtin",
        ),
        ('package goldenpath.bad\ndeny := "not a set"\n', "rule 'deny' must be a set of strings"),
        ("package goldenpath.bad\ndeny contains 42 if true\n", "must be a set of strings"),
        (
            "package goldenpath.bad\nx := 1\nx := 2\ndeny contains 'x' if x == 1\n",
            "policy engine error in bad.rego",
        ),
    ],
)
def test_engine_errors_fail_closed_with_a_readable_message(source: str, expected: str) -> None:
    policies = PolicySet.from_sources(
        {"bad.rego": source, "ok.rego": 'package goldenpath.ok\nwarn contains "still ran" if true'}
    )
    verdict = policies.evaluate(request())
    assert verdict.decision == "deny"
    [error] = verdict.violations
    assert error.rule == "error"
    assert error.policy == "bad.rego"
    assert error.message.startswith("policy engine error in bad.rego: ")
    assert not any(noise in error.message for noise in NOISE), error.message
    assert re.search(expected, error.message), error.message
    assert [w.message for w in verdict.warnings] == ["still ran"]


def test_a_syntax_error_denies_every_evaluation(starter: PolicySet) -> None:
    broken = starter.with_sources({"broken.rego": "package goldenpath.broken\ndeny contains"})
    for _ in range(3):
        verdict = broken.evaluate(request())
        assert verdict.decision == "deny"
        assert [v.policy for v in verdict.violations] == ["broken.rego"]


def test_an_input_the_engine_cannot_take_fails_closed(starter: PolicySet) -> None:
    verdict = starter.evaluate(request(parameters={"when": object()}))
    assert verdict.decision == "deny"
    [error] = verdict.violations
    assert error.message.startswith("policy engine error in input document: ")
    assert starter.evaluate(request()).decision == "allow"


def test_unreadable_paths_fail_closed(tmp_path: Path) -> None:
    verdict = PolicySet.from_paths([tmp_path / "missing.rego"]).evaluate(request())
    assert verdict.decision == "deny"
    assert "no such file or folder" in verdict.violations[0].message


GUARDRAIL = 'package goldenpath.template.orders\ndeny contains "orders must be small" if {\n'
GUARDRAIL += '\tinput.parameters.size != "small"\n}\n'


def test_template_guardrails_add_to_the_org_ones(starter: PolicySet) -> None:
    combined = starter.with_sources({"guardrails.rego": GUARDRAIL})
    verdict = combined.evaluate(request(instance("m5.large"), parameters={"size": "large"}))
    assert {v.policy for v in verdict.violations} == {"guardrails.rego", "instance_types.rego"}
    assert starter.evaluate(request(parameters={"size": "large"})).decision == "allow"


@pytest.mark.parametrize(
    ("name", "source"),
    [
        # Same file name as an org policy, harmless package: the org file still runs.
        ("instance_types.rego", "package goldenpath.template.x\nwarn contains 'hi' if true\n"),
        # Redefining the org package to empty its deny set.
        ("evil.rego", "package goldenpath.instance_types\ndeny := set()\n"),
        # Adding an allowed type to the org package.
        ("evil.rego", 'package goldenpath.instance_types\nallowed_instance_types := {"m5.large"}'),
        # Shadowing the platform's configuration.
        ("evil.rego", "package goldenpath.config\nallowed_regions := []\n"),
        ("evil.rego", "package goldenpath\ninstance_types := {}\n"),
    ],
)
def test_template_guardrails_cannot_drop_org_ones(
    starter: PolicySet, name: str, source: str
) -> None:
    verdict = starter.with_sources({name: source}).evaluate(request(instance("m5.large")))
    assert verdict.decision == "deny"
    assert "instance_types.rego" in {v.policy for v in verdict.violations}
    assert "instance_types.rego" in starter.with_sources({name: source}).policies


def test_evaluating_from_many_threads_gives_identical_results(starter: PolicySet) -> None:
    documents = [
        request(bucket(), instance("t3.small")),
        request(bucket("Site", acl="public-read"), instance("m5.large")),
        request(team={"name": "payments", "monthly_budget_usd": 1.0, "current_spend_usd": 0.0}),
    ]
    expected = [starter.evaluate(copy.deepcopy(doc)) for doc in documents]
    assert [v.decision for v in expected] == ["allow", "deny", "require_approval"]
    seen_threads: set[int] = set()

    def check(i: int) -> Verdict:
        seen_threads.add(threading.get_ident())
        return starter.evaluate(documents[i % len(documents)])

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(check, range(200)))
    assert results == [expected[i % len(documents)] for i in range(200)]
    assert len(seen_threads) > 1


def test_a_policy_set_can_be_dropped_while_the_threads_that_used_it_live_on() -> None:
    # regorus engines must be dropped on their own thread; doing otherwise raises an
    # unraisable RuntimeError, which pytest turns into a failure under -W error.
    policies: PolicySet | None = PolicySet.from_paths([STARTER])
    owner = weakref.ref(policies)
    pool = ThreadPoolExecutor(max_workers=4)
    try:
        evaluate = policies.evaluate
        assert {
            f.result().decision for f in [pool.submit(evaluate, request()) for _ in range(20)]
        } == {"allow"}
        del evaluate
        policies = None
        gc.collect()
        assert owner() is None
        fresh = PolicySet.from_paths([STARTER])
        assert pool.submit(fresh.evaluate, request()).result().decision == "allow"
    finally:
        pool.shutdown(wait=True)
