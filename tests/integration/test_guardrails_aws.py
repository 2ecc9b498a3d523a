"""The guardrails judge what the steps would really create, on real (moto) AWS backends."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest

from goldenpath.app import Platform
from goldenpath.errors import PolicyDenied
from goldenpath.policy.prices import shipped_table
from goldenpath.settings import BackendSettings
from tests.conftest import (
    ADMIN,
    FIXTURES,
    BackgroundWorker,
    member,
    run_goldenpath,
    wait_for_request,
    wait_for_resource_state,
)
from tests.integration.actions.aws.moto_support import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY

ALICE = member("alice", "payments")
UNSAFE = FIXTURES / "unsafe-templates"


@pytest.fixture
def aws_platform(make_platform: Callable[..., Platform], aws_backend: BackendSettings) -> Platform:
    return make_platform(
        backends={"aws": aws_backend},
        template_dirs=[FIXTURES / "templates", UNSAFE],
        allowed_regions=[REGION],
    )


def client(endpoint: str, service: Any) -> Any:
    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
    )


def instances_named(endpoint: str, name: str) -> list[dict[str, Any]]:
    found = client(endpoint, "ec2").describe_instances(
        Filters=[{"Name": "tag:Name", "Values": [name]}]
    )
    return [
        i
        for r in found["Reservations"]
        for i in r["Instances"]
        if i["State"]["Name"] != "terminated"
    ]


def test_an_m5_large_is_denied_naming_the_guardrail_and_nothing_is_created(
    aws_platform: Platform, moto_endpoint: str, unique_name: Callable[[str], str]
) -> None:
    name = unique_name("big").replace("_", "-")
    denied = (
        rf"instance_types\.rego: aws:ec2:instance\.{name} \(aws:ec2:instance\) "
        r"uses size 'm5\.large'"
    )
    with pytest.raises(PolicyDenied, match=denied):
        aws_platform.service.submit(
            "big-instance", {"name": name, "instance_type": "m5.large"}, ALICE
        )
    assert instances_named(moto_endpoint, name) == []
    assert aws_platform.service.resources(ADMIN, include_destroyed=True) == []


def test_a_t3_small_passes_and_really_launches(
    aws_platform: Platform, moto_endpoint: str, unique_name: Callable[[str], str]
) -> None:
    name = unique_name("small").replace("_", "-")
    with BackgroundWorker(aws_platform):
        request = aws_platform.service.submit(
            "big-instance", {"name": name, "instance_type": "t3.small"}, ALICE
        )
        done = wait_for_request(aws_platform, request.id)
        assert done.status == "succeeded", done.error
        [instance] = instances_named(moto_endpoint, name)
        assert instance["InstanceType"] == "t3.small"
        assert "PublicIpAddress" not in instance
        [resource] = aws_platform.service.resources(ADMIN)
        # The catalog books the price table's estimate, not the template's flat cost.
        priced = {"provider": "aws", "kind": "compute.instance", "size": "t3.small", "count": 1}
        assert resource.monthly_cost_usd == shipped_table().monthly({**priced, "region": REGION})
        aws_platform.service.destroy(resource.id, ALICE)
        assert wait_for_resource_state(aws_platform, resource.id, {"destroyed", "failed"}) == (
            "destroyed"
        )
    assert instances_named(moto_endpoint, name) == []


def test_a_hard_coded_public_bucket_is_denied_though_the_form_looks_harmless(
    aws_platform: Platform, moto_endpoint: str, unique_name: Callable[[str], str]
) -> None:
    name = unique_name("pub").replace("_", "-")
    preview = aws_platform.service.dry_run("harmless-bucket", {"name": name}, ALICE)
    assert preview.verdict.decision == "deny"
    assert {v.policy for v in preview.verdict.violations} == {"s3_private.rego"}
    with pytest.raises(PolicyDenied, match=r"s3_private\.rego"):
        aws_platform.service.submit("harmless-bucket", {"name": name}, ALICE)
    buckets = client(moto_endpoint, "s3").list_buckets()["Buckets"]
    assert name not in [b["Name"] for b in buckets]


def test_verify_finds_the_counterexample_in_a_template_that_offers_too_much() -> None:
    result = run_goldenpath("templates", "verify", str(UNSAFE / "big-instance.yaml"))
    assert result.returncode == 5, result.stdout + result.stderr
    assert "counterexample" in result.stdout
    assert "instance_type='m5.large'" in result.stdout
    assert "instance_types.rego" in result.stdout


def test_verify_proves_or_samples_every_starter_template() -> None:
    result = run_goldenpath("templates", "verify", "--samples", "20")
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("postgres-database", "s3-bucket", "ec2-instance"):
        assert f"{name}@" in result.stdout
    assert "counterexample" not in result.stdout
