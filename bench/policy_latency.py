"""Guardrail verdict latency: the starter library on a request and on a 500-resource Terraform plan.

Run: .venv/bin/python bench/policy_latency.py
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from goldenpath.policy import PolicySet, check_plan
from goldenpath.policy.rego import Engine

STARTER = Path(__file__).resolve().parents[1] / "starter" / "policies"
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
    kinds = [
        ("aws_s3_bucket", lambda i: {"bucket": f"b{i}", "force_destroy": False, "tags": TAGS}),
        ("aws_s3_bucket_acl", lambda i: {"bucket": f"b{i}", "acl": "private"}),
        ("aws_s3_bucket_public_access_block", lambda i: {**PRIVATE_BLOCK, "bucket": f"b{i}"}),
        ("aws_instance", lambda i: {"instance_type": "t3.small", "ami": "ami-123"}),
    ]
    actions = [["create"], ["update"], ["no-op"], ["delete", "create"], ["delete"]]
    changes = []
    for i in range(size):
        type_, after = kinds[i % len(kinds)]
        change_actions = actions[i % len(actions)]
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
    return {"format_version": "1.2", "terraform_version": "1.11.4", "resource_changes": changes}


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
    policies = PolicySet.from_paths([STARTER])
    request = request_document()
    plan = terraform_plan(500)
    assert policies.evaluate(request).decision == "allow"
    assert check_plan(policies, plan).decision == "allow"

    trivial = Engine()
    trivial.add_policy("trivial.rego", 'package bench\ndeny contains "x" if input.nope\n')

    def engine_alone() -> object:
        trivial.set_input(request)
        return trivial.eval_rule("data.bench.deny")

    rows = [
        ("engine alone: set_input + 1 trivial rule", *measure(engine_alone)),
        (
            f"request verdict ({len(policies.packages) - 1} starter policies, 3 resources)",
            *measure(lambda: policies.evaluate(request)),
        ),
        (
            "terraform plan verdict (500 resource changes)",
            *measure(lambda: check_plan(policies, plan), 200),
        ),
    ]
    width = max(len(name) for name, _, _ in rows)
    print(f"{'case':<{width}}  {'median µs':>10}  {'p95 µs':>10}")
    for name, median, p95 in rows:
        print(f"{name:<{width}}  {median:>10.0f}  {p95:>10.0f}")


if __name__ == "__main__":
    main()
