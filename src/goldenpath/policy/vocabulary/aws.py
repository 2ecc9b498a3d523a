"""AWS provider resources (``aws_*``) in the vocabulary.

An S3 bucket is described with the resources that configure it (``aws_s3_bucket_acl``,
``_policy``, ``_public_access_block``, ``_server_side_encryption_configuration``), joined by the
reference in their ``bucket`` argument or, failing that, by the bucket's name.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from goldenpath.policy.vocabulary.description import (
    BLOCK_FLAGS,
    UNKNOWN,
    Description,
    bucket_exposure,
)
from goldenpath.policy.vocabulary.plan import PlannedChange, TerraformPlan

BUCKET = "aws_s3_bucket"
BUCKET_ACL = "aws_s3_bucket_acl"
BUCKET_POLICY = "aws_s3_bucket_policy"
ACCESS_BLOCK = "aws_s3_bucket_public_access_block"
ENCRYPTION = "aws_s3_bucket_server_side_encryption_configuration"
LAUNCH_TEMPLATE = "aws_launch_template"
# S3 encrypts every new object with SSE-S3 when nothing else is configured (since January 2023).
DEFAULT_BUCKET_ENCRYPTION = "AES256"
_ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
_AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"


def tags_of(change: PlannedChange) -> Any:
    """``tags_all`` (with the provider's default tags) when known, else ``tags``."""
    for key in ("tags_all", "tags"):
        value = change.value(key)
        if isinstance(value, Mapping):
            return {str(k): v for k, v in value.items()}
    if change.value("tags_all") == UNKNOWN and change.is_set("tags"):
        return UNKNOWN
    return {}


def region_of(change: PlannedChange, plan: TerraformPlan) -> Any:
    """The resource's own ``region`` (provider v6), else its provider's."""
    if change.is_set("region"):
        return change.value("region", UNKNOWN)
    region = plan.provider_setting(change, "region")
    return UNKNOWN if region is None else region


def _base(change: PlannedChange, plan: TerraformPlan, kind: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "provider": "aws",
        "provider_type": change.type,
        "address": change.address,
        "source": "terraform",
        "change": change.change,
        "region": region_of(change, plan),
        "tags": tags_of(change),
    }


def instance(change: PlannedChange, plan: TerraformPlan) -> Description:
    size = change.value("instance_type")
    if size in (None, UNKNOWN):
        templates = plan.referenced(change, "launch_template", LAUNCH_TEMPLATE)
        if templates:
            size = templates[0].value("instance_type", size)
    public_ip = change.value("associate_public_ip_address", UNKNOWN)
    return Description(
        **_base(change, plan, "compute.instance"),
        size=UNKNOWN if size is None else size,
        exposure={"public": public_ip, "public_ip": public_ip},
        encryption={"at_rest": _root_volume_encrypted(change), "algorithm": None},
    )


def _root_volume_encrypted(change: PlannedChange) -> Any:
    volume = change.block("root_block_device")
    if volume is None:
        return None
    return UNKNOWN if volume.get("encrypted") is None else volume.get("encrypted")


def launch_template(change: PlannedChange, plan: TerraformPlan) -> Description:
    # A template costs nothing itself; what it launches is priced where it runs.
    return Description(
        **_base(change, plan, "compute.launch_template"),
        size=change.value("instance_type"),
        count=0,
        monthly_cost_usd=0.0,
    )


def autoscaling_group(change: PlannedChange, plan: TerraformPlan) -> Description:
    sizes: list[Any] = []
    for template in plan.referenced(change, "launch_template", LAUNCH_TEMPLATE):
        sizes.append(template.value("instance_type"))
    policy = change.block("mixed_instances_policy")
    if policy is not None:
        for spec in policy.get("launch_template") or []:
            for override in spec.get("override") or [] if isinstance(spec, Mapping) else []:
                if isinstance(override, Mapping) and override.get("instance_type"):
                    sizes.append(override["instance_type"])
        for template in plan.referenced(change, "mixed_instances_policy", LAUNCH_TEMPLATE):
            sizes.append(template.value("instance_type"))
    sizes = [s for s in dict.fromkeys(sizes) if s is not None]
    count = change.value("desired_capacity")
    if count in (None, UNKNOWN):
        count = change.value("min_size", UNKNOWN)
    tags = {
        str(t.get("key")): t.get("value")
        for t in change.after.get("tag") or []
        if isinstance(t, Mapping) and t.get("propagate_at_launch")
    }
    base = _base(change, plan, "compute.autoscaling_group")
    return Description(
        **{**base, "tags": tags},
        size=sizes[0] if sizes else None,
        sizes=tuple(sizes),
        count=count,
    )


def db_instance(change: PlannedChange, plan: TerraformPlan) -> Description:
    public = change.value("publicly_accessible", False)
    return Description(
        **_base(change, plan, "database.instance"),
        size=change.value("instance_class", UNKNOWN),
        engine=change.value("engine", UNKNOWN),
        # A Multi-AZ instance runs (and is billed as) a standby beside the primary.
        count=2 if change.value("multi_az") is True else 1,
        exposure={"public": public, "publicly_accessible": public},
        encryption={
            "at_rest": change.value("storage_encrypted", False),
            "algorithm": "aws:kms" if change.value("storage_encrypted") is True else None,
        },
    )


def rds_cluster(change: PlannedChange, plan: TerraformPlan) -> Description:
    return Description(
        **_base(change, plan, "database.cluster"),
        # Aurora clusters are sized by their aws_rds_cluster_instance members.
        size=change.value("db_cluster_instance_class"),
        engine=change.value("engine", UNKNOWN),
        count=0 if change.value("db_cluster_instance_class") is None else 1,
        exposure={"public": False},
        encryption={"at_rest": change.value("storage_encrypted", UNKNOWN), "algorithm": None},
    )


def elasticache_cluster(change: PlannedChange, plan: TerraformPlan) -> Description:
    joined = change.value("replication_group_id") not in (None, UNKNOWN)
    return Description(
        **_base(change, plan, "cache.cluster"),
        size=change.value("node_type", UNKNOWN),
        engine=change.value("engine", UNKNOWN),
        count=0 if joined else change.value("num_cache_nodes", 1),
        exposure={"public": False},
        encryption={"at_rest": None, "algorithm": None},
    )


def replication_group(change: PlannedChange, plan: TerraformPlan) -> Description:
    clusters = change.value("num_cache_clusters")
    if clusters in (None, UNKNOWN):
        groups = change.value("num_node_groups")
        replicas = change.value("replicas_per_node_group")
        if isinstance(groups, int) and isinstance(replicas, int):
            clusters = groups * (replicas + 1)
    return Description(
        **_base(change, plan, "cache.cluster"),
        size=change.value("node_type", UNKNOWN),
        engine=change.value("engine", "redis"),
        count=UNKNOWN if clusters is None else clusters,
        exposure={"public": False},
        encryption={
            "at_rest": change.value("at_rest_encryption_enabled", False),
            "algorithm": None,
        },
    )


def secret(change: PlannedChange, plan: TerraformPlan) -> Description:
    return Description(
        **_base(change, plan, "secret"),
        exposure={"public": False},
        encryption={"at_rest": True, "algorithm": "aws:kms"},
    )


def repository(change: PlannedChange, plan: TerraformPlan) -> Description:
    return Description(**_base(change, plan, "repository"), exposure={"public": False})


# --- S3 buckets and what configures them --------------------------------------------------


def _settings_of(bucket: PlannedChange, plan: TerraformPlan, type_: str) -> list[PlannedChange]:
    """The ``type_`` resources whose ``bucket`` argument is this bucket."""
    return plan.settings_of(bucket, type_, BUCKET, "bucket", "bucket")


def attached_bucket(setting: PlannedChange, plan: TerraformPlan) -> PlannedChange | None:
    found = plan.referenced(setting, "bucket", BUCKET)
    if found:
        return found[0]
    name = setting.value("bucket")
    if not isinstance(name, str) or name == UNKNOWN:
        return None
    return next((b for b in plan.of_type(BUCKET) if b.value("bucket") == name), None)


def _acl(setting: PlannedChange) -> Any:
    acl = setting.value("acl")
    if acl not in (None, ""):
        return acl
    policy = setting.block("access_control_policy")
    if policy is None:
        return UNKNOWN if setting.unknown.get("access_control_policy") is True else "private"
    uris = {
        (grant.get("grantee") or [{}])[0].get("uri")
        for grant in policy.get("grant") or []
        if isinstance(grant, Mapping) and isinstance(grant.get("grantee"), list)
    }
    if _ALL_USERS in uris:
        return "public-read"
    if _AUTHENTICATED_USERS in uris:
        return "authenticated-read"
    return "private"


def policy_principals(policy: Any) -> Any:
    """Every principal an IAM policy document (a JSON string) grants ``Allow`` to."""
    if policy == UNKNOWN:
        return UNKNOWN
    if policy in (None, ""):
        return []
    try:
        document = json.loads(policy) if isinstance(policy, str) else policy
    except ValueError:
        return UNKNOWN
    statements = document.get("Statement", []) if isinstance(document, Mapping) else []
    if isinstance(statements, Mapping):
        statements = [statements]
    found: list[str] = []
    for statement in statements if isinstance(statements, list) else []:
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        if isinstance(principal, str):
            found.append(principal)
        elif isinstance(principal, Mapping):
            for value in principal.values():
                found.extend(str(v) for v in (value if isinstance(value, list) else [value]))
    return sorted(set(found))


def _access_block(setting: PlannedChange) -> dict[str, Any]:
    return {flag: setting.value(flag, False) for flag in BLOCK_FLAGS}


def _encryption(setting: PlannedChange) -> dict[str, Any]:
    rule = setting.block("rule")
    default = (rule or {}).get("apply_server_side_encryption_by_default") or []
    algorithm = default[0].get("sse_algorithm") if default else None
    return {"at_rest": algorithm is not None or UNKNOWN, "algorithm": algorithm or UNKNOWN}


def _own(change: PlannedChange, key: str, default: Any) -> Any:
    """A bucket's own (deprecated) ``acl`` / ``policy`` argument: Terraform shows it unknown
    when the configuration leaves it to S3, which then applies its default."""
    value = change.value(key)
    if value is None or (value == UNKNOWN and not change.is_set(key)):
        return default
    return value


def bucket(change: PlannedChange, plan: TerraformPlan) -> Description:
    acls = _settings_of(change, plan, BUCKET_ACL)
    policies = _settings_of(change, plan, BUCKET_POLICY)
    acl = _acl(acls[0]) if acls else _own(change, "acl", "private")
    if policies:
        principals = policy_principals(policies[0].value("policy", UNKNOWN))
    else:
        principals = policy_principals(_own(change, "policy", None))
    blocks = _settings_of(change, plan, ACCESS_BLOCK)
    encryption = _settings_of(change, plan, ENCRYPTION)
    return Description(
        **_base(change, plan, "storage.bucket"),
        exposure=bucket_exposure(acl, principals, _access_block(blocks[0]) if blocks else None),
        encryption=_encryption(encryption[0])
        if encryption
        else {"at_rest": True, "algorithm": DEFAULT_BUCKET_ENCRYPTION},
    )


def bucket_setting(change: PlannedChange, plan: TerraformPlan) -> Description:
    """A bucket's ACL, policy, access block, ...: an attachment of its bucket. What it sets is
    in its exposure too, so a setting of a bucket made elsewhere is judged as well."""
    target = attached_bucket(change, plan)
    exposure: dict[str, Any] = {}
    if change.type == BUCKET_ACL:
        exposure["acl"] = _acl(change)
    elif change.type == BUCKET_POLICY:
        exposure["policy_principals"] = policy_principals(change.value("policy", UNKNOWN))
    elif change.type == ACCESS_BLOCK:
        exposure["access_block"] = _access_block(change)
    return Description(
        **{**_base(change, plan, "attachment"), "tags": {}},
        exposure=exposure,
        encryption=_encryption(change) if change.type == ENCRYPTION else {},
        attached_to=target.address if target is not None else None,
        monthly_cost_usd=0.0,
    )


DESCRIBERS: dict[str, Callable[[PlannedChange, TerraformPlan], Description]] = {
    "aws_instance": instance,
    "aws_launch_template": launch_template,
    "aws_autoscaling_group": autoscaling_group,
    "aws_db_instance": db_instance,
    "aws_rds_cluster_instance": db_instance,
    "aws_rds_cluster": rds_cluster,
    "aws_elasticache_cluster": elasticache_cluster,
    "aws_elasticache_replication_group": replication_group,
    "aws_secretsmanager_secret": secret,
    "aws_ecr_repository": repository,
    "aws_codecommit_repository": repository,
    BUCKET: bucket,
}


def describer(type_: str) -> Callable[[PlannedChange, TerraformPlan], Description] | None:
    if type_ in DESCRIBERS:
        return DESCRIBERS[type_]
    if type_.startswith(BUCKET + "_"):
        return bucket_setting
    return None
