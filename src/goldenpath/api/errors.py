"""One table from error type to HTTP status, and one shape for every error: an RFC 9457 problem
document (``application/problem+json``).

The standard members (``type``, ``title``, ``status``, ``detail``, ``instance``) carry the
platform's extension members beside them: ``code`` (a stable machine-readable name), ``fields``
(``[{"field", "rule"}]`` for bad input) and, for some errors, more facts (a guardrail denial's
``violations`` and ``request_id``, a ticket file's bad ``rows``). `problem` builds one for any
face that answers an error itself (a 503 with ``Retry-After``, a 429).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from goldenpath import errors

PROBLEM_MEDIA_TYPE = "application/problem+json"
# RFC 9457 suggests the tag URI scheme for problem types that are names, not pages to fetch.
PROBLEM_TYPE_PREFIX = "tag:goldenpath.dev,2026:problem:"
BEARER_REALM = 'Bearer realm="goldenpath"'

STATUS: tuple[tuple[type[errors.GoldenPathError], int], ...] = (
    (errors.InvalidInput, 422),
    (errors.InvalidInputs, 422),
    (errors.InvalidTicketFile, 422),
    (errors.TicketNotFound, 404),
    (errors.TemplateInvalid, 422),
    (errors.ActionNotFound, 422),
    (errors.BackendNotFound, 422),
    (errors.TemplateNotFound, 404),
    (errors.TemplateRetired, 410),
    (errors.UserNotFound, 404),
    (errors.TeamNotFound, 404),
    (errors.TokenNotFound, 404),
    (errors.Hidden, 404),
    (errors.NotAuthenticated, 401),
    (errors.RateLimited, 429),
    (errors.RequestNotFound, 404),
    (errors.ResourceNotFound, 404),
    (errors.Day2ActionNotFound, 404),
    (errors.AccessDenied, 403),
    (errors.PolicyDenied, 403),
    (errors.Conflict, 409),
    (errors.BodyTooLarge, 413),
    (errors.BackendUnavailable, 503),
    (errors.AuditLogBusy, 503),
    # A broken policy file: the platform cannot judge anything until ops fix it.
    (errors.PolicyMisconfigured, 503),
    # The platform lacks what the path needs: not the developer's input, not a passing outage.
    (errors.BackendNotConfigured, 501),
)


def status_for(error: errors.GoldenPathError) -> int:
    for kind, status in STATUS:
        if isinstance(error, kind):
            return status
    return 500


def problem_type(code: str) -> str:
    return PROBLEM_TYPE_PREFIX + code


def problem_body(
    status: int,
    code: str,
    detail: str,
    *,
    instance: str | None = None,
    fields: list[dict[str, str]] | None = None,
    **extensions: Any,
) -> dict[str, Any]:
    """An RFC 9457 problem document; ``title`` is the same for every problem of one ``code``."""
    body: dict[str, Any] = {
        "type": problem_type(code),
        "title": code.replace("_", " ").capitalize(),
        "status": status,
        "detail": detail,
    }
    if instance is not None:
        body["instance"] = instance
    body["code"] = code
    body["fields"] = fields or []
    body.update(extensions)
    return body


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    request: Request | None = None,
    fields: list[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """A problem response, e.g. ``problem(503, "database_unavailable", "...", request=request,
    headers={"Retry-After": "5"})``."""
    return JSONResponse(
        problem_body(
            status,
            code,
            detail,
            instance=request.url.path if request is not None else None,
            fields=fields,
            **extensions,
        ),
        status_code=status,
        headers=headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


def _extensions(error: errors.GoldenPathError) -> dict[str, Any]:
    if isinstance(error, errors.InvalidTicketFile):
        return {"rows": error.details["rows"]}
    if isinstance(error, errors.PolicyMisconfigured):
        return {"policy_problems": error.details.get("policy_problems", [])}
    if isinstance(error, errors.PolicyDenied):
        return {k: error.details[k] for k in ("request_id", "violations") if k in error.details}
    if isinstance(error, errors.RateLimited):
        return {"retry_after": error.retry_after}
    return {}


def _fields(error: errors.GoldenPathError) -> list[dict[str, str]]:
    if isinstance(error, errors.InvalidInputs):
        return [{"field": e.field, "rule": str(e.details["rule"])} for e in error.errors]
    if isinstance(error, errors.InvalidInput):
        return [{"field": error.field, "rule": str(error.details["rule"])}]
    if isinstance(error, errors.Conflict):
        return list(error.details.get("fields", []))
    if isinstance(error, errors.BodyTooLarge):
        return [{"field": "body", "rule": f"must be at most {error.details['limit']} bytes"}]
    return []


def www_authenticate(request: Request, description: str) -> str:
    """RFC 6750's challenge: ``invalid_token`` only when a bearer credential was sent."""
    sent = request.headers.get("authorization", "")
    if not sent.lower().startswith("bearer "):
        return BEARER_REALM
    text = description.replace("\\", "").replace('"', "'")
    return f'{BEARER_REALM}, error="invalid_token", error_description="{text}"'


