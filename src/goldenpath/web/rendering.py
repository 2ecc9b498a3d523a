"""The portal's Jinja2 environment (``web/pages``) and the filters its pages use."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from goldenpath import __version__
from goldenpath.web.forms import Field, as_text
from goldenpath.web.session import Session

PAGES = Path(__file__).parent / "pages"
STATIC = Path(__file__).parent / "static"
# Pages load only this site's own files, cannot be framed, and post only to this site.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'; object-src 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
FINISHED = frozenset({"succeeded", "failed", "cancelled", "rejected"})


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(PAGES),
        autoescape=select_autoescape(("html",)),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        when=when,
        age=age,
        ago=ago,
        usd=usd,
        pretty=pretty,
        safe_url=safe_url,
        web_url=web_url,
        audit_link=audit_link,
        field_text=field_text,
    )
    env.globals.update(version=__version__, FINISHED=FINISHED)
    return env


class Pages:
    """Renders a page with what every page needs: the user, the CSRF token, the nav."""

    def __init__(self, *, sandbox: bool = False) -> None:
        self.env = environment()
        # Every page says so, signed in or not: nobody should mistake it for production.
        self.env.globals["sandbox"] = sandbox

    def render(
        self,
        request: Request,
        name: str,
        context: dict[str, Any] | None = None,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> HTMLResponse:
        session: Session | None = getattr(request.state, "session", None)
        values = {
            "request": request,
            "actor": getattr(request.state, "portal_actor", None),
            "csrf": session.csrf if session else "",
            "path": request.url.path,
            **(context or {}),
        }
        html = self.env.get_template(name).render(values)
        sent = {**SECURITY_HEADERS, "Cache-Control": "private, no-cache", **(headers or {})}
        return HTMLResponse(html, status_code=status, headers=sent)


def field_text(value: Any, item: Field) -> str:
    return as_text(item, value)


def when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def age(value: datetime | None, now: datetime | None = None) -> str:
    """How long ago, in the largest unit that fits: ``5 min``, ``3 h``, ``12 d``."""
    if value is None:
        return "—"
    seconds = int(((now or datetime.now(UTC)) - value).total_seconds())
    if seconds < 60:
        return "just now" if seconds < 5 else f"{seconds} s"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def ago(value: datetime | None) -> str:
    text = age(value)
    return text if text in ("—", "just now") else f"{text} ago"


def usd(value: float | None) -> str:
    """Always to the cent, like the CLI and Slack: $8.00 and $7.59, never $8 beside $7.59."""
    if value is None:
        return "—"
    return f"${value:,.2f}"


def pretty(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, sort_keys=True, default=str)


def safe_url(value: Any) -> str | None:
    """A link target only if it is http(s) or on this site: never ``javascript:``."""
    text = str(value or "")
    scheme = urlsplit(text).scheme.lower()
    if scheme in ("http", "https") or (text.startswith("/") and not text.startswith("//")):
        return text
    return None


def web_url(value: Any) -> str | None:
    """``value`` if it is an http(s) address with a host (an output's clone or web URL)."""
    if not isinstance(value, str):
        return None
    parts = urlsplit(value)
    return value if parts.scheme.lower() in ("http", "https") and parts.netloc else None


# What an audit event's target names, by the start of its action.
AUDIT_TARGETS = {"request.": "/requests/", "resource.": "/resources/"}


def audit_link(event: Mapping[str, Any]) -> str | None:
    """The page of the request or resource an audit event is about, if it names one."""
    for prefix, page in AUDIT_TARGETS.items():
        if str(event.get("action", "")).startswith(prefix) and event.get("target"):
            return page + quote(str(event["target"]), safe="")
    request_id = (event.get("details") or {}).get("request")
    return f"/requests/{quote(str(request_id), safe='')}" if request_id else None
