"""Guardrail verdict latency: the starter library on a request and on a 500-resource Terraform plan,
measured for today's library (resource vocabulary) and, in the same run, for the library before
it (commit 705fe30, read with `git show`), each on the input document of its own time.

Run: .venv/bin/python bench/policy_latency.py
"""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from goldenpath.policy import TERRAFORM_NAMESPACE, PolicySet, check_plan, plan_document
from goldenpath.policy.rego import Engine
from goldenpath.policy.vocabulary import described

ROOT = Path(__file__).resolve().parents[1]
STARTER = ROOT / "starter" / "policies"
# The starter library before the resource vocabulary.
OLD_COMMIT = "705fe30"
WARMUP = 200
RUNS = 2000

PRIVATE_BLOCK = {
    "block_public_acls": True,
    "ignore_public_acls": True,
    "block_public_policy": True,
    "restrict_public_buckets": True,
}
TAGS = {"owner": "payments", "cost-center": "cc-1"}


def request_document() -> dict[str, Any]:
    def resource(
        type_: str, name: str, config: dict[str, Any], region: str | None
    ) -> dict[str, Any]:
        return {
            "step": name,
            "action": type_,
            "type": type_,
            "name": name,
            "config": config,
            "tags": TAGS,
            "region": region,
            "monthly_cost_usd": 15.0,
        }

    return {
        "template": {"name": "service-stack", "version": "1.0.0", "owner": "platform-team"},
        "parameters": {"name": "orders", "size": "small"},
        "actor": {"user": "alice", "teams": ["payments"], "roles": ["developer"]},
        "team": {"name": "payments", "monthly_budget_usd": 500.0, "current_spend_usd": 120.0},
        "request": {"dry_run": False, "exception": False},
        "plan": {
            "resources": [
                resource("postgres:database", "orders", {"connection_limit": 20}, None),
                resource(
                    "aws:s3:bucket",
                    "orders-logs",
                    {"public_access_block": PRIVATE_BLOCK, "acl": "private", "versioning": False},
                    "eu-west-1",
                ),
                resource(
                    "aws:ec2:instance",
                    "orders-worker",
                    {"instance_type": "t3.small", "public_ip": False},
                    "eu-west-1",
                ),
            ],
            "outputs": [
                {"name": "dsn", "kind": "value", "expression": "${{ x }}", "secret_refs": []},
                {
                    "name": "password",
                    "kind": "secret",
                    "expression": "${{ steps.db.output.password }}",
                    "secret_refs": ["steps.db.output.password"],
                },
            ],
            "total_monthly_cost_usd": 45.0,
        },
    }


def terraform_plan(size: int) -> dict[str, Any]:
    # Each group of four: a bucket, its ACL and its public-access block (joined by the bucket's
    # name), and an instance; all compliant, so every policy runs to the end.
    kinds = [
        ("aws_s3_bucket", lambda i: {"bucket": f"b{i // 4}", "force_destroy": False, "tags": TAGS}),
        ("aws_s3_bucket_acl", lambda i: {"bucket": f"b{i // 4}", "acl": "private"}),
        ("aws_s3_bucket_public_access_block", lambda i: {**PRIVATE_BLOCK, "bucket": f"b{i // 4}"}),
        ("aws_instance", lambda i: {"instance_type": "t3.small", "ami": "ami-123", "tags": TAGS}),
    ]
    actions = [["create"], ["update"], ["no-op"], ["delete", "create"], ["delete"]]
    changes = []
    for i in range(size):
        type_, after = kinds[i % len(kinds)]
        change_actions = actions[(i // 4) % len(actions)]
        changes.append(
            {
                "address": f"{type_}.r{i}",
                "mode": "managed",
                "type": type_,
                "name": f"r{i}",
                "provider_name": "registry.terraform.io/hashicorp/aws",
                "change": {
                    "actions": change_actions,
                    "before": None if change_actions == ["create"] else after(i),
                    "after": None if change_actions == ["delete"] else after(i),
                    "after_unknown": {"id": True},
                },
            }
        )
    region = {"expressions": {"region": {"constant_value": "eu-west-1"}}}
    return {
        "format_version": "1.2",
        "terraform_version": "1.11.4",
        "resource_changes": changes,
        "configuration": {"provider_config": {"aws": region}, "root_module": {}},
    }


def old_library() -> PolicySet:
    listed = subprocess.run(
        ["git", "ls-tree", "--name-only", f"{OLD_COMMIT}:starter/policies"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    sources = {
        name: subprocess.run(
            ["git", "show", f"{OLD_COMMIT}:starter/policies/{name}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for name in listed
        if name.endswith(".rego") and not name.endswith("_test.rego")
    }
    return PolicySet.from_sources(sources)


def with_vocabulary(request: dict[str, Any]) -> dict[str, Any]:
    """The request document as the platform builds it now: each resource with its description."""
    plan = {**request["plan"], "resources": [described(r) for r in request["plan"]["resources"]]}
    return {**request, "plan": plan}


def old_plan_document(plan: dict[str, Any]) -> dict[str, Any]:
    document = plan_document(plan)
    summary = {k: v for k, v in document["goldenpath"].items() if k != "resources"}
    return {**document, "goldenpath": summary}


def measure(run: Callable[[], object], runs: int = RUNS) -> tuple[float, float]:
    for _ in range(WARMUP):
        run()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    samples.sort()
    return statistics.median(samples) * 1e6, samples[int(len(samples) * 0.95)] * 1e6


def main() -> None:
    policies, old = PolicySet.from_paths([STARTER]), old_library()
    request = request_document()
    new_request = with_vocabulary(request)
    plan = terraform_plan(500)
    old_plan = old_plan_document(plan)
    assert policies.evaluate(new_request).decision == "allow"
    assert old.evaluate(request).decision == "allow"
    assert check_plan(policies, plan).decision == "allow"
    assert old.evaluate(old_plan, namespace=TERRAFORM_NAMESPACE).decision == "allow"

    trivial = Engine()
    trivial.add_policy("trivial.rego", 'package bench\ndeny contains "x" if input.nope\n')

    def engine_alone() -> object:
        trivial.set_input(request)
        return trivial.eval_rule("data.bench.deny")

    rows = [
        ("engine alone: set_input + 1 trivial rule", *measure(engine_alone)),
        (
            f"request verdict, old library ({len(old.policies)} policies), 3 resources",
            *measure(lambda: old.evaluate(request)),
        ),
        (
            f"request verdict, vocabulary library ({len(policies.policies)} policies), 3 resources",
            *measure(lambda: policies.evaluate(new_request)),
        ),
        (
            "  + describing the 3 resources (described())",
            *measure(lambda: policies.evaluate(with_vocabulary(request))),
        ),
        (
            "plan verdict, old library (goldenpath.terraform.* only), 500 changes",
            *measure(lambda: old.evaluate(old_plan, namespace=TERRAFORM_NAMESPACE), 200),
        ),
        (
            "plan verdict, vocabulary library (check_plan: describe + both namespaces)",
            *measure(lambda: check_plan(policies, plan), 200),
        ),
    ]
    width = max(len(name) for name, _, _ in rows)
    print(f"{'case':<{width}}  {'median µs':>10}  {'p95 µs':>10}")
    for name, median, p95 in rows:
        print(f"{name:<{width}}  {median:>10.0f}  {p95:>10.0f}")
    ratio = rows[2][1] / rows[1][1]
    print(f"request verdict, vocabulary / old (median): {ratio:.2f}x (target: within 1.2x)")


if __name__ == "__main__":
    main()
