"""``aws:s3:bucket``: a private, encrypted, tagged S3 bucket.

The bucket carries the marker tag ``goldenpath:resource``; a retried step re-asserts the
configuration of its own bucket, and no step ever adopts, changes or deletes a bucket without
its marker. S3 cannot create and tag a bucket in one call, so a step interrupted between the two
is recognised by a checkpoint written before the create (see `_left_by_interrupted_attempt`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, field_validator

from goldenpath.actions.aws.session import (
    MARKER_TAG,
    AwsBackend,
    AwsInputs,
    aws_errors,
    error_code,
    planned_region,
    platform_tags,
)
from goldenpath.actions.base import (
    Action,
    Context,
    Drift,
    Observation,
    PlanContext,
    PlannedResource,
    ResourceRef,
)
from goldenpath.errors import ActionError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import (
        PublicAccessBlockConfigurationTypeDef,
        ServerSideEncryptionConfigurationTypeDef,
    )

BUCKET_NAME = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
_IP_LIKE = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
ENCRYPTION = "AES256"
CREATE_STARTED = "s3-create-started"
# How much earlier than our first attempt's checkpoint S3 may date a bucket we created.
CLOCK_SKEW = timedelta(minutes=1)
_GONE = frozenset({"404", "NoSuchBucket"})

Acl = Literal["private", "public-read", "public-read-write", "authenticated-read"]


class PublicAccessBlock(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    block_public_acls: bool = True
    ignore_public_acls: bool = True
    block_public_policy: bool = True
    restrict_public_buckets: bool = True

    def as_aws(self) -> PublicAccessBlockConfigurationTypeDef:
        return {
            "BlockPublicAcls": self.block_public_acls,
            "IgnorePublicAcls": self.ignore_public_acls,
            "BlockPublicPolicy": self.block_public_policy,
            "RestrictPublicBuckets": self.restrict_public_buckets,
        }


class S3BucketInputs(AwsInputs):
    name: str = Field(
        pattern=BUCKET_NAME,
        description="Bucket name: 3 to 63 lower-case letters, digits, '.' and '-'.",
    )
    versioning: bool = False
    public_access_block: PublicAccessBlock = Field(default_factory=PublicAccessBlock)
    acl: Acl = "private"
    force_destroy: bool = Field(
        default=False, description="Destroy deletes every object (and version) first."
    )

    @field_validator("name")
    @classmethod
    def _s3_name_rules(cls, name: str) -> str:
        if ".." in name:
            raise ValueError("must not contain '..'")
        if _IP_LIKE.match(name):
            raise ValueError("must not look like an IP address")
        if name.startswith(_RESERVED_PREFIXES) or name.endswith(_RESERVED_SUFFIXES):
            raise ValueError("uses a prefix or suffix that S3 reserves")
        return name


class S3Bucket(Action[S3BucketInputs]):
    id = "aws:s3:bucket"
    backend_kind = "aws"
    description = "A private S3 bucket: public access blocked, encrypted, tagged for cost."
    Inputs = S3BucketInputs
    examples = ({"name": "payments-reports", "versioning": True, "tags": {"cost-center": "cc-42"}},)
    updatable = frozenset({"tags", "versioning"})

    def plan(self, ctx: PlanContext[S3BucketInputs]) -> list[PlannedResource]:
        inputs = ctx.inputs
        region = planned_region(ctx, inputs.backend, inputs.region)
        tags = platform_tags(ctx, inputs.tags)
        return [
            PlannedResource(
                type=self.id,
                name=inputs.name,
                backend=inputs.backend,
                config={**_config(inputs), "tags": tags},
                tags=tags,
                region=region,
                monthly_cost_usd=None,
            )
        ]

    def apply(self, ctx: Context[S3BucketInputs]) -> dict[str, Any]:
        inputs = ctx.inputs
        aws = AwsBackend.for_inputs(ctx, inputs.backend, inputs.region)
        s3 = aws.s3()
        with aws_errors(aws.name, f"creating bucket '{inputs.name}'"):
            state = _ownership(s3, inputs.name, ctx.marker)
            if state == "absent":
                ctx.checkpoint(CREATE_STARTED, lambda: datetime.now(UTC).isoformat())
                _create(s3, aws, inputs)
                ctx.log(f"created bucket {inputs.name} in {aws.region}")
            elif state == "ours":
                ctx.log(f"bucket {inputs.name} exists from an earlier attempt; re-asserting it")
            elif state == "untagged" and _left_by_interrupted_attempt(ctx, s3, inputs.name):
                ctx.log(f"bucket {inputs.name} was created by an interrupted attempt; tagging it")
            else:
                raise ActionError(
                    problem=f"a bucket named '{inputs.name}' already exists and was not "
                    "created by this request"
                )
            _configure(s3, ctx)
        return {
            "bucket": inputs.name,
            "region": aws.region,
            "arn": f"arn:{_partition(aws.region)}:s3:::{inputs.name}",
            "url": _url(aws, inputs.name),
        }

    def update(self, ctx: Context[S3BucketInputs], resource: ResourceRef) -> dict[str, Any]:
        """Tags (the whole set: removed ones go) and versioning, on our own bucket only."""
        name = ctx.inputs.name
        if name != resource.name:
            raise ActionError(problem=f"a bucket cannot be renamed in place ({resource.name})")
        aws = _existing(ctx, resource)
        s3 = aws.s3()
        with aws_errors(aws.name, f"updating bucket '{name}'"):
            if _ownership(s3, name, ctx.marker) != "ours":
                raise ActionError(
                    problem=f"bucket '{name}' does not carry this resource's marker tag; "
                    "not changing it"
                )
            _configure(s3, ctx)
        return dict(resource.outputs)

    def destroy(self, ctx: Context[S3BucketInputs], resource: ResourceRef) -> None:
        name = resource.name
        aws = _existing(ctx, resource)
        s3 = aws.s3()
        with aws_errors(aws.name, f"deleting bucket '{name}'"):
            state = _ownership(s3, name, ctx.marker)
            if state == "absent":
                ctx.log(f"bucket {name} is already gone")
                return
            if state != "ours" and not (
                state == "untagged" and _left_by_interrupted_attempt(ctx, s3, name)
            ):
                raise ActionError(
                    problem=f"bucket '{name}' does not carry this resource's marker tag; "
                    "not deleting it"
                )
            versions, more = _count_versions(s3, name)
            if versions and not ctx.inputs.force_destroy:
                count = f"more than {versions}" if more else str(versions)
                raise ActionError(
                    problem=f"bucket '{name}' is not empty: it holds {count} objects "
                    "(versions included); empty it first or request a forced destroy"
                )
            _delete_everything(s3, name)
            try:
                s3.delete_bucket(Bucket=name)
            except ClientError as exc:
                if error_code(exc) not in _GONE:
                    raise
            ctx.log(f"deleted bucket {name}" + (f" and {versions} objects" if versions else ""))

    def observe(self, ctx: Context[S3BucketInputs], resource: ResourceRef) -> Observation:
        name = resource.name
        aws = _existing(ctx, resource)
        s3 = aws.s3()
        with aws_errors(aws.name, f"reading bucket '{name}'"):
            tags = _tags_of(s3, name)
            if tags is None or tags.get(MARKER_TAG, ctx.marker) != ctx.marker:
                # Gone, not ours to read, or deleted and re-made by another request.
                return Observation(exists=False)
            expected = {**_config(ctx.inputs), **resource.config}
            drift = _config_drift(s3, name, expected)
        expected_tags = {**platform_tags(ctx, ctx.inputs.tags), MARKER_TAG: ctx.marker}
        drift += [
            Drift(f"tags.{key}", value, tags.get(key))
            for key, value in sorted(expected_tags.items())
            if tags.get(key) != value
        ]
        return Observation(exists=True, drift=tuple(drift))


def _existing(ctx: Context[S3BucketInputs], resource: ResourceRef) -> AwsBackend:
    region = resource.outputs.get("region") or ctx.inputs.region
    return AwsBackend.for_inputs(ctx, resource.backend, region, existing=True)


def _config(inputs: S3BucketInputs) -> dict[str, Any]:
    return {
        "public_access_block": inputs.public_access_block.model_dump(),
        "acl": inputs.acl,
        "versioning": inputs.versioning,
        "encryption": ENCRYPTION,
    }


def _ownership(s3: S3Client, name: str, marker: str) -> str:
    """``absent``, ``ours``, ``untagged`` (in our account, no marker) or ``foreign``."""
    tags = _tags_of(s3, name)
    if tags is None:
        return "absent"
    if MARKER_TAG not in tags:
        return "untagged"
    return "ours" if tags[MARKER_TAG] == marker else "foreign"


def _tags_of(s3: S3Client, name: str) -> dict[str, str] | None:
    """The bucket's tags; None when there is no such bucket; raises when it is not ours."""
    try:
        s3.head_bucket(Bucket=name)
    except ClientError as exc:
        code = error_code(exc)
        if code in _GONE:
            return None
        if code in {"403", "AccessDenied"}:
            raise ActionError(
                problem=f"a bucket named '{name}' exists in another account or is not "
                "readable with this backend's credentials"
            ) from exc
        if code in {"301", "PermanentRedirect"}:
            raise ActionError(problem=f"a bucket named '{name}' exists in another region") from exc
        raise
    try:
        tag_set = s3.get_bucket_tagging(Bucket=name)["TagSet"]
    except ClientError as exc:
        if error_code(exc) == "NoSuchTagSet":
            return {}
        if error_code(exc) in _GONE:
            return None
        raise
    return {tag["Key"]: tag["Value"] for tag in tag_set}


