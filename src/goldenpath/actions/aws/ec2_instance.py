"""``aws:ec2:instance``: one EC2 instance, private unless asked, tagged for cost and ownership.

Retries are made safe twice over: an instance carrying this step's marker tag is reused, and
``run_instances`` gets a ClientToken derived from the marker, so EC2 itself returns the same
instance when a step dies between launching and tagging.

The image is either an ``image_id`` or an ``image_name``: a name pattern resolved at apply time
among the images *Amazon* owns (never a community image of the same name), newest first. AMI ids
differ per region, so templates name an image family (``al2023-ami-2023.*-kernel-6.1-x86_64``)
that works in every region, on real AWS and on moto alike.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from pydantic import Field, model_validator

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
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ec2.type_defs import (
        InstanceNetworkInterfaceSpecificationTypeDef,
        InstanceTypeDef,
    )

INSTANCE_NAME = r"^[a-z][a-z0-9-]{1,62}$"
INSTANCE_TYPE = r"^[a-z][a-z0-9]*\.[a-z0-9]+$"
IMAGE_ID = r"^ami-[0-9a-f]{8,17}$"
# AMI name characters, plus the * and ? wildcards of a describe_images name filter.
IMAGE_NAME = r"^[A-Za-z0-9][A-Za-z0-9 ()./_*?@-]{2,127}$"
IMAGE_OWNER = "amazon"
# On-demand Linux prices in USD per month (730 h), eu-west-1; other types are not estimated.
MONTHLY_PRICE_USD = {"t3.nano": 3.80, "t3.micro": 7.59, "t3.small": 15.18, "t3.medium": 30.37}
_LIVE_STATES = ["pending", "running", "stopping", "stopped"]
_GONE_STATES = frozenset({"shutting-down", "terminated"})


class Ec2InstanceInputs(AwsInputs):
    name: str = Field(pattern=INSTANCE_NAME, description="The instance's Name tag.")
    instance_type: str = Field(
        pattern=INSTANCE_TYPE,
        description="Any syntactically valid type: templates and guardrails decide which.",
    )
    image_id: str | None = Field(default=None, pattern=IMAGE_ID)
    image_name: str | None = Field(
        default=None,
        pattern=IMAGE_NAME,
        description="Name pattern of an Amazon-owned image; the newest match is used.",
    )
    subnet_id: str | None = Field(default=None, pattern=r"^subnet-[0-9a-f]{8,17}$")
    public_ip: bool = False

    @model_validator(mode="after")
    def _one_image(self) -> Ec2InstanceInputs:
        if (self.image_id is None) == (self.image_name is None):
            raise ValueError("give exactly one of image_id and image_name")
        return self


class Ec2Instance(Action[Ec2InstanceInputs]):
    id = "aws:ec2:instance"
    backend_kind = "aws"
    description = "One EC2 instance without a public IP unless asked, tagged for cost."
    Inputs = Ec2InstanceInputs
    examples = (
        {
            "name": "build-agent",
            "instance_type": "t3.micro",
            "image_name": "al2023-ami-2023.*-kernel-6.1-x86_64",
        },
    )

    updatable = frozenset({"tags"})

    def plan(self, ctx: PlanContext[Ec2InstanceInputs]) -> list[PlannedResource]:
        inputs = ctx.inputs
        region = planned_region(ctx, inputs.backend, inputs.region)
        tags = platform_tags(ctx, inputs.tags)
        return [
            PlannedResource(
                type=self.id,
                name=inputs.name,
                backend=inputs.backend,
                config={
                    "instance_type": inputs.instance_type,
                    "public_ip": inputs.public_ip,
                    "image_id": inputs.image_id,
                    "image_name": inputs.image_name,
                    "subnet_id": inputs.subnet_id,
                    "tags": tags,
                },
                tags=tags,
                region=region,
                monthly_cost_usd=MONTHLY_PRICE_USD.get(inputs.instance_type),
            )
        ]

    def apply(self, ctx: Context[Ec2InstanceInputs]) -> dict[str, Any]:
        inputs = ctx.inputs
        aws = AwsBackend.for_inputs(ctx, inputs.backend, inputs.region)
        ec2 = aws.ec2()
        with aws_errors(aws.name, f"launching instance '{inputs.name}'"):
            found = _instances_marked(ec2, ctx.marker)
            if found:
                instance = found[0]
                ctx.log(f"instance {instance['InstanceId']} exists from an earlier attempt")
            else:
                instance = _launch(ec2, ctx)
                ctx.log(f"launched instance {instance['InstanceId']} ({inputs.instance_type})")
            if instance["State"]["Name"] in _GONE_STATES:
                raise ActionError(
                    problem=f"instance {instance['InstanceId']} launched for this request is "
                    f"{instance['State']['Name']}"
                )
            if instance["State"]["Name"] == "pending":
                instance = wait_running(ec2, instance["InstanceId"])
        return {
            "instance_id": instance["InstanceId"],
            "private_ip": instance.get("PrivateIpAddress", ""),
            "public_ip": instance.get("PublicIpAddress", ""),
            "state": instance["State"]["Name"],
            "region": aws.region,
        }

    def update(self, ctx: Context[Ec2InstanceInputs], resource: ResourceRef) -> dict[str, Any]:
        """The tags of our own instance (and its volumes) made what the inputs say: new and
        changed ones set, those the inputs no longer give removed."""
        aws = _existing(ctx, resource)
        ec2 = aws.ec2()
        with aws_errors(aws.name, f"tagging instance '{resource.name}'"):
            found = _instances_marked(ec2, ctx.marker)
            if not found:
                raise ActionError(
                    problem=f"no live instance carries the marker tag of '{resource.name}'"
                )
            instance = found[0]
            ids: list[str] = [instance["InstanceId"]] + [
                m["Ebs"]["VolumeId"] for m in instance.get("BlockDeviceMappings", []) if "Ebs" in m
            ]
            wanted = _tags(ctx)
            current = {t["Key"]: t["Value"] for t in instance.get("Tags", [])}
            stale = [k for k in current if k not in wanted and not k.startswith("aws:")]
            ec2.create_tags(Resources=ids, Tags=[{"Key": k, "Value": v} for k, v in wanted.items()])
            if stale:
                ec2.delete_tags(Resources=ids, Tags=[{"Key": k} for k in stale])
            ctx.log(f"instance {instance['InstanceId']}: tags set, {len(stale)} removed")
        return dict(resource.outputs)

    def destroy(self, ctx: Context[Ec2InstanceInputs], resource: ResourceRef) -> None:
        aws = _existing(ctx, resource)
        ec2 = aws.ec2()
        with aws_errors(aws.name, f"terminating instance '{resource.name}'"):
            ids = [i["InstanceId"] for i in _instances_marked(ec2, ctx.marker)]
            recorded = resource.outputs.get("instance_id")
            if recorded and recorded not in ids:
                instance = find_instance(ec2, str(recorded))
                if instance is not None and instance["State"]["Name"] not in _GONE_STATES:
                    raise ActionError(
                        problem=f"instance {recorded} no longer carries this resource's marker "
                        "tag; not terminating it"
                    )
            if not ids:
                ctx.log(f"instance {resource.name} is already gone")
                return
            ec2.terminate_instances(InstanceIds=ids)
            ctx.log(f"terminating {', '.join(ids)}")

    def observe(self, ctx: Context[Ec2InstanceInputs], resource: ResourceRef) -> Observation:
        aws = _existing(ctx, resource)
        ec2 = aws.ec2()
        with aws_errors(aws.name, f"reading instance '{resource.name}'"):
            recorded = resource.outputs.get("instance_id")
            if recorded:
                instance = find_instance(ec2, str(recorded))
            else:
                found = _instances_marked(ec2, ctx.marker)
                instance = found[0] if found else None
        if instance is None or instance["State"]["Name"] in _GONE_STATES:
            return Observation(exists=False)
        drift: list[Drift] = []
        expected_type = resource.config.get("instance_type", ctx.inputs.instance_type)
        if instance.get("InstanceType") != expected_type:
            drift.append(Drift("instance_type", expected_type, instance.get("InstanceType")))
        public_ip = instance.get("PublicIpAddress")
        if public_ip and not resource.config.get("public_ip", ctx.inputs.public_ip):
            drift.append(Drift("public_ip", False, True))
        tags = {t["Key"]: t["Value"] for t in instance.get("Tags", [])}
        for key, value in sorted(_tags(ctx).items()):
            if tags.get(key) != value:
                drift.append(Drift(f"tags.{key}", value, tags.get(key)))
        return Observation(exists=True, drift=tuple(drift))


def client_token(marker: str) -> str:
    """EC2's idempotency token (at most 64 ASCII characters), the same for every retry."""
    return "gp-" + hashlib.sha256(marker.encode()).hexdigest()[:48]


