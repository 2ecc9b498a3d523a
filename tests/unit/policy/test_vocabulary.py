"""The resource vocabulary on plans in Terraform's `show -json` shape and on native resources."""

from __future__ import annotations

from typing import Any

import pytest

from goldenpath.policy import PolicySet, check_plan
from goldenpath.policy.vocabulary import UNKNOWN, describe_plan, described
from goldenpath.settings import STARTER_DIR


def change(
    type_: str,
    name: str,
    after: dict[str, Any],
    *,
    unknown: dict[str, Any] | None = None,
    expressions: dict[str, Any] | None = None,
    actions: tuple[str, ...] = ("create",),
) -> tuple[dict[str, Any], dict[str, Any]]:
    entry = {
        "address": f"{type_}.{name}",
        "mode": "managed",
        "type": type_,
        "name": name,
        "change": {
            "actions": list(actions),
            "before": None,
            "after": after,
            "after_unknown": unknown or {},
        },
    }
    config = {
        "address": f"{type_}.{name}",
        "mode": "managed",
        "type": type_,
        "name": name,
        "provider_config_key": type_.split("_", 1)[0],
        "expressions": expressions or {k: {"constant_value": v} for k, v in after.items()},
    }
    return entry, config


def plan(*changes: tuple[dict[str, Any], dict[str, Any]], region: Any = "eu-west-1") -> Any:
    provider = {"expressions": {"region": {"constant_value": region}}} if region else {}
    return {
        "format_version": "1.2",
        "resource_changes": [entry for entry, _ in changes],
        "configuration": {
            "provider_config": {"aws": provider},
            "root_module": {"resources": [config for _, config in changes]},
        },
    }


def test_an_autoscaling_group_takes_its_size_from_its_launch_template() -> None:
    template = change("aws_launch_template", "web", {"instance_type": "c5.large"})
    group = change(
        "aws_autoscaling_group",
        "web",
        {"desired_capacity": 3, "min_size": 1, "launch_template": [{"version": "$Latest"}]},
        expressions={
            "launch_template": [{"id": {"references": ["aws_launch_template.web.id"]}}],
        },
    )
    found = describe_plan(plan(template, group))
    assert found["aws_launch_template.web"].kind == "compute.launch_template"
    assert found["aws_launch_template.web"].monthly_cost_usd == 0.0
    asg = found["aws_autoscaling_group.web"].as_dict()
    assert (asg["kind"], asg["sizes"], asg["count"]) == (
        "compute.autoscaling_group",
        ["c5.large"],
        3,
    )


def test_unknown_until_apply_is_reported_as_unknown() -> None:
    instance = change("aws_instance", "a", {"tags": None}, unknown={"instance_type": True})
    found = describe_plan(plan(instance, region=None))["aws_instance.a"]
    assert (found.size, found.region) == (UNKNOWN, UNKNOWN)


def test_a_region_from_a_root_variable_is_read_from_the_plan() -> None:
    document = plan(change("aws_instance", "a", {"instance_type": "t3.small"}), region=None)
    document["configuration"]["provider_config"]["aws"] = {
        "expressions": {"region": {"references": ["var.region"]}}
    }
    document["variables"] = {"region": {"value": "eu-central-1"}}
    assert describe_plan(document)["aws_instance.a"].region == "eu-central-1"


@pytest.mark.parametrize(
    ("type_", "after", "kind", "size", "region"),
    [
        (
            "google_compute_instance",
            {"machine_type": "e2-medium", "zone": "europe-west1-b", "labels": {"owner": "x"}},
            "compute.instance",
            "e2-medium",
            "europe-west1",
        ),
        (
            "azurerm_linux_virtual_machine",
            {"size": "Standard_B2s", "location": "West Europe", "tags": {"owner": "x"}},
            "compute.instance",
            "Standard_B2s",
            "westeurope",
        ),
        (
            "google_storage_bucket",
            {"location": "EUROPE-WEST1", "public_access_prevention": "enforced"},
            "storage.bucket",
            None,
            "europe-west1",
        ),
        (
            "azurerm_storage_account",
            {
                "location": "eastus",
                "account_tier": "Standard",
                "allow_nested_items_to_be_public": False,
            },
            "storage.bucket",
            "Standard",
            "eastus",
        ),
        (
            "aws_db_instance",
            {"instance_class": "db.t3.micro", "engine": "postgres"},
            "database.instance",
            "db.t3.micro",
            "eu-west-1",
        ),
        ("aws_rds_cluster", {"engine": "aurora-postgresql"}, "database.cluster", None, "eu-west-1"),
        (
            "aws_elasticache_replication_group",
            {"node_type": "cache.t3.micro", "num_cache_clusters": 2},
            "cache.cluster",
            "cache.t3.micro",
            "eu-west-1",
        ),
    ],
)
def test_other_clouds_and_services_map_to_their_kinds(
    type_: str, after: dict[str, Any], kind: str, size: Any, region: str
) -> None:
    found = describe_plan(plan(change(type_, "r", after)))[f"{type_}.r"]
    assert (found.kind, found.size, found.region) == (kind, size, region)


