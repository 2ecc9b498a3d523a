"""``aws:ec2:resize``: another instance type for the instance an `aws:ec2:instance` step made.

EC2 changes the type of a stopped instance only: a running one is stopped, modified and started
again (its private IP stays; the disk is kept). Whether it was running is checkpointed before it
is stopped, so a step retried after a crash still starts it again.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from goldenpath.actions.aws.ec2_instance import (
    INSTANCE_TYPE,
    Ec2Instance,
    Ec2InstanceInputs,
    find_instance,
    wait_running,
)
from goldenpath.actions.aws.session import MARKER_TAG, AwsBackend, aws_errors
from goldenpath.actions.base import ActionInputs, Context, ResourceOperation, ResourceRef, not_ours
from goldenpath.errors import ActionError

_RUNNING = frozenset({"pending", "running"})


class Ec2ResizeInputs(ActionInputs):
    instance_type: str = Field(
        pattern=INSTANCE_TYPE, description="The new type: templates and guardrails decide which."
    )


class Ec2Resize(ResourceOperation[Ec2ResizeInputs]):
    id = "aws:ec2:resize"
    backend_kind = "aws"
    description = "Another instance type for an EC2 instance (stopped, modified, started)."
    Inputs = Ec2ResizeInputs
    operates_on = frozenset({Ec2Instance.id})
    examples = ({"instance_type": "t3.small"},)

    def changes(self, inputs: Ec2ResizeInputs) -> dict[str, Any]:
        return {"instance_type": inputs.instance_type}

    def operate(
        self, ctx: Context[Ec2ResizeInputs], resource: ResourceRef, made_with: ActionInputs
    ) -> dict[str, Any]:
        assert isinstance(made_with, Ec2InstanceInputs)
        wanted = ctx.inputs.instance_type
        region = resource.outputs.get("region") or made_with.region
        aws = AwsBackend.for_inputs(ctx, made_with.backend, region, existing=True)
        ec2 = aws.ec2()
        instance_id = str(resource.outputs.get("instance_id") or "")
        with aws_errors(aws.name, f"resizing instance '{resource.name}'"):
            instance = find_instance(ec2, instance_id) if instance_id else None
            tags = {t["Key"]: t["Value"] for t in (instance or {}).get("Tags", [])}
            if instance is None or tags.get(MARKER_TAG) != ctx.marker:
                raise not_ours(
                    f"instance {instance_id or resource.name}", "not resizing it (it may be gone)"
                )
            state = instance["State"]["Name"]
            if state not in ("stopped", "stopping", *_RUNNING):
                raise ActionError(problem=f"instance {instance_id} is {state}; cannot resize it")
            was_running = ctx.checkpoint("was_running", lambda: str(state in _RUNNING)) == "True"
            if instance.get("InstanceType") != wanted:
                if state != "stopped":
                    ec2.stop_instances(InstanceIds=[instance_id])
                    ec2.get_waiter("instance_stopped").wait(
                        InstanceIds=[instance_id], WaiterConfig={"Delay": 5, "MaxAttempts": 60}
                    )
                    ctx.log(f"stopped {instance_id} to change its type")
                ec2.modify_instance_attribute(
                    InstanceId=instance_id, InstanceType={"Value": wanted}
                )
                ctx.log(f"{instance_id}: {instance.get('InstanceType')} -> {wanted}")
            if was_running:
                current = find_instance(ec2, instance_id)
                if current is not None and current["State"]["Name"] != "running":
                    ec2.start_instances(InstanceIds=[instance_id])
                    ctx.log(f"started {instance_id} again")
                instance = wait_running(ec2, instance_id)
            else:
                instance = find_instance(ec2, instance_id) or instance
        return {
            "instance_id": instance_id,
            "private_ip": instance.get("PrivateIpAddress", ""),
            "public_ip": instance.get("PublicIpAddress", ""),
            "state": instance["State"]["Name"],
            "region": aws.region,
        }