def _tags(ctx: Context[Ec2InstanceInputs]) -> dict[str, str]:
    return {
        **platform_tags(ctx, ctx.inputs.tags),
        "Name": ctx.inputs.name,
        MARKER_TAG: ctx.marker,
    }


def _launch(ec2: EC2Client, ctx: Context[Ec2InstanceInputs]) -> InstanceTypeDef:
    inputs = ctx.inputs
    # The image is fixed at the first attempt, or a retry with a newer image would not match
    # the ClientToken's original parameters.
    image_id = inputs.image_id or ctx.checkpoint("image_id", lambda: _newest_image(ec2, inputs))
    # An explicit interface: the default subnet of a default VPC hands out public IPs.
    interface: InstanceNetworkInterfaceSpecificationTypeDef = {
        "DeviceIndex": 0,
        "AssociatePublicIpAddress": inputs.public_ip,
        "DeleteOnTermination": True,
    }
    if inputs.subnet_id:
        interface["SubnetId"] = inputs.subnet_id
    tags: list[Any] = [{"Key": k, "Value": v} for k, v in _tags(ctx).items()]
    reservation = ec2.run_instances(
        ImageId=image_id,
        InstanceType=inputs.instance_type,  # type: ignore[arg-type]
        MinCount=1,
        MaxCount=1,
        ClientToken=client_token(ctx.marker),
        NetworkInterfaces=[interface],
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": tags},
            {"ResourceType": "volume", "Tags": tags},
        ],
    )
    return reservation["Instances"][0]


