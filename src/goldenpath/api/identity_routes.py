"""Users, teams and tokens; the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response

from goldenpath.api.auth import CurrentActor
from goldenpath.api.identity_schemas import (
    AuditAnchorView,
    AuditVerifyView,
    EventView,
    IssuedTokenView,
    MemberAdd,
    Membership,
    MeView,
    PasswordSet,
    SlackLink,
    SlackLinkCode,
    SlackLinked,
    TeamCreate,
    TeamView,
    TokenCreate,
    TokenView,
    UserCreate,
    UserView,
)
from goldenpath.api.pages import DEFAULT, Cursor, Limit, PageView, view
from goldenpath.api.schemas import BIGINT_MAX, ONE_LINE, Problem
from goldenpath.app import Platform
from goldenpath.identity.directory import TEAM_NAME, USER_NAME
from goldenpath.paging import decode_cursor, encode_cursor, page_after, page_of
from goldenpath.store.identity import TokenRecord

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem} for status in (401, 403, 404, 409, 413, 422, 429, 503)
}
UserName = Annotated[str, Path(max_length=63, pattern=USER_NAME)]
TeamName = Annotated[str, Path(max_length=63, pattern=TEAM_NAME)]
TokenId = Annotated[str, Path(pattern=r"^[a-z0-9]{12}$", description="The id `tokens list` shows.")]


def identity_router(platform: Platform) -> APIRouter:
    directory = platform.directory
    router = APIRouter(prefix="/api/v1", responses=ERRORS, tags=["identity"])

    @router.get("/me", operation_id="getMe")
    def me(actor: CurrentActor) -> MeView:
        """Who the credential belongs to, with teams, roles and scopes."""
        return MeView(
            user=actor.user,
            is_admin=actor.is_admin,
            teams=list(actor.teams),
            roles=list(actor.roles),
            memberships=[Membership(team=t, role=r) for t, r in sorted(actor.memberships)],
            scopes=sorted(actor.scopes),
        )

    @router.post("/me/slack", operation_id="confirmSlackLink")
    def confirm_slack_link(body: SlackLinkCode, actor: CurrentActor) -> SlackLinked:
        """Link the Slack user who ran `/golden link` and got this one-time code to you."""
        from goldenpath.slack.people import SlackPeople

        people = SlackPeople(platform.database, directory)
        return SlackLinked(slack_user_id=people.confirm_code(body.code, actor))

    @router.get("/users", operation_id="listUsers")
    def list_users(
        actor: CurrentActor, cursor: Cursor = None, limit: Limit = DEFAULT
    ) -> PageView[UserView]:
        return view(page_of(directory.users(actor), lambda u: u.name, cursor, limit), UserView.of)

    @router.post("/users", operation_id="createUser", status_code=201)
    def create_user(body: UserCreate, actor: CurrentActor) -> UserView:
        return UserView.of(
            directory.create_user(
                actor,
                body.name,
                display_name=body.display_name,
                password=body.password,
                is_admin=body.is_admin,
            )
        )

    @router.put("/users/{name}/password", operation_id="setUserPassword", status_code=204)
    def set_password(name: UserName, body: PasswordSet, actor: CurrentActor) -> None:
        directory.set_password(actor, name, body.password)

    @router.put("/users/{name}/slack", operation_id="linkSlackUser", status_code=204)
    def link_slack(name: UserName, body: SlackLink, actor: CurrentActor) -> None:
        """Link a Slack user to this user (admins); `/golden` in Slack then acts as them."""
        from goldenpath.slack.people import SlackPeople

        SlackPeople(platform.database, directory).link(actor, name, body.slack_user_id)

    @router.post("/users/{name}/disable", operation_id="disableUser", status_code=204)
    def disable_user(name: UserName, actor: CurrentActor) -> None:
        directory.disable_user(actor, name)

    @router.get("/teams", operation_id="listTeams")
    def list_teams(
        actor: CurrentActor, cursor: Cursor = None, limit: Limit = DEFAULT
    ) -> PageView[TeamView]:
        return view(page_of(directory.teams(actor), lambda t: t.name, cursor, limit), TeamView.of)

    @router.post("/teams", operation_id="createTeam", status_code=201)
    def create_team(body: TeamCreate, actor: CurrentActor) -> TeamView:
        return TeamView.of(directory.create_team(actor, body.name, body.monthly_budget_usd))

    @router.post("/teams/{team}/members", operation_id="addTeamMember", status_code=201)
    def add_member(team: TeamName, body: MemberAdd, actor: CurrentActor) -> TeamView:
        return TeamView.of(directory.add_member(actor, team, body.user, body.role))

    @router.delete("/teams/{team}/members/{user}", operation_id="removeTeamMember")
    def remove_member(
        team: TeamName,
        user: UserName,
        actor: CurrentActor,
        role: Annotated[Literal["developer", "approver"] | None, Query()] = None,
    ) -> TeamView:
        return TeamView.of(directory.remove_member(actor, team, user, role))

    @router.get("/tokens", operation_id="listTokens")
    def list_tokens(
        actor: CurrentActor,
        user: Annotated[str | None, Query(max_length=63, pattern=USER_NAME)] = None,
        cursor: Cursor = None,
        limit: Limit = DEFAULT,
    ) -> PageView[TokenView]:
        """Your tokens (admins: anyone's). Never the token itself: only its id and facts."""
        found = page_of(directory.tokens(actor, user), _token_order, cursor, limit)
        return view(found, TokenView.of)

    @router.post("/tokens", operation_id="createToken", status_code=201)
    def create_token(body: TokenCreate, actor: CurrentActor) -> IssuedTokenView:
        """A new API token, shown once in the response."""
        return IssuedTokenView.of(
            directory.create_token(
                actor,
                name=body.name,
                user=body.user,
                scopes=tuple(body.scopes),
                expires_in_days=body.expires_in_days,
            )
        )

    @router.delete("/tokens/{token_id}", operation_id="revokeToken", status_code=204)
    def revoke_token(token_id: TokenId, actor: CurrentActor) -> None:
        directory.revoke_token(actor, token_id)

    return router


def audit_router(platform: Platform) -> APIRouter:
    log = platform.audit
    router = APIRouter(prefix="/api/v1/audit", responses=ERRORS, tags=["audit"])

    @router.get("/events", operation_id="listAuditEvents")
    def list_events(
        actor: CurrentActor,
        who: Annotated[
            str | None, Query(max_length=100, pattern=ONE_LINE, description="The acting user.")
        ] = None,
        action: Annotated[
            str | None, Query(max_length=64, pattern=ONE_LINE, description="Prefix: 'request.'")
        ] = None,
        target: Annotated[str | None, Query(max_length=200, pattern=ONE_LINE)] = None,
        since: datetime | None = None,
        after_id: Annotated[
            int, Query(ge=0, le=BIGINT_MAX, description="Only events after this id.")
        ] = 0,
        cursor: Cursor = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> PageView[EventView]:
        """The audit log, oldest first."""
        if cursor is not None:
            [after_id] = decode_cursor(cursor, int)
        filters: dict[str, Any] = {"who": who, "action": action, "target": target, "since": since}
        events = log.events(actor, **filters, after_id=after_id, limit=limit + 1)
        found = page_after(
            events, limit, log.count_events(actor, **filters), lambda e: encode_cursor(e["id"])
        )
        return view(found, EventView.model_validate)

    @router.get("/verify", operation_id="verifyAudit")
    def verify(actor: CurrentActor) -> AuditVerifyView:
        """Recompute the hash chain; names the first event that was edited, removed or moved."""
        report = log.verify(actor)
        return AuditVerifyView(
            ok=report.ok,
            events=report.events,
            problem=report.problem,
            event_id=report.event_id,
            anchors=report.anchors,
            summary=report.summary,
        )

    @router.post("/checkpoint", operation_id="checkpointAudit")
    def checkpoint(actor: CurrentActor) -> AuditAnchorView:
        """Anchor the chain's head outside the database (the data dir's anchor file)."""
        anchor = log.checkpoint(actor)
        return AuditAnchorView(count=anchor.count, hash=anchor.hash, at=anchor.at)

    # `Response` has no media type of its own, so the errors stay documented as JSON.
    @router.get(
        "/export",
        operation_id="exportAudit",
        response_class=Response,
        responses={
            200: {
                "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
                "description": "One event per line, as JSON, with its hash and the previous one.",
            }
        },
    )
    def export(actor: CurrentActor) -> Response:
        """Every event as JSON lines, with their hashes."""
        lines = log.export(actor)
        return Response(
            "\n".join(lines) + ("\n" if lines else ""), media_type="application/x-ndjson"
        )

    return router


def _token_order(token: TokenRecord) -> str:
    return f"{token.created_at.isoformat()} {token.id}"
