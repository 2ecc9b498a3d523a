"""Backstage templates written in the shapes Backstage documents, run through the service, the
queue and the worker: page-level conditions, `===` in step `if:`, `each:` loops, and a template
that does not load shown to admins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from goldenpath.app import Platform
from goldenpath.errors import AccessDenied, InvalidInputs
from tests.conftest import ADMIN, BackgroundWorker, member, wait_for_request

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "backstage"
ALICE = member("alice", "payments")
AWS = {"name": "orders", "cloud": "aws", "awsRegion": "eu-west-1", "awsAccountId": "123456789012"}


@pytest.fixture
def backstage(make_platform: Any) -> Platform:
    platform: Platform = make_platform(template_dirs=[FIXTURES])
    return platform


def run(platform: Platform, name: str, parameters: dict[str, Any]) -> Any:
    worker = BackgroundWorker(platform).start()
    try:
        submitted = platform.service.submit(name, parameters, ALICE)
        return wait_for_request(platform, submitted.id)
    finally:
        worker.stop()


def test_four_pages_ask_only_for_the_picked_cloud(backstage: Platform) -> None:
    service = backstage.service
    # AWS's page applies: its fields are required, GCP's and Azure's are not asked for.
    with pytest.raises(InvalidInputs) as refused:
        service.dry_run("cloud-account-bs", {"name": "orders", "cloud": "aws"}, ALICE)
    assert {e.field for e in refused.value.errors} == {"awsRegion", "awsAccountId"}
    assert service.dry_run("cloud-account-bs", AWS, ALICE).plan["steps"]
    gcp = {"name": "orders", "cloud": "gcp", "gcpProject": "proj-123"}
    assert service.dry_run("cloud-account-bs", gcp, ALICE).plan["steps"]
    with pytest.raises(InvalidInputs, match="gcpProject"):
        service.dry_run("cloud-account-bs", {"name": "orders", "cloud": "gcp"}, ALICE)


@pytest.mark.parametrize(
    ("parameters", "field"),
    [
        ({**AWS, "awsAccountId": "12"}, "awsAccountId"),
        ({**AWS, "awsRegion": "mars-1"}, "awsRegion"),
        ({**AWS, "cloud": "ibm"}, "cloud"),
        ({"name": "o", "cloud": "gcp", "gcpProject": "proj-123"}, "name"),
        ({"name": "orders", "cloud": "azure", "azureSubscription": "nope"}, "azureSubscription"),
        ({**AWS, "extra": "x"}, "extra"),
    ],
)
def test_four_pages_refuse_what_their_schema_refuses(
    backstage: Platform, parameters: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInputs) as refused:
        backstage.service.submit("cloud-account-bs", parameters, ALICE)
    assert field in {e.field for e in refused.value.errors}
    assert backstage.service.requests(ALICE) == []


def test_strict_equality_picks_the_steps_and_the_texts(backstage: Platform) -> None:
    done = run(backstage, "cloud-account-bs", AWS)
    assert done.status == "succeeded", done.error
    statuses = {s.step_id: s.status for s in done.steps}
    assert statuses == {
        "aws": "succeeded",
        "gcp": "skipped",
        "azure": "skipped",
        "not_aws": "skipped",
    }
    aws_step = next(s for s in done.steps if s.step_id == "aws")
    assert aws_step.outputs == {"message": "aws orders in eu-west-1 (123456789012)"}
    assert done.outputs["values"] == {"cloud": "aws", "requestedBy": "user:default/alice"}
    assert "Account orders is in eu-west-1." in done.outputs["text"]
    assert "Elsewhere" not in done.outputs["text"]

    azure = run(
        backstage,
        "cloud-account-bs",
        {
            "name": "ledger",
            "cloud": "azure",
            "azureSubscription": "6f1c1e4e-3c6b-4a55-9d9a-2f3a7d1f0c11",
        },
    )
    assert azure.status == "succeeded", azure.error
    ran = sorted(s.step_id for s in azure.steps if s.status == "succeeded")
    assert ran == ["azure", "not_aws"]
    assert "Account ledger is on azure." in azure.outputs["text"]


def test_each_runs_the_step_once_per_item(backstage: Platform) -> None:
    done = run(
        backstage,
        "loop-bs",
        {
            "things": ["apple", "pear"],
            "services": [{"name": "api", "port": 8080}, {"name": "web", "port": 8443}],
        },
    )
    assert done.status == "succeeded", done.error
    assert done.outputs["values"] == {
        "messages": "contents: apple! contents: pear!",
        "services": "0: api on 8080; 1: web on 8443",
    }
    step = next(s for s in done.steps if s.step_id == "log_message")
    assert step.outputs == {"message": ["contents: apple!", "contents: pear!"]}
    assert step.input == [{"message": "contents: apple!"}, {"message": "contents: pear!"}]


@pytest.mark.parametrize(
    ("parameters", "field"),
    [
        ({"things": []}, "things"),
        ({"things": ["a", "a"]}, "things"),
        ({"things": ["Apple"]}, "things"),
        ({"things": ["a"], "services": [{"name": "api", "port": 80}]}, "services"),
        ({"things": ["a"], "services": [{"name": "api"}]}, "services"),
    ],
)
def test_each_template_refuses_what_its_schema_refuses(
    backstage: Platform, parameters: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInputs) as refused:
        backstage.service.submit("loop-bs", parameters, ALICE)
    assert any(e.field.startswith(field) for e in refused.value.errors)


def test_admins_see_the_template_that_did_not_load(backstage: Platform) -> None:
    names = {t.name for t in backstage.service.templates(ALICE)}
    assert "unknown-action-bs" not in names
    [problem] = backstage.service.template_problems(ADMIN)
    assert problem.details["field"] == "spec.steps[0].action"
    assert "step 'deploy' uses action 'acme:deploy'" in problem.message
    with pytest.raises(AccessDenied):
        backstage.service.template_problems(ALICE)
