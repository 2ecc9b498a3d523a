"""aws:ec2:instance against moto's standalone server, through the action class."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from goldenpath.actions.aws.ec2_instance import Ec2Instance, Ec2InstanceInputs, client_token
from goldenpath.actions.base import Context, PlanContext, ResourceRef
from goldenpath.actions.testing import MemoryJournal
from goldenpath.errors import ActionError
from goldenpath.policy import PolicySet
from goldenpath.policy.vocabulary import described as with_description
from goldenpath.settings import BackendSettings

from .moto_support import REGION

STARTER_POLICIES = Path(__file__).parents[4] / "starter" / "policies"
AL2023 = "al2023-ami-2023.*-kernel-6.1-x86_64"
MakeContext = Callable[..., Context[Any]]


def inputs(name: str, **values: Any) -> Ec2InstanceInputs:
    return Ec2InstanceInputs.model_validate(
        {"name": name, "instance_type": "t3.micro", "image_name": AL2023, **values}
    )


def plan_context(instance: Ec2InstanceInputs) -> PlanContext[Ec2InstanceInputs]:
    return PlanContext(
        inputs=instance,
        backends={"aws": BackendSettings(kind="aws", region=REGION)},
        owner_team="payments",
        requested_by="alice",
        template_name="test-template",
    )


def ref(name: str, outputs: dict[str, Any], resource_id: str = "r-1") -> ResourceRef:
    return ResourceRef(
        id=resource_id,
        type="aws:ec2:instance",
        name=name,
        backend="aws",
        config={"instance_type": "t3.micro", "public_ip": False, "image_name": AL2023},
        outputs=outputs,
    )


def described(ec2: Any, instance_id: str) -> dict[str, Any]:
    reservations = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    instance: dict[str, Any] = reservations[0]["Instances"][0]
    return instance


@pytest.fixture
def ec2(raw_client: Callable[..., Any]) -> Any:
    return raw_client("ec2")


def test_launches_a_private_tagged_instance_from_an_amazon_image(
    make_context: MakeContext, ec2: Any, unique: Callable[[str], str]
) -> None:
    name = unique("web")
    outputs = Ec2Instance().apply(make_context(inputs(name, tags={"cost-center": "cc-42"})))

    assert outputs["instance_id"].startswith("i-")
    assert outputs["private_ip"]
    assert outputs["public_ip"] == ""
    assert outputs["state"] == "running"
    instance = described(ec2, outputs["instance_id"])
    assert "PublicIpAddress" not in instance
    assert instance["InstanceType"] == "t3.micro"
    image = ec2.describe_images(ImageIds=[instance["ImageId"]])["Images"][0]
    assert image["Name"].startswith("al2023-ami-2023.")
    assert image["Name"].endswith("-kernel-6.1-x86_64")
    assert {t["Key"]: t["Value"] for t in instance["Tags"]} == {
        "Name": name,
        "owner": "payments",
        "cost-center": "cc-42",
        "golden-path": "test-template",
        "goldenpath:resource": "goldenpath:r-1",
    }


def test_a_public_ip_is_attached_only_when_asked(
    make_context: MakeContext, ec2: Any, unique: Callable[[str], str]
) -> None:
    outputs = Ec2Instance().apply(
        make_context(inputs(unique("public"), public_ip=True), resource_id="r-public")
    )
    assert outputs["public_ip"]
    assert described(ec2, outputs["instance_id"])["PublicIpAddress"] == outputs["public_ip"]


def test_an_explicit_subnet_and_image_id_are_used(
    make_context: MakeContext, ec2: Any, unique: Callable[[str], str]
) -> None:
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.1.0/24")["Subnet"]["SubnetId"]
    ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": True})
    image_id = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = inputs(unique("subnet"), image_name=None, image_id=image_id, subnet_id=subnet)
    outputs = Ec2Instance().apply(make_context(instance, resource_id="r-subnet"))
    launched = described(ec2, outputs["instance_id"])
    assert launched["SubnetId"] == subnet
    assert launched["ImageId"] == image_id
    assert outputs["private_ip"].startswith("10.42.1.")
    assert "PublicIpAddress" not in launched


def test_a_retried_apply_yields_the_same_instance(
    make_context: MakeContext, ec2: Any, unique: Callable[[str], str], journal: MemoryJournal
) -> None:
    name = unique("retry")
    first = Ec2Instance().apply(make_context(inputs(name), resource_id="r-retry", journal=journal))
    second = Ec2Instance().apply(make_context(inputs(name), resource_id="r-retry", journal=journal))
    assert first["instance_id"] == second["instance_id"]
    marked = ec2.describe_instances(
        Filters=[{"Name": "tag:goldenpath:resource", "Values": ["goldenpath:r-retry"]}]
    )["Reservations"]
    assert len([i for r in marked for i in r["Instances"]]) == 1
    assert "image_id" in journal.values  # a retry that must launch again uses the same image


def test_the_client_token_is_stable_and_fits_ec2s_limit() -> None:
    token = client_token("goldenpath:r-1")
    assert token == client_token("goldenpath:r-1") != client_token("goldenpath:r-2")
    assert len(token) <= 64 and token.isascii()


def test_destroy_terminates_and_is_idempotent(
    make_context: MakeContext, ec2: Any, unique: Callable[[str], str]
) -> None:
    name = unique("gone")
    action = Ec2Instance()
    outputs = action.apply(make_context(inputs(name), resource_id="r-gone"))
    resource = ref(name, outputs, "r-gone")
    ctx = make_context(inputs(name), resource_id="r-gone")

    action.destroy(ctx, resource)
    assert described(ec2, outputs["instance_id"])["State"]["Name"] in {
        "shutting-down",
        "terminated",
    }
    assert not action.observe(ctx, resource).exists
    action.destroy(ctx, resource)  # already terminated: still fine
    action.destroy(ctx, ref(name, {"instance_id": "i-0123456789abcdef0"}, "r-gone"))


def test_destroy_never_terminates_an_instance_without_its_marker(
    make_context: MakeContext, ec2: Any, unique: Callable[[str], str]
) -> None:
    name = unique("unmarked")
    action = Ec2Instance()
    outputs = action.apply(make_context(inputs(name), resource_id="r-unmarked"))
    ec2.delete_tags(Resources=[outputs["instance_id"]], Tags=[{"Key": "goldenpath:resource"}])
    with pytest.raises(ActionError, match="no longer carries this resource's marker"):
        action.destroy(
            make_context(inputs(name), resource_id="r-unmarked"), ref(name, outputs, "r-unmarked")
        )
    assert described(ec2, outputs["instance_id"])["State"]["Name"] == "running"


def test_observe_reports_drift_after_out_of_band_changes(
    make_context: MakeContext, ec2: Any, unique: Callable[[str], str]
) -> None:
    name = unique("drift")
    action = Ec2Instance()
    ctx = make_context(inputs(name), resource_id="r-drift")
    outputs = action.apply(ctx)
    resource = ref(name, outputs, "r-drift")
    assert action.observe(ctx, resource).in_sync

    instance_id = outputs["instance_id"]
    ec2.stop_instances(InstanceIds=[instance_id])  # EC2 resizes stopped instances only
    ec2.modify_instance_attribute(InstanceId=instance_id, InstanceType={"Value": "m5.4xlarge"})
    ec2.delete_tags(Resources=[instance_id], Tags=[{"Key": "cost-center"}])
    observed = action.observe(ctx, resource)
    assert observed.exists
    assert {(d.field, d.expected, d.actual) for d in observed.drift} == {
        ("instance_type", "t3.micro", "m5.4xlarge"),
        ("tags.cost-center", "unassigned", None),
    }


def test_update_sets_the_new_tags_and_removes_the_old_on_instance_and_volume(
    make_context: MakeContext, ec2: Any, unique: Callable[[str], str]
) -> None:
    name = unique("tagged")
    old = inputs(name, tags={"cost-center": "cc-1", "project": "apollo"})
    outputs = Ec2Instance().apply(make_context(old))
    new = inputs(name, tags={"cost-center": "cc-2", "tier": "gold"})
    change = Ec2Instance().upgrade_change(
        Ec2Instance().plan(plan_context(old))[0].config,
        Ec2Instance().plan(plan_context(new))[0].config,
    )
    assert change.outcome == "update"
    bigger = Ec2Instance().plan(plan_context(inputs(name, instance_type="t3.small")))[0].config
    resized = Ec2Instance().upgrade_change(Ec2Instance().plan(plan_context(old))[0].config, bigger)
    assert resized.outcome == "replace"
    assert resized.reasons[-1] == "aws:ec2:instance cannot change instance_type in place"

    assert Ec2Instance().update(make_context(new), ref(name, outputs)) == outputs
    instance = described(ec2, outputs["instance_id"])
    volume = instance["BlockDeviceMappings"][0]["Ebs"]["VolumeId"]
    for resource_id in (outputs["instance_id"], volume):
        found = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [resource_id]}])
        tags = {t["Key"]: t["Value"] for t in found["Tags"]}
        assert tags["cost-center"] == "cc-2" and tags["tier"] == "gold"
        assert "project" not in tags
        assert tags["Name"] == name and tags["goldenpath:resource"] == "goldenpath:r-1"
    # Another resource's marker: its instance is not touched.
    with pytest.raises(ActionError, match="no live instance carries the marker"):
        Ec2Instance().update(make_context(new, resource_id="r-other"), ref(name, outputs))


@pytest.mark.parametrize(
    ("instance_type", "monthly_cost"),
    [("t3.nano", 3.80), ("t3.micro", 7.59), ("t3.small", 15.18), ("t3.medium", 30.37)],
)
def test_plan_estimates_the_monthly_cost_of_small_types(
    instance_type: str, monthly_cost: float
) -> None:
    [planned] = Ec2Instance().plan(plan_context(inputs("web", instance_type=instance_type)))
    assert planned.monthly_cost_usd == monthly_cost


def test_plan_reports_a_large_type_truthfully_and_the_guardrail_denies_it() -> None:
    planned_inputs = inputs("web", instance_type="m5.24xlarge", tags={"cost-center": "cc-1"})
    [planned] = Ec2Instance().plan(plan_context(planned_inputs))
    assert planned.type == "aws:ec2:instance"
    assert planned.region == REGION
    assert planned.monthly_cost_usd is None
    assert planned.config == {
        "instance_type": "m5.24xlarge",
        "public_ip": False,
        "image_id": None,
        "image_name": AL2023,
        "subnet_id": None,
        "tags": planned.tags,
    }
    assert planned.tags == {
        "owner": "payments",
        "cost-center": "cc-1",
        "golden-path": "test-template",
    }
    verdict = PolicySet.from_paths([STARTER_POLICIES]).evaluate(
        {
            "template": {"name": "test-template"},
            "parameters": {},
            "actor": {"user": "alice", "teams": ["payments"], "roles": ["developer"]},
            "team": {"name": "payments", "monthly_budget_usd": None},
            "request": {"dry_run": True, "exception": False},
            "plan": {
                "resources": [
                    with_description(
                        {"step": "vm", "action": "aws:ec2:instance", **planned.as_dict()}
                    )
                ],
                "outputs": [],
                "total_monthly_cost_usd": 0,
            },
        }
    )
    assert verdict.decision == "deny"
    assert [v.policy for v in verdict.violations] == ["instance_types.rego"]


def test_an_image_name_nobody_publishes_fails_clearly(
    make_context: MakeContext, unique: Callable[[str], str]
) -> None:
    missing = inputs(unique("noimage"), image_name="no-such-image-*")
    with pytest.raises(ActionError, match="no image owned by amazon matches the name 'no-such"):
        Ec2Instance().apply(make_context(missing, resource_id="r-noimage"))


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"name": "Web"}, "name"),
        ({"name": "web; rm -rf /"}, "name"),
        ({"instance_type": "t3.micro; --"}, "instance_type"),
        ({"instance_type": "T3.MICRO"}, "instance_type"),
        ({"image_name": None, "image_id": "ami-xyz"}, "image_id"),
        ({"image_id": "ami-0123456789abcdef0"}, "exactly one of image_id and image_name"),
        ({"image_name": None}, "exactly one of image_id and image_name"),
        ({"image_name": "name'; drop"}, "image_name"),
        ({"subnet_id": "sg-12345678"}, "subnet_id"),
        ({"tags": {"aws:cloudformation": "x"}}, "tags"),
    ],
)
def test_bad_inputs_are_rejected(values: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        inputs(**{"name": "web", **values})