# What the framework itself answers (an unknown path, a wrong method), in our error shape.
HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "body_too_large",
}


def _rule(error: Any) -> str:
    """A validation error's rule, phrased like the platform's own checks."""
    if error.get("type") == "string_pattern_mismatch":
        return f"must match the pattern {error['ctx']['pattern']}"
    return str(error["msg"]).lower()


def problem_of(error: errors.GoldenPathError, request: Request) -> JSONResponse:
    """The problem response for one of the platform's errors."""
    status = status_for(error)
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = www_authenticate(request, error.message)
    if isinstance(error, errors.RateLimited):
        headers["Retry-After"] = str(error.retry_after)
    return problem(
        status,
        error.code,
        error.message,
        request=request,
        fields=_fields(error),
        headers=headers,
        **_extensions(error),
    )


def install(api: FastAPI) -> None:
    @api.exception_handler(errors.GoldenPathError)
    async def _platform_error(request: Request, exc: errors.GoldenPathError) -> JSONResponse:
        return problem_of(exc, request)

    @api.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [
            {
                "field": ".".join(str(p) for p in err["loc"] if p != "body"),
                "rule": _rule(err),
            }
            for err in exc.errors()
        ]
        message = "; ".join(f"{f['field']}: {f['rule']}" for f in fields)
        return problem(
            422,
            "invalid_input",
            f"The request is invalid: {message}",
            request=request,
            fields=fields,
        )

    @api.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 400 and isinstance(exc.__cause__, errors.GoldenPathError):
            # Reading the body failed on our side: it went past the size limit (`body_limit`).
            return problem_of(exc.__cause__, request)
        if exc.status_code == 400:
            # FastAPI could not read the body at all (not UTF-8, say): bad input like any other.
            rule = "must be a JSON document in UTF-8"
            if isinstance(exc.__cause__, RecursionError):
                rule = "must not nest arrays and objects this deeply"
            return problem(
                422,
                "invalid_input",
                f"The request is invalid: body: {rule}",
                request=request,
                fields=[{"field": "body", "rule": rule}],
            )
        return problem(
            exc.status_code,
            HTTP_CODES.get(exc.status_code, "http_error"),
            str(exc.detail),
            request=request,
            headers=exc.headers,
        )

    @api.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Starlette still logs the traceback; the client gets the one error shape, no details.
        return problem(
            500,
            "internal_error",
            "Internal server error: the server log has the details.",
            request=request,
        )

    api.openapi = _problem_openapi(api)  # type: ignore[method-assign]


def _problem_openapi(api: FastAPI) -> Callable[[], dict[str, Any]]:
    """FastAPI documents every response model as ``application/json``; error responses are
    documented as what they are, ``application/problem+json``."""
    generate = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is not None:
            return api.openapi_schema
        document = generate()
        for path in document.get("paths", {}).values():
            for operation in path.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if status[:1] in "45" and "application/json" in content:
                        content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
        return document

    return openapi
