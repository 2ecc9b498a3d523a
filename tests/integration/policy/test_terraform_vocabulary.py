"""One vocabulary on the Terraform path: real plans of the hashicorp/aws provider (planned
offline from the provider mirror, never applied) judged by the starter library's
instance_types, s3_private and budget policies, with costs from the shipped price table."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import ADMIN, FIXTURES, member

from goldenpath.app import Platform
from goldenpath.errors import PolicyDenied
from goldenpath.policy import PolicySet, check_plan, plan_document
from goldenpath.policy.prices import shipped_table
from goldenpath.settings import STARTER_DIR, BackendSettings, TeamSettings

TF_AWS = FIXTURES / "terraform-aws"
MIRROR = Path("/opt/tf-plugins/registry.terraform.io/hashicorp/aws")
ALICE = member("alice", "payments")
BUDGET = 1000.0

pytestmark = [
    pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is missing"),
    pytest.mark.skipif(not MIRROR.is_dir(), reason="no AWS provider in /opt/tf-plugins"),
    pytest.mark.slow,
]


@pytest.fixture(scope="module")
def plugin_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Later inits link the provider from here instead of copying its 600 MB again.
    return tmp_path_factory.mktemp("tf-plugin-cache")


def terraform_env(plugin_cache: Path) -> dict[str, str]:
    return {
        "TF_CLI_CONFIG_FILE": str(TF_AWS / "terraform.tfrc"),
        "TF_PLUGIN_CACHE_DIR": str(plugin_cache),
    }


@pytest.fixture
def fleet_platform(
    make_platform: Callable[..., Platform], database_url: str, plugin_cache: Path
) -> Callable[..., Platform]:
    def make(**overrides: Any) -> Platform:
        backend = BackendSettings(
            kind="terraform", conn_str=database_url, env=terraform_env(plugin_cache)
        )
        return make_platform(
            template_dirs=[TF_AWS],
            backends={"terraform": backend},
            teams={"payments": TeamSettings(monthly_budget_usd=BUDGET)},
            **overrides,
        )

    return make


def instance_cost(instance_type: str) -> float:
    described = {"provider": "aws", "kind": "compute.instance", "region": "eu-west-1"}
    cost = shipped_table().monthly({**described, "size": instance_type, "count": 1})
    assert cost is not None
    return cost


ADDRESSES = ["module.web.aws_instance.app[0]", "module.web.aws_instance.app[1]"]


def test_two_m5_4xlarge_are_denied_by_instance_types_at_dry_run_and_at_submit(
    fleet_platform: Callable[..., Platform],
) -> None:
    platform = fleet_platform()
    parameters = {"name": "shop", "instance_type": "m5.4xlarge"}
    preview = platform.service.dry_run("web-fleet", parameters, ALICE)

    assert preview.verdict.decision == "deny"
    denied = sorted(
        (v.policy, v.message)
        for v in preview.verdict.violations
        if v.policy == "instance_types.rego"
    )
    assert denied == [
        (
            "instance_types.rego",
            f"{address} (aws_instance) uses size 'm5.4xlarge', which is not allowed: the largest "
            "allowed aws size is t3.medium (allowed: t3.nano, t3.micro, t3.small, t3.medium)",
        )
        for address in ADDRESSES
    ]
    assert [v.policy for v in preview.verdict.violations] == ["instance_types.rego"] * 2

    # The plan's cost per resource, from the price table, and the budget over it.
    each = instance_cost("m5.4xlarge")
    assert each == round(0.856 * 730, 2)
    rows = {r["address"]: r for r in preview.plan["costs"]["resources"]}
    for address in ADDRESSES:
        assert (rows[address]["monthly_cost_usd"], rows[address]["priced_by"]) == (
            each,
            "price table",
        )
        assert (rows[address]["size"], rows[address]["region"]) == ("m5.4xlarge", "eu-west-1")
    assert preview.plan["total_monthly_cost_usd"] == round(2 * each, 2)
    [over_budget] = preview.verdict.approvals
    assert over_budget.policy == "budget.rego"
    assert over_budget.message == (
        f"team 'payments' would exceed its monthly budget: 0 USD already spent + {2 * each:g} USD "
        f"for this request ({ADDRESSES[0]} {each:g} USD, {ADDRESSES[1]} {each:g} USD) = "
        f"{2 * each:g} USD, over the budget of {BUDGET:g} USD"
    )

    with pytest.raises(PolicyDenied, match=r"instance_types\.rego: module\.web\.aws_instance"):
        platform.service.submit("web-fleet", parameters, ALICE)
    [recorded] = platform.service.requests(ADMIN)
    assert recorded.status == "rejected"
    assert platform.service.resources(ADMIN, include_destroyed=True) == []


def test_two_t3_small_pass_and_are_priced(fleet_platform: Callable[..., Platform]) -> None:
    platform = fleet_platform()
    preview = platform.service.dry_run(
        "web-fleet", {"name": "small", "instance_type": "t3.small"}, ALICE
    )
    assert preview.verdict.decision == "allow", preview.verdict.as_dict()
    assert preview.verdict.warnings == ()
    each = instance_cost("t3.small")
    assert preview.plan["total_monthly_cost_usd"] == round(2 * each, 2)
    # The template's flat spec.cost (5 USD) is not used: the plan has prices.
    assert {r["priced_by"] for r in preview.plan["costs"]["resources"]} == {"price table", None}


def test_the_budget_guardrail_routes_an_expensive_plan_to_approval(
    fleet_platform: Callable[..., Platform], tmp_path: Path
) -> None:
    # Only the budget guardrail, so that the plan's cost alone decides.
    only_budget = tmp_path / "org-policies"
    only_budget.mkdir()
    shutil.copy(STARTER_DIR / "policies" / "budget.rego", only_budget)
    platform = fleet_platform(load_starter=False, policy_dir=only_budget)

    request = platform.service.submit(
        "web-fleet", {"name": "pricey", "instance_type": "m5.4xlarge"}, ALICE
    )
    assert request.status == "pending_approval"
    assert request.verdict is not None
    assert request.verdict["decision"] == "require_approval"
    [reason] = request.verdict["approvals"]
    assert f"{2 * instance_cost('m5.4xlarge'):g} USD for this request" in reason["message"]


# --- buckets, planned by terraform itself ----------------------------------------------------


@pytest.fixture(scope="module")
def bucket_plan(tmp_path_factory: pytest.TempPathFactory, plugin_cache: Path) -> dict[str, Any]:
    workdir = tmp_path_factory.mktemp("buckets")
    shutil.copy(TF_AWS / "buckets" / "main.tf", workdir)
    env = {**os.environ, "TF_IN_AUTOMATION": "1", **terraform_env(plugin_cache)}

    def terraform(*args: str) -> str:
        done = subprocess.run(
            ["terraform", *args],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    terraform("init", "-input=false", "-no-color")
    terraform("plan", "-input=false", "-no-color", "-out=plan.out")
    plan: dict[str, Any] = json.loads(terraform("show", "-json", "plan.out"))
    return plan


def test_a_bucket_made_public_by_its_policy_is_denied(bucket_plan: dict[str, Any]) -> None:
    verdict = check_plan(PolicySet.from_paths([STARTER_DIR / "policies"]), bucket_plan)
    site = sorted(v.message for v in verdict.violations if "aws_s3_bucket.site" in v.message)
    assert site == sorted(
        [
            "bucket 'aws_s3_bucket.site' must not grant access to everyone: its bucket policy "
            'allows Principal "*"',
            *(
                f"bucket 'aws_s3_bucket.site' must block public access: {flag} is not set"
                for flag in (
                    "block_public_acls",
                    "ignore_public_acls",
                    "block_public_policy",
                    "restrict_public_buckets",
                )
            ),
        ]
    )


def test_a_partly_blocked_bucket_is_denied_for_each_open_flag(bucket_plan: dict[str, Any]) -> None:
    verdict = check_plan(PolicySet.from_paths([STARTER_DIR / "policies"]), bucket_plan)
    assert sorted(v.message for v in verdict.violations if "aws_s3_bucket.half" in v.message) == [
        "bucket 'aws_s3_bucket.half' must block public access: ignore_public_acls is false",
        "bucket 'aws_s3_bucket.half' must block public access: restrict_public_buckets is false",
    ]


def test_a_bucket_with_all_four_flags_on_passes(bucket_plan: dict[str, Any]) -> None:
    verdict = check_plan(PolicySet.from_paths([STARTER_DIR / "policies"]), bucket_plan)
    assert [v.message for v in verdict.violations if "logs" in v.message] == []
    assert {v.policy for v in verdict.violations} == {"s3_private.rego"}


def test_the_vocabulary_joins_each_bucket_with_its_settings(bucket_plan: dict[str, Any]) -> None:
    described = {r["address"]: r for r in plan_document(bucket_plan)["goldenpath"]["resources"]}
    site, logs = described["aws_s3_bucket.site"], described["aws_s3_bucket.logs"]
    assert site["exposure"]["public"] is True
    assert site["exposure"]["policy_principals"] == ["*"]
    assert site["exposure"]["access_block"] is None
    assert logs["exposure"]["public"] is False
    assert logs["encryption"] == {"at_rest": True, "algorithm": "aws:kms"}
    assert site["encryption"] == {"at_rest": True, "algorithm": "AES256"}
    assert described["aws_s3_bucket_policy.site"]["attached_to"] == "aws_s3_bucket.site"
    assert (site["kind"], site["region"], site["tags"]) == (
        "storage.bucket",
        "eu-west-1",
        {"owner": "payments", "cost-center": "cc-1"},
    )
