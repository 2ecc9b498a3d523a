"""The catalog of golden paths, each path's request form, its preview and its submission."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response

from goldenpath.app import Platform
from goldenpath.errors import Conflict, GoldenPathError, InvalidInput, InvalidInputs, PolicyDenied
from goldenpath.identity.actor import Actor
from goldenpath.service import DryRun
from goldenpath.templates.loader import Template
from goldenpath.web.forms import Page, as_text, fields_of, form_pages, parse, query_values
from goldenpath.web.rendering import Pages
from goldenpath.web.routing import (
    Form,
    PortalRoute,
    Posted,
    SignedIn,
    field_errors,
    one,
    redirect,
)

FORM_ERRORS = (InvalidInput, InvalidInputs, Conflict)


def catalog_router(platform: Platform, pages: Pages) -> APIRouter:
    service = platform.service
    router = APIRouter(route_class=PortalRoute)

    @router.get("/")
    def catalog(request: Request, actor: SignedIn, q: str = "", tag: str = "") -> Response:
        templates = service.templates(actor)
        tags = sorted({t for template in templates for t in template.document.metadata.tags})
        shown = [t for t in templates if _matches(t, q.strip().lower(), tag)]
        setup = {t.name: [m.describe() for m in service.needs_setup(t)] for t in shown}
        context = {
            "templates": shown,
            "tags": tags,
            "q": q,
            "tag": tag,
            "total": len(templates),
            "needs_setup": setup,
            "is_admin": actor.is_admin,
        }
        return pages.render(request, "catalog.html", context)

    @router.get("/paths/{name}")
    def request_form(request: Request, name: str, actor: SignedIn) -> Response:
        template = service.template(name, actor)
        form = form_pages(template.document.spec.parameters, service.team_names())
        query = {k: request.query_params.getlist(k) for k in request.query_params}
        values = query_values(form, query)
        team, ttl = request.query_params.get("_team"), request.query_params.get("_ttl")
        return _form(request, template, form, actor, values, team=team, ttl=ttl)

    @router.post("/paths/{name}/preview")
    def preview(request: Request, name: str, actor: SignedIn, posted: Posted) -> Response:
        template = service.template(name, actor)
        form = form_pages(template.document.spec.parameters, service.team_names())
        values, team, ttl = parse(form, posted), one(posted, "_team") or None, _ttl(posted)
        try:
            dry = service.dry_run(name, values, actor, team=team, ttl=ttl)
        except FORM_ERRORS as error:
            return _form(request, template, form, actor, values, team=team, ttl=ttl, error=error)
        return _preview(request, dry, form, team, ttl)

    @router.post("/paths/{name}")
    def submit(request: Request, name: str, actor: SignedIn, posted: Posted) -> Response:
        template = service.template(name, actor)
        form = form_pages(template.document.spec.parameters, service.team_names())
        values, team, ttl = parse(form, posted), one(posted, "_team") or None, _ttl(posted)
        justification = posted.get("_justification", [None])[-1]
        try:
            record = service.submit(
                name, values, actor, team=team, justification=justification, ttl=ttl
            )
        except InvalidInput as error:
            if error.field != "justification":
                return _form(
                    request, template, form, actor, values, team=team, ttl=ttl, error=error
                )
            dry = service.dry_run(name, values, actor, team=team, exception=True, ttl=ttl)
            extra = {"justification": justification, "justification_error": error.details["rule"]}
            return _preview(request, dry, form, team, ttl, status=422, **extra)
        except FORM_ERRORS as error:
            return _form(request, template, form, actor, values, team=team, ttl=ttl, error=error)
        except PolicyDenied as denied:
            dry = service.dry_run(name, values, actor, team=team, ttl=ttl)
            rejected = denied.details.get("request_id")
            return _preview(request, dry, form, team, ttl, status=403, rejected_id=rejected)
        return redirect(f"/requests/{record.id}")

    def _form(
        request: Request,
        template: Template,
        form: list[Page],
        actor: Actor,
        values: dict[str, Any],
        *,
        team: str | None = None,
        ttl: str | None = None,
        error: GoldenPathError | None = None,
    ) -> Response:
        names = {f.name for f in fields_of(form)}
        # The platform's own fields (owner team, lifetime) are _-named beside the parameters.
        aliases = {own: f"_{own}" for own in ("team", "ttl") if own not in names}
        own = {"_team", "_ttl"}
        errors, general = field_errors(error, names | own, aliases) if error else ({}, [])
        secret = {f.name for f in fields_of(form) if f.secret}
        context = {
            "template": template,
            "form": form,
            "values": {k: v for k, v in values.items() if k not in secret},
            "errors": errors,
            "general": general,
            "labels": {f.name: f.label for f in fields_of(form)}
            | {"_team": "Owner team", "_ttl": "Lifetime"},
            "teams": actor.teams if len(actor.teams) > 1 else (),
            "team": team,
            "ttl": ttl,
        }
        return pages.render(request, "form.html", context, status=422 if error else 200)

    def _preview(
        request: Request,
        dry: DryRun,
        form: list[Page],
        team: str | None,
        ttl: str | None,
        *,
        status: int = 200,
        **extra: Any,
    ) -> Response:
        kept = _kept(form, dry.parameters)
        own = [(k, v) for k, v in (("_team", team), ("_ttl", ttl)) if v]
        change = f"/paths/{dry.template.name}?" + urlencode([*kept, *own])
        context = {
            "dry": dry,
            "template": dry.template,
            "kept": kept,
            "secrets": [f for f in fields_of(form) if f.secret and f.name in dry.parameters],
            "team": team,
            "ttl": ttl,
            "change_url": change,
            **extra,
        }
        return pages.render(request, "preview.html", context, status=status)

    return router


def _ttl(posted: Form) -> str | None:
    """The lifetime asked for; empty means the golden path's default."""
    return one(posted, "_ttl").strip() or None


def _kept(form: list[Page], parameters: dict[str, Any]) -> list[tuple[str, str]]:
    """The validated values as hidden fields, to submit from the preview; never a secret
    (the preview asks for those again rather than put them in the page)."""
    kept: list[tuple[str, str]] = []
    for item in fields_of(form):
        if item.secret or item.name not in parameters:
            continue
        value = parameters[item.name]
        if item.widget == "checkboxes" and isinstance(value, list):
            kept.extend((item.name, as_text(item, v)) for v in value)
        else:
            kept.append((item.name, as_text(item, value)))
    return kept


def _matches(template: Template, query: str, tag: str) -> bool:
    meta, spec = template.document.metadata, template.document.spec
    if tag and tag not in meta.tags:
        return False
    if not query:
        return True
    text = " ".join(
        [template.name, template.title, meta.description, spec.replaces or "", *meta.tags]
    )
    return all(word in text.lower() for word in query.split())
