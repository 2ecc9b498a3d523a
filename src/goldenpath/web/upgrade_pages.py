"""The admins' upgrade-impact page: pick a golden path and a version, see what it would do to
every live resource an older version made (grouped by outcome, counted, with owner team and
reasons), and start the rollout of what changes in place."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from goldenpath.app import Platform
from goldenpath.errors import InvalidInput
from goldenpath.identity.actor import Actor
from goldenpath.identity.permissions import authorize
from goldenpath.upgrades.impact import OUTCOMES, Impact
from goldenpath.upgrades.service import RolloutStart
from goldenpath.web.rendering import Pages
from goldenpath.web.routing import PortalRoute, Posted, SignedIn, one

# What each outcome means for the admin deciding, in the page's words.
MEANINGS = {
    "none": "the new version makes the same thing (the rollout records the version)",
    "update": "changed in place by the rollout",
    "replace": "destroyed and made again: its data would be lost (refused by the rollout)",
    "denied": "the new version's guardrails deny it (refused)",
    "invalid": "its parameters are no longer valid, or planning fails (refused)",
}


def upgrade_router(platform: Platform, pages: Pages) -> APIRouter:
    upgrades, catalog = platform.upgrades, platform.catalog
    router = APIRouter(route_class=PortalRoute)

    def page(
        request: Request,
        actor: Actor,
        target: str,
        *,
        impact: Impact | None = None,
        started: RolloutStart | None = None,
    ) -> Response:
        name, version = _target(target)
        if impact is None and name:
            impact = upgrades.impact(name, version, actor)
        groups = (
            [(o, [r for r in impact.resources if r.outcome == o]) for o in OUTCOMES]
            if impact is not None
            else []
        )
        context = {
            "choices": [(t.name, list(catalog.versions_of(t.name))) for t in catalog],
            "target": target,
            "impact": impact,
            "groups": [(o, items) for o, items in groups if items],
            "meanings": MEANINGS,
            "in_place": sum(len(items) for o, items in groups if o in ("none", "update")),
            "started": started,
        }
        return pages.render(request, "admin_impact.html", context)

    @router.get("/admin/impact")
    def impact(request: Request, actor: SignedIn, target: str = "") -> Response:
        authorize(actor, "identity.manage")
        return page(request, actor, target)

    @router.post("/admin/impact")
    def rollout(request: Request, actor: SignedIn, form: Posted) -> Response:
        """Queue the upgrades at once (each an ordinary request) and show what was started."""
        authorize(actor, "identity.manage")
        target = one(form, "target")
        name, version = _target(target)
        if not name:
            raise InvalidInput(field="target", rule="pick a golden path and a version")
        started = upgrades.start_rollout(name, version, actor)
        return page(request, actor, target, started=started)

    return router


def _target(target: str) -> tuple[str, str | None]:
    """``name@version`` (or a bare name: its newest version) as the page's select sends it."""
    if not target:
        return "", None
    name, _, version = target.partition("@")
    return name, version or None
