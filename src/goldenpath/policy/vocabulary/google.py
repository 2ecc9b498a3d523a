"""Google provider resources (``google_*``) in the vocabulary. Labels are the tags."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from goldenpath.policy.vocabulary.description import (
    EVERYONE,
    UNKNOWN,
    Description,
    bucket_exposure,
)
from goldenpath.policy.vocabulary.plan import PlannedChange, TerraformPlan

BUCKET = "google_storage_bucket"
IAM_TYPES = ("google_storage_bucket_iam_member", "google_storage_bucket_iam_binding")
ACL = "google_storage_bucket_acl"


def labels_of(change: PlannedChange) -> Any:
    for key in ("terraform_labels", "labels"):
        value = change.value(key)
        if isinstance(value, Mapping):
            return {str(k): v for k, v in value.items()}
    return UNKNOWN if change.value("labels") == UNKNOWN else {}


def region_of(change: PlannedChange, plan: TerraformPlan) -> Any:
    """``europe-west1`` from a zone ``europe-west1-b``, a region, or a bucket's location."""
    zone = change.value("zone")
    if isinstance(zone, str) and zone != UNKNOWN:
        return zone.rsplit("-", 1)[0]
    for key in ("region", "location"):
        value = change.value(key)
        if isinstance(value, str):
            return value.lower() if value != UNKNOWN else UNKNOWN
    for key in ("zone", "region"):
        setting = plan.provider_setting(change, key)
        if isinstance(setting, str) and setting != UNKNOWN:
            return setting.rsplit("-", 1)[0] if key == "zone" else setting
    return UNKNOWN


def _base(change: PlannedChange, plan: TerraformPlan, kind: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "provider": "google",
        "provider_type": change.type,
        "address": change.address,
        "source": "terraform",
        "change": change.change,
        "region": region_of(change, plan),
        "tags": labels_of(change),
    }


def _machine_type(change: PlannedChange) -> Any:
    # A machine type may be given as a URL: .../zones/europe-west1-b/machineTypes/e2-medium.
    value = change.value("machine_type", UNKNOWN)
    return value.rsplit("/", 1)[-1] if isinstance(value, str) else value


def compute_instance(change: PlannedChange, plan: TerraformPlan) -> Description:
    interfaces = change.after.get("network_interface") or []
    public = any(isinstance(i, Mapping) and bool(i.get("access_config")) for i in interfaces)
    return Description(
        **_base(change, plan, "compute.instance"),
        size=_machine_type(change),
        exposure={"public": public, "public_ip": public},
        encryption={"at_rest": True, "algorithm": "google-managed"},
    )


def instance_template(change: PlannedChange, plan: TerraformPlan) -> Description:
    return Description(
        **_base(change, plan, "compute.launch_template"),
        size=_machine_type(change),
        count=0,
        monthly_cost_usd=0.0,
    )


def _bucket_members(bucket: PlannedChange, plan: TerraformPlan) -> Any:
    members: list[str] = []
    grants = [g for t in IAM_TYPES for g in plan.settings_of(bucket, t, BUCKET, "bucket")]
    for grant in grants:
        found = grant.value("members") if grant.type.endswith("binding") else grant.value("member")
        if found == UNKNOWN:
            return UNKNOWN
        members.extend(found if isinstance(found, list) else [str(found)])
    return sorted(set(members))


def storage_bucket(change: PlannedChange, plan: TerraformPlan) -> Description:
    prevention = change.value("public_access_prevention", "inherited")
    members = _bucket_members(change, plan)
    acl = "private"
    for setting in plan.settings_of(change, ACL, BUCKET, "bucket"):
        acl = setting.value("predefined_acl") or "private"
    # Public access prevention "enforced" blocks allUsers grants and public ACLs alike.
    blocked = prevention == "enforced"
    block = dict.fromkeys(
        (
            "block_public_acls",
            "ignore_public_acls",
            "block_public_policy",
            "restrict_public_buckets",
        ),
        blocked if prevention != UNKNOWN else UNKNOWN,
    )
    exposure = bucket_exposure(
        acl,
        ["*" if m in EVERYONE else m for m in members] if isinstance(members, list) else members,
        block,
    )
    exposure["public_access_prevention"] = prevention
    return Description(
        **_base(change, plan, "storage.bucket"),
        exposure=exposure,
        encryption={"at_rest": True, "algorithm": "google-managed"},
    )


def bucket_setting(change: PlannedChange, plan: TerraformPlan) -> Description:
    targets = plan.referenced(change, "bucket", BUCKET)
    return Description(
        **{**_base(change, plan, "attachment"), "tags": {}},
        attached_to=targets[0].address if targets else None,
        monthly_cost_usd=0.0,
    )


def sql_instance(change: PlannedChange, plan: TerraformPlan) -> Description:
    settings = change.block("settings") or {}
    return Description(
        **_base(change, plan, "database.instance"),
        size=settings.get("tier") or UNKNOWN,
        engine=change.value("database_version", UNKNOWN),
        exposure={"public": UNKNOWN},
        encryption={"at_rest": True, "algorithm": "google-managed"},
    )


def redis_instance(change: PlannedChange, plan: TerraformPlan) -> Description:
    return Description(
        **_base(change, plan, "cache.cluster"),
        size=change.value("tier", UNKNOWN),
        engine="redis",
        exposure={"public": False},
        encryption={"at_rest": True, "algorithm": "google-managed"},
    )


DESCRIBERS: dict[str, Callable[[PlannedChange, TerraformPlan], Description]] = {
    "google_compute_instance": compute_instance,
    "google_compute_instance_template": instance_template,
    "google_compute_region_instance_template": instance_template,
    BUCKET: storage_bucket,
    "google_storage_bucket_iam_member": bucket_setting,
    "google_storage_bucket_iam_binding": bucket_setting,
    ACL: bucket_setting,
    "google_sql_database_instance": sql_instance,
    "google_redis_instance": redis_instance,
    "google_secret_manager_secret": lambda change, plan: Description(
        **_base(change, plan, "secret"), exposure={"public": False}
    ),
    "google_sourcerepo_repository": lambda change, plan: Description(
        **_base(change, plan, "repository"), exposure={"public": False}
    ),
}
