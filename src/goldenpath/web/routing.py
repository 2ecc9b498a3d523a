"""What every portal route shares: the signed-in caller, CSRF-checked form posts, and errors
answered as pages (a redirect to sign in, or an error page with the API's status code)."""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import parse_qs, quote

from fastapi import Depends, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from goldenpath.api.errors import status_for
from goldenpath.errors import Conflict, GoldenPathError, InvalidInput, InvalidInputs
from goldenpath.identity.actor import Actor
from goldenpath.web.session import Session

if TYPE_CHECKING:
    from goldenpath.web.rendering import Pages

MAX_FORM_BYTES = 256 * 1024
FORM_TYPE = "application/x-www-form-urlencoded"

Form = dict[str, list[str]]


class LoginRequired(Exception):
    """The page needs a signed-in user."""


class StaleForm(GoldenPathError):
    """This form has expired or did not come from this site: go back, reload the page and send
    it again."""


class PageNotFound(GoldenPathError):
    """There is no page at this address: check the link, or start again from the catalog."""


class PortalRoute(APIRoute):
    """A route whose platform errors become pages instead of the API's JSON. A page that
    answers GET answers HEAD too (link checkers and monitors ask with HEAD)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        methods = kwargs.get("methods")
        if methods and "GET" in methods:
            kwargs["methods"] = {*methods, "HEAD"}
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handle(request)
            except LoginRequired:
                back = request.url.path if request.method == "GET" else "/"
                if request.method == "GET" and request.url.query:
                    back += "?" + request.url.query
                return RedirectResponse(f"/login?next={quote(back)}", status_code=303)
            except GoldenPathError as error:
                pages: Pages = request.app.state.portal_pages
                status = 403 if isinstance(error, StaleForm) else status_for(error)
                return pages.render(
                    request, "error.html", {"error": error, "status": status}, status=status
                )

        return route


def signed_in(request: Request) -> Actor:
    """The caller, looked up afresh on every page (a disabled user is signed out at once)."""
    user = getattr(request.state, "session_user", None)
    if not isinstance(user, str):
        raise LoginRequired()
    try:
        actor: Actor = request.app.state.platform.directory.actor_for(user)
    except GoldenPathError:
        raise LoginRequired() from None
    request.state.portal_actor = actor
    return actor


async def posted_form(request: Request) -> Form:
    """The posted fields, once the form's CSRF token matched the session's."""
    if request.headers.get("content-type", "").split(";")[0].strip() != FORM_TYPE:
        raise StaleForm()
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise InvalidInput(field="form", rule=f"must be at most {MAX_FORM_BYTES} bytes")
    form = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    session: Session | None = getattr(request.state, "session", None)
    token = form.get("_csrf", [None])[-1]
    if session is None or not session.csrf_matches(token):
        raise StaleForm()
    return form


SignedIn = Annotated[Actor, Depends(signed_in)]
Posted = Annotated[Form, Depends(posted_form)]


def one(form: Form, name: str, default: str = "") -> str:
    values = form.get(name)
    return values[-1] if values else default


def redirect(url: str) -> RedirectResponse:
    """After a POST, the browser GETs the result (so reloading does not send it twice)."""
    return RedirectResponse(url, status_code=303)


def field_errors(
    error: GoldenPathError, fields: set[str], aliases: dict[str, str] | None = None
) -> tuple[dict[str, list[str]], list[str]]:
    """An error's messages by form field, and those that belong to no field (shown on top)."""
    found: list[tuple[str, str]] = []
    if isinstance(error, InvalidInputs):
        found = [(e.field, str(e.details["rule"])) for e in error.errors]
    elif isinstance(error, InvalidInput):
        found = [(error.field, str(error.details["rule"]))]
    elif isinstance(error, Conflict) and error.details.get("fields"):
        found = [(str(f["field"]), str(f["rule"])) for f in error.details["fields"]]
    else:
        return {}, [error.message]
    by_field: dict[str, list[str]] = {}
    general: list[str] = []
    for name, rule in found:
        top = re.split(r"[.\[]", name, maxsplit=1)[0]
        top = (aliases or {}).get(top, top)
        if top in fields:
            inner = name[len(top) :].lstrip(".")
            by_field.setdefault(top, []).append(f"{inner} {rule}" if inner else rule)
        else:
            general.append(f"{name}: {rule}")
    return by_field, general
