"""Native actions' planned resources (``aws:ec2:instance``, ``postgres:database``, ...) in the
vocabulary. They are described from what the action planned: its type, config, tags, region."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from goldenpath.policy.vocabulary.description import Description, bucket_exposure


def _address(resource: Mapping[str, Any]) -> str:
    return f"{resource.get('type', '')}.{resource.get('name', '')}"


def _base(resource: Mapping[str, Any], kind: str, provider: str) -> dict[str, Any]:
    tags = resource.get("tags")
    return {
        "kind": kind,
        "provider": provider,
        "provider_type": str(resource.get("type", "")),
        "address": _address(resource),
        "region": resource.get("region"),
        "tags": dict(tags) if isinstance(tags, Mapping) else {},
        "monthly_cost_usd": resource.get("monthly_cost_usd"),
    }


def _config(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    config = resource.get("config")
    return config if isinstance(config, Mapping) else {}


def ec2_instance(resource: Mapping[str, Any]) -> Description:
    config = _config(resource)
    return Description(
        **_base(resource, "compute.instance", "aws"),
        size=config.get("instance_type"),
        exposure={"public": bool(config.get("public_ip")), "public_ip": config.get("public_ip")},
        encryption={"at_rest": None, "algorithm": None},
    )


def s3_bucket(resource: Mapping[str, Any]) -> Description:
    config = _config(resource)
    block = config.get("public_access_block")
    return Description(
        **_base(resource, "storage.bucket", "aws"),
        # The action makes no bucket policy, so nobody is granted anything by one.
        exposure=bucket_exposure(
            config.get("acl", "private"), [], block if isinstance(block, Mapping) else None
        ),
        encryption={
            "at_rest": bool(config.get("encryption")),
            "algorithm": config.get("encryption"),
        },
    )


# A database on a shared server is as big as its share of the server's connections.
DATABASE_TIERS = ((20, "small"), (50, "medium"))
LARGEST_TIER = "large"


def connection_tier(connection_limit: Any) -> str | None:
    """``small`` up to 20 connections, ``medium`` up to 50, else (no limit: -1) ``large``."""
    if not isinstance(connection_limit, int) or isinstance(connection_limit, bool):
        return None
    if connection_limit >= 0:
        for most, tier in DATABASE_TIERS:
            if connection_limit <= most:
                return tier
    return LARGEST_TIER


def postgres_database(
    resource: Mapping[str, Any], *, on_platform_server: bool = False
) -> Description:
    # A database on a server the platform is configured with: its connection limit is its size.
    return Description(
        **_base(resource, "database.instance", "postgres"),
        size=connection_tier(_config(resource).get("connection_limit", -1)),
        engine="postgres",
        exposure={"public": False},
        encryption={"at_rest": None, "algorithm": None},
        on_platform_server=on_platform_server,
    )


def mysql_database(resource: Mapping[str, Any]) -> Description:
    # A database and user on a configured server, with no size of its own.
    return Description(
        **_base(resource, "database.instance", "mysql"),
        engine="mysql",
        exposure={"public": False},
        encryption={"at_rest": None, "algorithm": None},
    )


def redis_user(resource: Mapping[str, Any]) -> Description:
    # A user with its own key prefix on a configured Redis server: the tenant's share of a cache.
    return Description(
        **_base(resource, "cache.cluster", "redis"),
        engine="redis",
        exposure={"public": False},
        encryption={"at_rest": None, "algorithm": None},
    )


def git_repo(resource: Mapping[str, Any]) -> Description:
    private = _config(resource).get("private", True)
    return Description(**_base(resource, "repository", "git"), exposure={"public": not private})


def ci_secret(resource: Mapping[str, Any]) -> Description:
    return Description(
        **_base(resource, "secret", "ci"),
        exposure={"public": False},
        encryption={"at_rest": True, "algorithm": None},
    )


def terraform_workspace(resource: Mapping[str, Any]) -> Description:
    return Description(**_base(resource, "terraform.workspace", "terraform"))


def generated_secret(resource: Mapping[str, Any]) -> Description:
    return Description(**_base(resource, "secret", "platform"), exposure={"public": False})


def catalog_entity(resource: Mapping[str, Any]) -> Description:
    # A Backstage entity registered in the platform's own catalog (catalog:register): a record,
    # nothing in a cloud.
    return Description(**_base(resource, "catalog.entity", "platform"), exposure={"public": False})


DESCRIBERS: dict[str, Callable[[Mapping[str, Any]], Description]] = {
    "aws:ec2:instance": ec2_instance,
    "aws:s3:bucket": s3_bucket,
    "postgres:database": postgres_database,
    "mysql:database": mysql_database,
    "redis:user": redis_user,
    "git:repo": git_repo,
    "ci:secret": ci_secret,
    "secret:generate": generated_secret,
    "terraform:workspace": terraform_workspace,
    "catalog:entity": catalog_entity,
}


def describe_native(resource: Mapping[str, Any]) -> Description:
    """The description of a native planned resource; kind ``unknown`` when no mapping exists."""
    describer = DESCRIBERS.get(str(resource.get("type", "")))
    if describer is not None:
        return describer(resource)
    provider = str(resource.get("type", "")).split(":", 1)[0] or "unknown"
    return Description(**_base(resource, "unknown", provider))


def described(resource: Mapping[str, Any]) -> dict[str, Any]:
    """The planned resource with its ``normalized`` description (derived when it has none)."""
    normalized = resource.get("normalized") or describe_native(resource).as_dict()
    return {**resource, "normalized": normalized}
