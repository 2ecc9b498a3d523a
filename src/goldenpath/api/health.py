"""Liveness and readiness, for a load balancer or Kubernetes' probes.

``/healthz`` says the process answers (it touches nothing else: a database outage must not
get every API process restarted). ``/readyz`` says whether it can serve: the database
answers, its schema is at this version's migration head, and the org policies loaded.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from goldenpath import __version__
from goldenpath.api.errors import problem
from goldenpath.api.outage import RETRY_AFTER
from goldenpath.app import Platform
from goldenpath.store.database import head_revision
from goldenpath.store.outage import first_line


def health_router(platform: Platform) -> APIRouter:
    router = APIRouter(tags=["health"])
    head = head_revision()

    @router.get("/healthz", operation_id="getHealth")
    def healthz() -> dict[str, str]:
        """The process is alive (it checks nothing else; see /readyz)."""
        return {"status": "ok", "version": __version__}

    @router.get("/readyz", operation_id="getReadiness", response_model=None)
    def readyz() -> dict[str, Any] | JSONResponse:
        """Ready to serve: the database answers, migrations are current, policies loaded."""
        checks = {"database": "ok", "migrations": "ok", "policies": "ok"}
        try:
            with platform.database.engine.connect() as conn:
                current = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
            if current != head:
                checks["migrations"] = f"database at {current or 'no revision'}, code at {head}"
        except sa.exc.DBAPIError as exc:
            checks["database"] = f"unreachable: {first_line(exc)}"
            checks["migrations"] = "unknown"
        org = platform.guardrails.org
        if org.problems:
            checks["policies"] = "; ".join(org.problems)
        elif not org.policies:
            checks["policies"] = "no org policy loaded"
        if all(value == "ok" for value in checks.values()):
            return {"status": "ready", "checks": checks, "version": __version__}
        failing = ", ".join(f"{name}: {value}" for name, value in checks.items() if value != "ok")
        return problem(
            503,
            "not_ready",
            f"This API process cannot serve yet ({failing}).",
            headers=RETRY_AFTER,
            checks=checks,
        )

    return router
