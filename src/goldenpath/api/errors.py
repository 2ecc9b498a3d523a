"""One table from error type to HTTP status, and one JSON shape for every error."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from goldenpath import errors

STATUS: tuple[tuple[type[errors.GoldenPathError], int], ...] = (
    (errors.InvalidInput, 422),
    (errors.InvalidInputs, 422),
    (errors.InvalidTicketFile, 422),
    (errors.TicketNotFound, 404),
    (errors.TemplateInvalid, 422),
    (errors.ActionNotFound, 422),
    (errors.BackendNotFound, 422),
    (errors.TemplateNotFound, 404),
    (errors.UserNotFound, 404),
    (errors.TeamNotFound, 404),
    (errors.TokenNotFound, 404),
    (errors.Hidden, 404),
    (errors.NotAuthenticated, 401),
    (errors.RequestNotFound, 404),
    (errors.ResourceNotFound, 404),
    (errors.AccessDenied, 403),
    (errors.PolicyDenied, 403),
    (errors.Conflict, 409),
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


def error_body(
    code: str,
    message: str,
    fields: list[dict[str, str]] | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "fields": fields or [],
            "details": details or {},
        }
    }


def _details(error: errors.GoldenPathError) -> dict[str, Any]:
    if isinstance(error, errors.InvalidTicketFile):
        return {"rows": error.details["rows"]}
    if isinstance(error, errors.PolicyMisconfigured):
        return {"policy_problems": error.details.get("policy_problems", [])}
    if isinstance(error, errors.PolicyDenied):
        return {k: error.details[k] for k in ("request_id", "violations") if k in error.details}
    return {}


def _fields(error: errors.GoldenPathError) -> list[dict[str, str]]:
    if isinstance(error, errors.InvalidInputs):
        return [{"field": e.field, "rule": str(e.details["rule"])} for e in error.errors]
    if isinstance(error, errors.InvalidInput):
        return [{"field": error.field, "rule": str(error.details["rule"])}]
    if isinstance(error, errors.Conflict):
        return list(error.details.get("fields", []))
    return []


# What the framework itself answers (an unknown path, a wrong method), in our error shape.
HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 406: "not_acceptable"}


def _rule(error: Any) -> str:
    """A validation error's rule, phrased like the platform's own checks."""
    if error.get("type") == "string_pattern_mismatch":
        return f"must match the pattern {error['ctx']['pattern']}"
    return str(error["msg"]).lower()


def install(api: FastAPI) -> None:
    @api.exception_handler(errors.GoldenPathError)
    async def _platform_error(request: Request, exc: errors.GoldenPathError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.code, exc.message, _fields(exc), _details(exc)),
            status_code=status_for(exc),
        )

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
        return JSONResponse(
            error_body("invalid_input", f"The request is invalid: {message}", fields),
            status_code=422,
        )

    @api.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 400:
            # FastAPI could not read the body at all (not UTF-8, say): bad input like any other.
            rule = "must be a JSON document in UTF-8"
            return JSONResponse(
                error_body(
                    "invalid_input",
                    f"The request is invalid: body: {rule}",
                    [{"field": "body", "rule": rule}],
                ),
                status_code=422,
            )
        return JSONResponse(
            error_body(HTTP_CODES.get(exc.status_code, "http_error"), str(exc.detail)),
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @api.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Starlette still logs the traceback; the client gets the one error shape, no details.
        return JSONResponse(
            error_body("internal_error", "Internal server error: the server log has the details."),
            status_code=500,
        )
