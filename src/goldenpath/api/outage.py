"""The API while its database is unreachable: 503 with a problem document and Retry-After.

Any request that meets the lost database (a failed connect, a connection dropped mid-query)
gets the same answer, and the log gets one line when the outage starts and one when the
database answers again (SQLAlchemy opens a new connection), not a traceback per request.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from procrastinate.exceptions import ConnectorException

from goldenpath.store.database import Database
from goldenpath.store.outage import Outage, is_database_unreachable

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
PROBLEM_JSON = "application/problem+json"


def problem_response(
    status: int,
    *,
    code: str,
    title: str,
    detail: str,
    retry_after: int | None = None,
    **members: Any,
) -> JSONResponse:
    """An RFC 9457 problem document (``code`` names the error for scripts)."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    body.update(code=code, **members)
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def install(api: FastAPI, database: Database) -> Outage:
    outage = Outage(logger, "the API answers 503 until it is back")

    @sa.event.listens_for(database.engine, "connect")
    def _connected(*_: Any) -> None:
        outage.recovered()

    async def _database_error(request: Request, exc: Exception) -> JSONResponse:
        if not is_database_unreachable(exc):
            logger.error("unexpected database error", exc_info=exc)
            return problem_response(
                500,
                code="internal_error",
                title="Internal Server Error",
                detail="Internal server error: the server log has the details.",
            )
        outage.failed(exc)
        return problem_response(
            503,
            code="database_unavailable",
            title="Service Unavailable",
            detail="The platform's database is unreachable; try again shortly.",
            retry_after=RETRY_AFTER_SECONDS,
        )

    for kind in (sa.exc.DBAPIError, psycopg.Error, ConnectorException):
        api.add_exception_handler(kind, _database_error)
    return outage
