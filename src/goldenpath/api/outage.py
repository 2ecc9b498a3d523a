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

from goldenpath.api.errors import problem
from goldenpath.store.database import Database
from goldenpath.store.outage import Outage, is_database_unreachable

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
RETRY_AFTER = {"Retry-After": str(RETRY_AFTER_SECONDS)}


def install(api: FastAPI, database: Database) -> Outage:
    outage = Outage(logger, "the API answers 503 until it is back")

    @sa.event.listens_for(database.engine, "connect")
    def _connected(*_: Any) -> None:
        outage.recovered()

    async def _database_error(request: Request, exc: Exception) -> JSONResponse:
        if not is_database_unreachable(exc):
            logger.error("unexpected database error", exc_info=exc)
            return problem(
                500,
                "internal_error",
                "Internal server error: the server log has the details.",
                request=request,
            )
        outage.failed(exc)
        return problem(
            503,
            "database_unavailable",
            "The platform's database is unreachable; try again shortly.",
            request=request,
            headers=RETRY_AFTER,
        )

    for kind in (sa.exc.DBAPIError, psycopg.Error, ConnectorException):
        api.add_exception_handler(kind, _database_error)
    return outage
