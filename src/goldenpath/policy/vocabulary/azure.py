"""Azure provider resources (``azurerm_*``) in the vocabulary."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from goldenpath.policy.vocabulary.description import UNKNOWN, Description, bucket_exposure
from goldenpath.policy.vocabulary.plan import PlannedChange, TerraformPlan

STORAGE_ACCOUNT = "azurerm_storage_account"
CONTAINER = "azurerm_storage_container"


def region_of(change: PlannedChange) -> Any:
    """``westeurope`` for ``West Europe``: Azure accepts both spellings."""
    location = change.value("location", UNKNOWN)
    if isinstance(location, str) and location != UNKNOWN:
        return location.replace(" ", "").lower()
    return UNKNOWN


def _base(change: PlannedChange, kind: str) -> dict[str, Any]:
    tags = change.value("tags")
    return {
        "kind": kind,
        "provider": "azurerm",
        "provider_type": change.type,
        "address": change.address,
        "source": "terraform",
        "change": change.change,
        "region": region_of(change),
        "tags": {str(k): v for k, v in tags.items()} if isinstance(tags, Mapping) else tags or {},
    }


def virtual_machine(change: PlannedChange, plan: TerraformPlan) -> Description:
    return Description(
        **_base(change, "compute.instance"),
        size=change.value("size", UNKNOWN),
        # Public IPs are separate resources (azurerm_public_ip) attached through a NIC.
        exposure={"public": UNKNOWN if plan.of_type("azurerm_public_ip") else False},
        encryption={"at_rest": True, "algorithm": "platform-managed"},
    )


def scale_set(change: PlannedChange, plan: TerraformPlan) -> Description:
    return Description(
        **_base(change, "compute.autoscaling_group"),
        size=change.value("sku", UNKNOWN),
        count=change.value("instances", UNKNOWN),
    )


def storage_account(change: PlannedChange, plan: TerraformPlan) -> Description:
    nested_public = change.value("allow_nested_items_to_be_public", True)
    containers = [
        *plan.settings_of(change, CONTAINER, STORAGE_ACCOUNT, "storage_account_name"),
        *plan.settings_of(change, CONTAINER, STORAGE_ACCOUNT, "storage_account_id"),
    ]
    public_containers = [
        c.value("container_access_type", "private")
        for c in containers
        if c.value("container_access_type", "private") != "private"
    ]
    if nested_public is False:
        acl = "private"
    elif public_containers:
        acl = "public-read" if UNKNOWN not in public_containers else UNKNOWN
    else:
        acl = "private"
    blocked = nested_public is False
    block = dict.fromkeys(
        (
            "block_public_acls",
            "ignore_public_acls",
            "block_public_policy",
            "restrict_public_buckets",
        ),
        blocked if nested_public != UNKNOWN else UNKNOWN,
    )
    exposure = bucket_exposure(acl, [], block)
    exposure["allow_nested_items_to_be_public"] = nested_public
    exposure["public_network_access_enabled"] = change.value("public_network_access_enabled", True)
    return Description(
        **_base(change, "storage.bucket"),
        size=change.value("account_tier"),
        exposure=exposure,
        encryption={"at_rest": True, "algorithm": "Microsoft-managed"},
    )


def container(change: PlannedChange, plan: TerraformPlan) -> Description:
    accounts = plan.referenced(change, "storage_account_name", STORAGE_ACCOUNT) or plan.referenced(
        change, "storage_account_id", STORAGE_ACCOUNT
    )
    return Description(
        **{**_base(change, "attachment"), "tags": {}, "region": None},
        exposure={"acl": change.value("container_access_type", "private")},
        attached_to=accounts[0].address if accounts else None,
        monthly_cost_usd=0.0,
    )


DESCRIBERS: dict[str, Callable[[PlannedChange, TerraformPlan], Description]] = {
    "azurerm_linux_virtual_machine": virtual_machine,
    "azurerm_windows_virtual_machine": virtual_machine,
    "azurerm_linux_virtual_machine_scale_set": scale_set,
    STORAGE_ACCOUNT: storage_account,
    "azurerm_storage_container": container,
    "azurerm_key_vault_secret": lambda change, plan: Description(
        **{**_base(change, "secret"), "region": None}, exposure={"public": False}
    ),
}
