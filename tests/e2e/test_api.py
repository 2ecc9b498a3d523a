"""The REST API through a running server: shapes, statuses and errors a client relies on."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest

from goldenpath.cli.client import ApiClient
from tests.e2e.conftest import ADMIN_TOKEN, Server


@pytest.fixture
def api(server: Server, developer_token: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {developer_token}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        yield client  # type: ignore[misc]


def test_health_and_openapi(api: httpx.Client) -> None:
    assert api.get("/healthz").json()["status"] == "ok"
    document = api.get("/api/openapi.json").json()
    for path in (
        "/api/v1/templates",
        "/api/v1/templates/{name}",
        "/api/v1/requests",
        "/api/v1/requests/{request_id}",
        "/api/v1/requests/{request_id}/approve",
        "/api/v1/resources",
        "/api/v1/resources/{resource_id}",
    ):
        assert path in document["paths"], path
    assert "Problem" in document["components"]["schemas"]


def test_the_guardrails_in_force_are_listed_with_what_reads_them(api: httpx.Client) -> None:
    response = api.get("/api/v1/policies")
    assert response.status_code == 200, response.text
    listed = response.json()
    assert listed["problems"] == []
    by_file = {f["file"]: f for f in listed["files"]}
    assert by_file["budget.rego"]["rules"] == ["require_approval"]
    assert by_file["naming.rego"] | {"rules": None} == {
        "file": "naming.rego",
        "package": "goldenpath.naming",
        "group": "native request policies",
        "applies_to": "request",
        "rego": "v1",
        "rules": None,
        "helper": False,
    }
    assert api.get("/api/v1/policies", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_errors_name_the_field_and_the_rule(api: httpx.Client) -> None:
    response = api.post(
        "/api/v1/requests",
        json={"template": "postgres-database", "parameters": {"name": "x'; --", "extra": 1}},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    error = response.json()
    assert error["type"] == "tag:goldenpath.dev,2026:problem:invalid_inputs"
    assert error["title"] == "Invalid inputs"
    assert error["status"] == 422 and error["instance"] == "/api/v1/requests"
    assert "name" in error["detail"] and error["code"] == "invalid_inputs"
    assert {f["field"] for f in error["fields"]} == {"name", "extra"}

    body_error = api.post("/api/v1/requests", json={"parameters": {}}).json()
    assert body_error["fields"][0]["field"] == "template"

    missing = api.get("/api/v1/templates/no-such-path")
    assert missing.status_code == 404 and missing.json()["code"] == "template_not_found"
    assert missing.json()["status"] == 404
    unknown_route = api.get("/api/v1/no-such-route")
    assert unknown_route.headers["content-type"] == "application/problem+json"
    assert unknown_route.json()["code"] == "not_found"
    not_uuid = api.get("/api/v1/requests/../../etc/passwd")
    assert not_uuid.status_code in (404, 422)
    anonymous = httpx.get(str(api.base_url.join("/api/v1/templates")), timeout=30)
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "not_authenticated"
    assert anonymous.headers["www-authenticate"] == 'Bearer realm="goldenpath"'
    forged = api.get("/api/v1/templates", headers={"Authorization": "Bearer gp_nope"})
    assert forged.status_code == 401
    challenge = forged.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="goldenpath", error="invalid_token"'), challenge


def test_every_operation_has_a_hand_named_unique_operation_id(api: httpx.Client) -> None:
    document = api.get("/api/openapi.json").json()
    ids = [
        (method, path, operation.get("operationId", ""))
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    ]
    names = [name for _, _, name in ids]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    # FastAPI's generated form is the function name, the path and the method joined by '_'.
    generated = [(m, p, n) for m, p, n in ids if not re.fullmatch(r"[a-z]+(?:[A-Z][a-z0-9]*)*", n)]
    assert generated == []
    by_route = {(m, p): n for m, p, n in ids}
    assert by_route[("get", "/api/v1/templates")] == "listTemplates"
    assert by_route[("post", "/api/v1/requests")] == "createRequest"
    assert by_route[("post", "/api/v1/requests/{request_id}/secrets/reveal")] == (
        "revealRequestSecrets"
    )
    assert by_route[("delete", "/api/v1/resources/{resource_id}")] == "destroyResource"


def test_error_responses_are_documented_as_problem_documents(api: httpx.Client) -> None:
    document = api.get("/api/openapi.json").json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status[0] in "45":
                    assert "application/json" not in response.get("content", {}), (
                        method,
                        path,
                        status,
                    )


def test_dry_run_returns_the_plan_and_the_verdict(
    api: httpx.Client, new_name: Callable[[], str]
) -> None:
    name = new_name()
    response = api.post(
        "/api/v1/requests",
        json={"template": "postgres-database", "parameters": {"name": name}, "dry_run": True},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["plan"]["resources"][0]["name"] == name
    assert body["verdict"]["decision"] == "allow"
    recorded = api.get("/api/v1/requests", params={"limit": 500}).json()["items"]
    assert all(r["parameters"].get("name") != name for r in recorded)


def test_submit_answers_202_with_a_location(api: httpx.Client, new_name: Callable[[], str]) -> None:
    response = api.post(
        "/api/v1/requests",
        json={"template": "postgres-database", "parameters": {"name": new_name()}},
    )
    assert response.status_code == 202
    request_id = response.json()["id"]
    assert response.headers["location"] == f"/api/v1/requests/{request_id}"
    shown = api.get(response.headers["location"]).json()
    assert shown["requested_by"] == "dev" and shown["team"] == "e2e"
    assert "password" not in str(shown.get("outputs"))
    own = api.post(f"/api/v1/requests/{request_id}/approve", json={"comment": "fine"})
    assert own.status_code == 403
    assert "their own request" in own.json()["detail"]


def test_lists_come_in_pages_that_a_client_follows(api: httpx.Client, server: Server) -> None:
    first = api.get("/api/v1/templates", params={"limit": 2}).json()
    assert len(first["items"]) == 2 and first["total"] > 2 and first["next"]
    second = api.get("/api/v1/templates", params={"limit": 2, "cursor": first["next"]}).json()
    assert not {t["name"] for t in first["items"]} & {t["name"] for t in second["items"]}

    with ApiClient(server.url, token=ADMIN_TOKEN, page_size=1) as client:
        every = client.every("/api/v1/templates")
        users = client.every("/api/v1/users")
        whole = client.call("GET", "/api/v1/users", params={"limit": 500})
    assert [t["name"] for t in every] == sorted(t["name"] for t in every)
    assert len(every) == first["total"]
    assert [u["name"] for u in users] == [u["name"] for u in whole["items"]]
    assert len(users) == whole["total"] >= 2 and whole["next"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"cursor": "not a cursor!"}, "cursor"),
        ({"cursor": "WzEsMl0"}, "cursor"),
    ],
)
def test_a_bad_page_request_is_refused_naming_the_field(
    api: httpx.Client, params: dict[str, object], field: str
) -> None:
    for path in ("/api/v1/requests", "/api/v1/resources"):
        refused = api.get(path, params=params)
        assert refused.status_code == 422, refused.text
        assert [f["field"].split(".")[-1] for f in refused.json()["fields"]] == [field]


def test_every_response_and_log_line_of_a_request_carries_its_id(
    api: httpx.Client, server: Server
) -> None:
    traced = api.get("/api/v1/me", headers={"X-Request-ID": "e2e-trace-7f3a"})
    assert traced.headers["x-request-id"] == "e2e-trace-7f3a"
    fresh = api.get("/api/v1/no-such-thing", headers={"X-Request-ID": "bad id\twith tab"})
    assert re.fullmatch(r"[0-9a-f]{32}", fresh.headers["x-request-id"])
    log = server.log.read_text()
    assert re.search(r"INFO +uvicorn\.access \[e2e-trace-7f3a\] .*GET /api/v1/me", log), log[-2000:]
    # The project's own INFO lines and Procrastinate's reach the log too.
    assert re.search(r"INFO +procrastinate\.\S+ \[-\] ", log), log[-2000:]