def _newest_image(ec2: EC2Client, inputs: Ec2InstanceInputs) -> str:
    images = ec2.describe_images(
        Owners=[IMAGE_OWNER],
        Filters=[
            {"Name": "name", "Values": [inputs.image_name or ""]},
            {"Name": "state", "Values": ["available"]},
        ],
    )["Images"]
    if not images:
        raise ActionError(
            problem=f"no image owned by {IMAGE_OWNER} matches the name '{inputs.image_name}'"
        )
    newest = max(images, key=lambda i: (i.get("CreationDate", ""), i.get("Name", "")))
    return newest["ImageId"]


def _instances_marked(ec2: EC2Client, marker: str) -> list[InstanceTypeDef]:
    pages = ec2.get_paginator("describe_instances").paginate(
        Filters=[
            {"Name": f"tag:{MARKER_TAG}", "Values": [marker]},
            {"Name": "instance-state-name", "Values": _LIVE_STATES},
        ]
    )
    return [i for page in pages for r in page["Reservations"] for i in r.get("Instances", [])]


def find_instance(ec2: EC2Client, instance_id: str) -> InstanceTypeDef | None:
    try:
        reservations = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    except ClientError as exc:
        if error_code(exc) in {"InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"}:
            return None
        raise
    found = [i for r in reservations for i in r.get("Instances", [])]
    return found[0] if found else None


def wait_running(ec2: EC2Client, instance_id: str) -> InstanceTypeDef:
    ec2.get_waiter("instance_running").wait(
        InstanceIds=[instance_id], WaiterConfig={"Delay": 5, "MaxAttempts": 60}
    )
    instance = find_instance(ec2, instance_id)
    if instance is None:
        raise ActionError(problem=f"instance {instance_id} disappeared while starting")
    return instance


def _existing(ctx: Context[Ec2InstanceInputs], resource: ResourceRef) -> AwsBackend:
    region = resource.outputs.get("region") or ctx.inputs.region
    return AwsBackend.for_inputs(ctx, resource.backend, region, existing=True)
