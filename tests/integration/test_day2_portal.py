"""Day-2 actions in the portal, over real HTTP without a browser: the resource page offers a
button per action (a small form when it has parameters), a bad value comes back next to its
field and runs nothing, a good one starts the request and leads to its page."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import httpx
import pytest

from goldenpath.app import Platform
from goldenpath.settings import BackendSettings
from tests.conftest import ADMIN, wait_for_request
from tests.integration.actions.aws.moto_support import REGION
from tests.integration.test_guardrails_aws import instances_named
from tests.integration.test_portal_papercuts import developer_in_portal

PASSWORD = "day2-portal-password"


@pytest.fixture
def portal(
    make_platform: Callable[..., Platform], aws_backend: BackendSettings
) -> Iterator[tuple[Platform, httpx.Client]]:
    platform = make_platform(backends={"aws": aws_backend}, allowed_regions=[REGION])
    with developer_in_portal(platform, PASSWORD, run_worker=True) as client:
        yield platform, client


def csrf(html: str) -> str:
    match = re.search(r'name="_csrf" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def made_by_portal(
    platform: Platform, client: httpx.Client, path: str, form: dict[str, str]
) -> str:
    page = client.get(f"/paths/{path}")
    posted = client.post(f"/paths/{path}", data={**form, "_csrf": csrf(page.text)})
    assert posted.status_code == 303, posted.text
    request_id = posted.headers["location"].rsplit("/", 1)[-1]
    assert wait_for_request(platform, request_id, timeout=120).status == "succeeded"
    [resource] = [r for r in platform.service.resources(ADMIN) if r.request_id == request_id]
    return resource.id


def test_the_resource_page_resizes_an_instance_and_rotates_a_password(
    portal: tuple[Platform, httpx.Client], unique_name: Callable[[str], str], moto_endpoint: str
) -> None:
    platform, client = portal
    name = unique_name("web").replace("_", "-")
    instance = made_by_portal(
        platform,
        client,
        "ec2-instance",
        {"name": name, "instance_type": "t3.micro", "cost_center": "cc-1"},
    )
    page = client.get(f"/resources/{instance}")
    assert f'action="/resources/{instance}/actions/resize"' in page.text
    assert 'name="instance_type" value="t3.small"' in page.text  # the form offers the enum

    bad = client.post(
        f"/resources/{instance}/actions/resize",
        data={"instance_type": "m5.24xlarge", "_csrf": csrf(page.text)},
    )
    assert bad.status_code == 422
    assert 'id="instance_type-error"' in bad.text
    assert [r.kind for r in platform.service.requests(ADMIN)] == ["create"]

    good = client.post(
        f"/resources/{instance}/actions/resize",
        data={"instance_type": "t3.small", "_csrf": csrf(page.text)},
    )
    assert good.status_code == 303 and good.headers["location"].startswith("/requests/")
    request_id = good.headers["location"].rsplit("/", 1)[-1]
    assert wait_for_request(platform, request_id, timeout=120).status == "succeeded"
    assert "day2:resize" in client.get("/requests").text
    [live] = instances_named(moto_endpoint, name)
    assert live["InstanceType"] == "t3.small"

    database = made_by_portal(platform, client, "postgres-database", {"name": unique_name("db")})
    page = client.get(f"/resources/{database}")
    assert re.search(r"<button type=\"submit\">Rotate the password</button>", page.text)
    rotated = client.post(
        f"/resources/{database}/actions/rotate-password", data={"_csrf": csrf(page.text)}
    )
    assert rotated.status_code == 303
    rotation = rotated.headers["location"].rsplit("/", 1)[-1]
    assert wait_for_request(platform, rotation, timeout=120).kind == "day2:rotate-password"

    # Without the form's token nothing runs.
    forged = client.post(f"/resources/{database}/actions/rotate-password", data={})
    assert forged.status_code in (400, 403)
    assert len(platform.service.requests(ADMIN)) == 4
