"""The OpenAPI document against the running server: schemathesis generates requests for every
operation — data that fits the document and data that does not — signed in as a developer and as
the platform admin, and checks that the server never answers 5xx and that every answer (status,
content type, body) is one the document declares.

Excluded: nothing. The SSE stream (``/requests/{request_id}/events``) streams only for a request
that exists; generated ids never name one, so it answers 404 or 422 at once instead of blocking.

The operations are driven from here rather than through ``schema.parametrize()``: its lazy
(fixture-loaded) form renames pytest nodes through an attribute pytest 9 no longer has. All the
operations run, then the test fails once, listing every operation that broke. What this loses
is schemathesis's coverage phase (boundary values tried on purpose): here an extreme value, like
an id past PostgreSQL's BIGINT, comes only when the 25 derandomized examples happen to hold one.

Generated values never name the users, teams and token the other e2e tests rely on: the admin's
run could otherwise disable them, change their password or revoke the token. And a generated
request that names a real golden path is sent as a dry run: fuzzing must not create databases
with arbitrary names on the shared PostgreSQL server.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import hypothesis
import hypothesis.errors
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis import Case, GenerationMode
from schemathesis.checks import CheckFunction
from schemathesis.core.failures import FailureGroup

from tests.e2e.conftest import ADMIN_TOKEN, Server, make_user

MAX_EXAMPLES = 25
SETTINGS = hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: the report has a curl line already
    suppress_health_check=list(HealthCheck),
)
CHECKS: list[CheckFunction] = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
]
# Users, teams and the admin's token id that the rest of the e2e suite needs intact.
PROTECTED = frozenset({"admin", "dev", "e2e", "default", "e2eadmin0000"})


@pytest.fixture(scope="module")
def api_schema(server: Server) -> Any:
    config = schemathesis.Config.from_dict({"request-timeout": 30})
    return schemathesis.openapi.from_url(
        f"{server.url}/api/openapi.json", config=config, timeout=30
    )


@pytest.fixture(scope="module")
def golden_paths(server: Server) -> frozenset[str]:
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    found = httpx.get(f"{server.url}/api/v1/templates", headers=admin, timeout=30)
    return frozenset(t["name"] for t in found.json()["items"])


@pytest.fixture(scope="module")
def fuzz_developer(server: Server) -> str:
    """A developer of a team of their own, so that nothing they do touches the other tests."""
    return make_user(server, "fuzz-dev", "fuzz")


def operations(api_schema: Any) -> Iterator[Any]:
    for result in api_schema.get_all_operations():
        yield result.ok()


def fuzz(api_schema: Any, token: str, golden_paths: frozenset[str]) -> None:
    session = requests.Session()  # keep-alive: one connection for the whole run
    session.headers["Authorization"] = f"Bearer {token}"
    failures: list[str] = []
    tested = 0
    for operation in operations(api_schema):
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @SETTINGS
            @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
            def check(case: Case) -> None:
                if PROTECTED & {str(v) for v in (case.path_parameters or {}).values()}:
                    return
                body = case.body
                if isinstance(body, dict) and body.get("template") in golden_paths:
                    body["dry_run"] = True
                case.call_and_validate(session=session, checks=CHECKS)

            try:
                check()
            except hypothesis.errors.Unsatisfiable:
                continue  # nothing to make invalid: no parameters and no body
            except (Exception, FailureGroup) as exc:
                # A flaky failure's own text names no cause: its sub-exceptions do.
                causes = "".join(
                    f"\n  {c.__cause__ or c.__context__ or c!r}"
                    for c in getattr(exc, "exceptions", ())
                )
                failures.append(f"--- {operation.label} ({mode.value}) ---\n{exc}{causes}")
            tested += 1
    session.close()
    assert tested >= 2 * 20, f"only {tested} operation runs: is the document complete?"
    assert not failures, f"{len(failures)} operation runs failed:\n\n" + "\n\n".join(failures)


def test_api_conforms_to_its_openapi_document_as_a_developer(
    api_schema: Any, fuzz_developer: str, golden_paths: frozenset[str]
) -> None:
    fuzz(api_schema, fuzz_developer, golden_paths)


def test_api_conforms_to_its_openapi_document_as_the_admin(
    api_schema: Any, golden_paths: frozenset[str]
) -> None:
    fuzz(api_schema, ADMIN_TOKEN, golden_paths)