def _create(s3: S3Client, aws: AwsBackend, inputs: S3BucketInputs) -> None:
    ownership: Any = "BucketOwnerEnforced" if inputs.acl == "private" else "ObjectWriter"
    try:
        if aws.region == "us-east-1":
            s3.create_bucket(Bucket=inputs.name, ObjectOwnership=ownership)
        else:
            location: Any = aws.region
            s3.create_bucket(
                Bucket=inputs.name,
                ObjectOwnership=ownership,
                CreateBucketConfiguration={"LocationConstraint": location},
            )
    except ClientError as exc:
        if error_code(exc) in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
            raise ActionError(
                problem=f"a bucket named '{inputs.name}' already exists and was not created "
                "by this request"
            ) from exc
        raise


def _left_by_interrupted_attempt(ctx: Context[S3BucketInputs], s3: S3Client, name: str) -> bool:
    """Whether an untagged bucket is the one an earlier attempt of this step created.

    The earlier attempt checkpointed the time just before its create; a bucket made before
    that time is somebody else's. Without such a checkpoint nothing is adopted.
    """
    now = datetime.now(UTC).isoformat()
    started = ctx.checkpoint(CREATE_STARTED, lambda: now)
    if started == now:
        return False
    created = next(
        (b.get("CreationDate") for b in s3.list_buckets()["Buckets"] if b.get("Name") == name),
        None,
    )
    return created is not None and created >= datetime.fromisoformat(started) - CLOCK_SKEW


