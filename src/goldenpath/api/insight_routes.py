"""Insights: import ticket history, read the report (JSON or a standalone HTML page with its
charts), override a ticket's class, draft a golden path for a ticket type."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from goldenpath.api.auth import CurrentActor
from goldenpath.api.schemas import Problem
from goldenpath.app import Platform

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem} for status in (401, 403, 404, 413, 422, 429, 503)
}
MAX_UPLOAD = 256 * 1024 * 1024
HTML = "text/html; charset=utf-8"
YAML = "application/yaml"


def _text(media_type: str, description: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "content": {media_type.split(";")[0]: {"schema": {"type": "string"}}},
            "description": description,
        }
    }


class ClassOverride(BaseModel):
    model_config = ConfigDict(strict=True)

    class_name: str | None = Field(
        default=None, max_length=200, description="A golden path or ticket type; null clears."
    )


def insight_router(platform: Platform) -> APIRouter:
    insights = platform.insights
    router = APIRouter(prefix="/api/v1/insights", responses=ERRORS, tags=["insights"])

    @router.post("/tickets", operation_id="importTickets")
    async def import_tickets(
        request: Request,
        actor: CurrentActor,
        format: Annotated[str | None, Query(max_length=20)] = None,
        map: Annotated[str | None, Query(max_length=1000, description="key=ID,...")] = None,
        timezone: Annotated[str, Query(max_length=64)] = "UTC",
        source: Annotated[str | None, Query(max_length=100)] = None,
    ) -> dict[str, Any]:
        """Import an export sent as the request body (CSV or JSON). Bad rows: 422, none kept."""
        data = await request.body()
        result = await run_in_threadpool(
            insights.import_export, data, actor, format=format, mapping=map,
            timezone=timezone, source=source,
        )  # fmt: skip
        return result.as_dict()

    @router.post("/classify", operation_id="classifyTickets")
    def classify(actor: CurrentActor) -> dict[str, int]:
        return {"classified": insights.classify(actor)}

    @router.put("/tickets/{source}/{key}/class", operation_id="setTicketClass", status_code=204)
    def override(
        source: str, key: str, body: Annotated[ClassOverride, Body()], actor: CurrentActor
    ) -> None:
        insights.override(source, key, body.class_name, actor)

    @router.get("/report", operation_id="getInsightsReport")
    def report(
        actor: CurrentActor, since: datetime | None = None, until: datetime | None = None
    ) -> dict[str, Any]:
        return insights.report(actor, since=since, until=until).as_dict()

    # `Response` has no media type of its own, so the errors stay documented as JSON.
    @router.get(
        "/report.html",
        operation_id="getInsightsReportHtml",
        response_class=Response,
        responses=_text(HTML, "The report."),
    )
    def report_html(
        actor: CurrentActor, since: datetime | None = None, until: datetime | None = None
    ) -> Response:
        from goldenpath.insights.html import standalone_html

        page = standalone_html(insights.report(actor, since=since, until=until))
        return Response(page, media_type=HTML)

    @router.get(
        "/drafts/{type_name}",
        operation_id="draftGoldenPath",
        response_class=Response,
        responses=_text(YAML, "YAML."),
    )
    def draft(type_name: str, actor: CurrentActor) -> Response:
        """A golden path skeleton (YAML) for a ticket type."""
        return Response(insights.draft(type_name, actor), media_type=YAML)

    return router
