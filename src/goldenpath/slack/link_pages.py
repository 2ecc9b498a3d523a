"""The portal page where a signed-in user confirms the one-time code `/golden link` gave them."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request, Response

from goldenpath.app import Platform
from goldenpath.errors import InvalidInput
from goldenpath.slack.people import SlackPeople
from goldenpath.web.rendering import Pages
from goldenpath.web.routing import PortalRoute, Posted, SignedIn, one


def mount_link_pages(api: FastAPI, platform: Platform, people: SlackPeople) -> None:
    pages: Pages = api.state.portal_pages
    router = APIRouter(route_class=PortalRoute, include_in_schema=False)  # a page, not the API

    @router.get("/slack/link")
    def link_form(request: Request, actor: SignedIn) -> Response:
        return pages.render(request, "slack_link.html", {"user": actor.user})

    @router.post("/slack/link")
    def link(request: Request, actor: SignedIn, form: Posted) -> Response:
        try:
            slack_user = people.confirm_code(one(form, "code"), actor)
        except InvalidInput as error:
            context = {"user": actor.user, "error": f"The code {error.details['rule']}."}
            return pages.render(request, "slack_link.html", context, status=422)
        return pages.render(request, "slack_link.html", {"user": actor.user, "linked": slack_user})

    api.include_router(router)
