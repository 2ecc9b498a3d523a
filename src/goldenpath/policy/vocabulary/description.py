"""The normalized description every planned resource carries beside its raw form.

One shape for a native action's resource and a Terraform resource, so that one policy judges an
``aws:ec2:instance`` request and a Terraform ``aws_instance`` alike. A value Terraform only knows
after apply is the string ``"unknown"``; a policy that must be sure denies on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

UNKNOWN = "unknown"

KINDS = (
    "compute.instance",
    "compute.launch_template",
    "compute.autoscaling_group",
    "storage.bucket",
    "database.instance",
    "database.cluster",
    "cache.cluster",
    "secret",
    "repository",
    # A setting of another resource (an S3 bucket's policy, ACL, public-access block, ...):
    # judged as part of the resource it is attached to.
    "attachment",
    # Lives only in Terraform's state (terraform_data, null_resource, random_*): nothing to judge.
    "internal",
    # The platform's record of one Terraform workspace.
    "terraform.workspace",
    # A Backstage entity registered in the platform's catalog (catalog:register).
    "catalog.entity",
    "unknown",
)

# The principals that mean "everyone" in a bucket policy or an IAM binding.
EVERYONE = frozenset({"*", "allUsers", "allAuthenticatedUsers"})


@dataclass(frozen=True)
class Description:
    """A resource in the platform's vocabulary (see docs/policies.md, "Resource vocabulary")."""

    kind: str
    provider: str
    provider_type: str
    address: str
    source: str = "native"
    change: str = "create"
    region: Any = None
    tags: Any = field(default_factory=dict)
    size: Any = None
    sizes: tuple[Any, ...] = ()
    count: Any = 1
    engine: Any = None
    exposure: Mapping[str, Any] = field(default_factory=dict)
    encryption: Mapping[str, Any] = field(default_factory=dict)
    attached_to: str | None = None
    monthly_cost_usd: float | None = None
    # A database the platform hosts on its own PostgreSQL server (no postgres backend is
    # configured), beside the platform's own data.
    on_platform_server: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "provider": self.provider,
            "provider_type": self.provider_type,
            "address": self.address,
            "source": self.source,
            "change": self.change,
            "region": self.region,
            "tags": dict(self.tags) if isinstance(self.tags, Mapping) else self.tags,
            "size": self.size,
            "sizes": list(self.sizes) if self.sizes else ([self.size] if self.size else []),
            "count": self.count,
            "engine": self.engine,
            "exposure": dict(self.exposure),
            "encryption": dict(self.encryption),
            "attached_to": self.attached_to,
            "monthly_cost_usd": self.monthly_cost_usd,
            "on_platform_server": self.on_platform_server,
        }


def bucket_exposure(
    acl: Any, principals: Any, access_block: Mapping[str, Any] | None
) -> dict[str, Any]:
    """An S3-style bucket's exposure, and whether that makes it public.

    The four public-access-block flags all on keep a bucket private whatever its ACL or policy
    says (S3 ignores public ACLs and refuses public policies then). Otherwise an everyone-ACL or
    an everyone-principal makes it public, and anything unknown leaves it unknown.
    """
    block = dict(access_block) if access_block is not None else None
    if block is not None and all(block.get(flag) is True for flag in BLOCK_FLAGS):
        public: Any = False
    elif acl in PUBLIC_ACLS or (isinstance(principals, list) and EVERYONE & set(principals)):
        public = True
    elif acl == UNKNOWN or principals == UNKNOWN:
        public = UNKNOWN
    else:
        public = False
    return {"public": public, "acl": acl, "policy_principals": principals, "access_block": block}


BLOCK_FLAGS = (
    "block_public_acls",
    "ignore_public_acls",
    "block_public_policy",
    "restrict_public_buckets",
)
PUBLIC_ACLS = frozenset(
    {"public-read", "public-read-write", "authenticated-read", "publicRead", "publicReadWrite"}
)