def _configure(s3: S3Client, ctx: Context[S3BucketInputs]) -> None:
    """Make the bucket what the inputs say; safe to repeat."""
    inputs = ctx.inputs
    name = inputs.name
    tags = {**platform_tags(ctx, inputs.tags), MARKER_TAG: ctx.marker}
    s3.put_bucket_tagging(
        Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}
    )
    s3.put_public_access_block(
        Bucket=name, PublicAccessBlockConfiguration=inputs.public_access_block.as_aws()
    )
    if inputs.acl == "private":
        s3.put_bucket_ownership_controls(
            Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        )
    else:
        s3.put_bucket_ownership_controls(
            Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
        )
        s3.put_bucket_acl(Bucket=name, ACL=inputs.acl)
    encryption: ServerSideEncryptionConfigurationTypeDef = {
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
    }
    s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration=encryption)
    if inputs.versioning:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    elif s3.get_bucket_versioning(Bucket=name).get("Status") == "Enabled":
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"})
    ctx.log(f"bucket {name}: tags, public access block, ownership, encryption, versioning set")


def _config_drift(s3: S3Client, name: str, expected: dict[str, Any]) -> list[Drift]:
    drift: list[Drift] = []
    try:
        block = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    except ClientError as exc:
        if error_code(exc) != "NoSuchPublicAccessBlockConfiguration":
            raise
        block = {}
    actual_block = PublicAccessBlock(
        block_public_acls=block.get("BlockPublicAcls", False),
        ignore_public_acls=block.get("IgnorePublicAcls", False),
        block_public_policy=block.get("BlockPublicPolicy", False),
        restrict_public_buckets=block.get("RestrictPublicBuckets", False),
    ).model_dump()
    for flag, value in expected["public_access_block"].items():
        if actual_block[flag] != value:
            drift.append(Drift(f"public_access_block.{flag}", value, actual_block[flag]))
    try:
        rules = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"]
        algorithm = rules[0].get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm")
    except ClientError as exc:
        if error_code(exc) != "ServerSideEncryptionConfigurationNotFoundError":
            raise
        algorithm = None
    if algorithm != expected["encryption"]:
        drift.append(Drift("encryption", expected["encryption"], algorithm))
    versioning = s3.get_bucket_versioning(Bucket=name).get("Status") == "Enabled"
    if versioning != expected["versioning"]:
        drift.append(Drift("versioning", expected["versioning"], versioning))
    wanted = "BucketOwnerEnforced" if expected["acl"] == "private" else "ObjectWriter"
    try:
        ownership = s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"][0][
            "ObjectOwnership"
        ]
    except ClientError as exc:
        if error_code(exc) != "OwnershipControlsNotFoundError":
            raise
        ownership = None
    if ownership != wanted:
        drift.append(Drift("object_ownership", wanted, ownership))
    return drift


def _count_versions(s3: S3Client, name: str) -> tuple[int, bool]:
    """Object versions on the first listing page, and whether there are more."""
    page = s3.list_object_versions(Bucket=name, MaxKeys=1000)
    return len(page.get("Versions", [])), bool(page.get("IsTruncated"))


def _delete_everything(s3: S3Client, name: str) -> None:
    """Every object version and delete marker, a page (at most 1000) at a time."""
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
        doomed: list[Any] = [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
        ]
        if not doomed:
            continue
        result = s3.delete_objects(Bucket=name, Delete={"Objects": doomed, "Quiet": True})
        if result.get("Errors"):
            first = result["Errors"][0]
            raise ActionError(
                problem=f"could not empty bucket '{name}': {first.get('Key')}: "
                f"{first.get('Code')} {first.get('Message')}"
            )


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _url(aws: AwsBackend, name: str) -> str:
    if aws.endpoint_url:
        return f"{aws.endpoint_url.rstrip('/')}/{name}"
    suffix = "amazonaws.com.cn" if aws.region.startswith("cn-") else "amazonaws.com"
    return f"https://{name}.s3.{aws.region}.{suffix}"
