from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from goldenpath.policy import PolicySet, check_plan, plan_document

STARTER = Path(__file__).resolve().parents[3] / "starter" / "policies"

TAGS = {"owner": "payments", "cost-center": "cc-1"}
PRIVATE_BLOCK = {
    "block_public_acls": True,
    "block_public_policy": True,
    "ignore_public_acls": True,
    "restrict_public_buckets": True,
}


def change(
    type_: str, name: str, actions: list[str], after: dict[str, Any] | None
) -> dict[str, Any]:
    before = None if actions == ["create"] else {**(after or {}), "id": name}
    return {
        "address": f"{type_}.{name}",
        "mode": "managed",
        "type": type_,
        "name": name,
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {
            "actions": actions,
            "before": before,
            "after": None if actions == ["delete"] else after,
            "after_unknown": {"id": True} if "create" in actions else {},
            "before_sensitive": {},
            "after_sensitive": {},
        },
    }


def show_json(*changes: dict[str, Any]) -> dict[str, Any]:
    return {
        "format_version": "1.2",
        "terraform_version": "1.11.4",
        "planned_values": {"root_module": {"resources": []}},
        "resource_changes": list(changes),
        "configuration": {
            "provider_config": {
                "aws": {"name": "aws", "expressions": {"region": {"constant_value": "eu-west-1"}}}
            },
            "root_module": {},
        },
        "prior_state": {"format_version": "1.0", "values": {"root_module": {}}},
        "timestamp": "2026-11-29T10:00:00Z",
        "applyable": True,
        "complete": True,
        "errored": False,
    }


@pytest.fixture(scope="module")
def starter() -> PolicySet:
    return PolicySet.from_paths([STARTER])


def test_plan_document_keeps_the_plan_and_groups_addresses() -> None:
    plan = show_json(
        change("aws_s3_bucket", "a", ["create"], {"bucket": "a"}),
        change("aws_s3_bucket", "b", ["update"], {"bucket": "b"}),
        change("aws_s3_bucket", "c", ["delete"], None),
        change("aws_s3_bucket", "d", ["delete", "create"], {"bucket": "d"}),
        change("aws_s3_bucket", "e", ["create", "delete"], {"bucket": "e"}),
        change("aws_s3_bucket", "f", ["no-op"], {"bucket": "f"}),
    )
    document = plan_document(plan)
    assert {k: v for k, v in document.items() if k != "goldenpath"} == plan
    described = document["goldenpath"].pop("resources")
    assert [(r["address"], r["kind"], r["change"]) for r in described] == [
        ("aws_s3_bucket.a", "storage.bucket", "create"),
        ("aws_s3_bucket.b", "storage.bucket", "update"),
        ("aws_s3_bucket.c", "storage.bucket", "delete"),
        ("aws_s3_bucket.d", "storage.bucket", "replace"),
        ("aws_s3_bucket.e", "storage.bucket", "replace"),
    ]
    assert document["goldenpath"] == {
        "creates": ["aws_s3_bucket.a"],
        "updates": ["aws_s3_bucket.b"],
        "deletes": ["aws_s3_bucket.c"],
        "replaces": ["aws_s3_bucket.d", "aws_s3_bucket.e"],
        "no_ops": ["aws_s3_bucket.f"],
        "reads": [],
    }


def test_a_plan_without_changes_has_empty_groups() -> None:
    document = plan_document({"format_version": "1.2"})
    assert all(found == [] for found in document["goldenpath"].values())


@pytest.mark.parametrize(
    ("actions", "denied"),
    [
        (["create"], True),
        (["update"], True),
        (["delete", "create"], True),
        (["create", "delete"], True),
        (["delete"], False),
        (["no-op"], False),
        (["read"], False),
    ],
)
@pytest.mark.parametrize(
    ("type_", "after", "message"),
    [
        (
            "aws_s3_bucket_acl",
            {"bucket": "logs", "acl": "public-read"},
            "bucket 'aws_s3_bucket_acl.logs' must not have a public ACL: acl is 'public-read'",
        ),
        (
            "aws_s3_bucket",
            {"bucket": "logs", "acl": "public-read-write", "force_destroy": False, "tags": TAGS},
            "bucket 'aws_s3_bucket.logs' must not have a public ACL: acl is 'public-read-write'",
        ),
        (
            "aws_s3_bucket_public_access_block",
            {**PRIVATE_BLOCK, "bucket": "logs", "block_public_policy": False},
            "bucket 'aws_s3_bucket_public_access_block.logs' must block public access: "
            "block_public_policy is false",
        ),
    ],
)
def test_public_s3_changes_are_denied_only_when_created_or_updated(
    starter: PolicySet,
    actions: list[str],
    denied: bool,
    type_: str,
    after: dict[str, Any],
    message: str,
) -> None:
    verdict = check_plan(starter, show_json(change(type_, "logs", actions, after)))
    if denied:
        assert ("s3_private.rego", message) in [(v.policy, v.message) for v in verdict.violations]
    else:
        assert verdict.decision == "allow", verdict.as_dict()


def test_a_private_bucket_with_its_settings_passes(starter: PolicySet) -> None:
    plan = show_json(
        change("aws_s3_bucket", "logs", ["create"], {"bucket": "logs", "tags": TAGS}),
        change("aws_s3_bucket_acl", "logs", ["create"], {"bucket": "logs", "acl": "private"}),
        change(
            "aws_s3_bucket_public_access_block",
            "logs",
            ["create"],
            {"bucket": "logs", **PRIVATE_BLOCK},
        ),
    )
    assert check_plan(starter, plan).decision == "allow", check_plan(starter, plan).as_dict()


def test_request_policies_judge_the_plan_in_the_vocabulary(starter: PolicySet) -> None:
    plan = show_json(
        change("aws_instance", "big", ["create"], {"instance_type": "m5.4xlarge", "tags": TAGS}),
        change("aws_instance", "gone", ["delete"], None),
    )
    verdict = check_plan(starter, plan)
    assert [(v.policy, v.message.split(":")[0]) for v in verdict.violations] == [
        (
            "instance_types.rego",
            "aws_instance.big (aws_instance) uses size 'm5.4xlarge', which is not allowed",
        )
    ]
    [described] = [
        r for r in plan_document(plan)["goldenpath"]["resources"] if r["change"] == "create"
    ]
    assert (described["kind"], described["size"], described["region"]) == (
        "compute.instance",
        "m5.4xlarge",
        "eu-west-1",
    )


def test_the_plan_guard_leaves_request_policies_to_the_request(starter: PolicySet) -> None:
    plan = show_json(change("aws_instance", "big", ["create"], {"instance_type": "m5.4xlarge"}))
    assert check_plan(starter, plan, request_policies=False).decision == "allow"


def test_every_public_change_in_a_plan_is_reported(starter: PolicySet) -> None:
    plan = show_json(
        *(
            change("aws_s3_bucket_acl", f"b{i}", ["create"], {"acl": "public-read"})
            for i in range(5)
        )
    )
    assert len(check_plan(starter, plan).violations) == 5


def test_a_plan_that_is_not_an_object_fails_closed(starter: PolicySet) -> None:
    verdict = check_plan(starter, ["not", "a", "plan"])  # type: ignore[arg-type]
    assert verdict.decision == "deny"
    assert verdict.violations[0].message.startswith("policy engine error in terraform plan")