def test_gcs_and_azure_buckets_are_private_only_when_public_access_is_prevented() -> None:
    gcs = change(
        "google_storage_bucket",
        "b",
        {"name": "b", "location": "EU", "public_access_prevention": "inherited"},
    )
    grant = change(
        "google_storage_bucket_iam_member",
        "all",
        {"bucket": "b", "member": "allUsers", "role": "roles/storage.objectViewer"},
    )
    found = describe_plan(plan(gcs, grant))
    assert found["google_storage_bucket.b"].exposure["public"] is True
    assert found["google_storage_bucket_iam_member.all"].kind == "attachment"
    account = change(
        "azurerm_storage_account",
        "s",
        {"location": "eastus", "allow_nested_items_to_be_public": True},
    )
    container = change(
        "azurerm_storage_container",
        "c",
        {"container_access_type": "blob"},
        expressions={"storage_account_name": {"references": ["azurerm_storage_account.s.name"]}},
    )
    assert (
        describe_plan(plan(account, container))["azurerm_storage_account.s"].exposure["public"]
        is True
    )


def test_unmapped_types_are_unknown_and_warned_about() -> None:
    document = plan(
        change("aws_iam_role", "ci", {"name": "ci"}),
        change("terraform_data", "marker", {"input": "x"}),
        change("random_password", "pw", {"length": 20}),
    )
    found = describe_plan(document)
    assert [found[a].kind for a in found] == ["unknown", "internal", "internal"]
    verdict = check_plan(PolicySet.from_paths([STARTER_DIR / "policies"]), document)
    assert [w.message for w in verdict.warnings] == [
        "resource 'aws_iam_role.ci' (aws_iam_role) is not in the platform's resource vocabulary: "
        "no guardrail judges its size, exposure or cost"
    ]
    assert verdict.decision == "allow"


@pytest.mark.parametrize(
    ("type_", "config", "kind"),
    [
        ("aws:ec2:instance", {"instance_type": "t3.small", "public_ip": False}, "compute.instance"),
        ("aws:s3:bucket", {"acl": "private", "encryption": "AES256"}, "storage.bucket"),
        ("postgres:database", {"connection_limit": 20}, "database.instance"),
        ("mysql:database", {}, "database.instance"),
        ("redis:user", {"key_prefix": "orders:"}, "cache.cluster"),
        ("git:repo", {"private": True}, "repository"),
        ("ci:secret", {}, "secret"),
        ("terraform:workspace", {}, "terraform.workspace"),
        ("catalog:entity", {"kind": "Component"}, "catalog.entity"),
        ("acme:widget", {}, "unknown"),
    ],
)
def test_native_resources_have_their_kind(type_: str, config: dict[str, Any], kind: str) -> None:
    resource = {"type": type_, "name": "orders", "config": config, "tags": {}, "region": None}
    normalized = described({**resource, "monthly_cost_usd": None})["normalized"]
    assert (normalized["kind"], normalized["address"], normalized["source"]) == (
        kind,
        f"{type_}.orders",
        "native",
    )


@pytest.mark.parametrize(
    ("config", "size"),
    [
        ({"connection_limit": 0}, "small"),
        ({"connection_limit": 20}, "small"),
        ({"connection_limit": 21}, "medium"),
        ({"connection_limit": 50}, "medium"),
        ({"connection_limit": 51}, "large"),
        ({"connection_limit": -1}, "large"),  # no limit
        ({}, "large"),  # the action's default: no limit
    ],
)
def test_a_native_postgres_database_is_sized_by_its_connection_limit(
    config: dict[str, Any], size: str
) -> None:
    resource = {"type": "postgres:database", "name": "orders", "config": config}
    normalized = described(resource)["normalized"]
    assert (normalized["size"], normalized["sizes"]) == (size, [size])
    # Only the action knows where it runs; a description from type and config alone is not.
    assert normalized["on_platform_server"] is False
