"""API bodies for users, teams, tokens and the audit log (request bodies strict, as in
`api.schemas`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from goldenpath.api.schemas import ONE_LINE
from goldenpath.identity.directory import TEAM_NAME, TOKEN_NAME, USER_NAME, IssuedToken
from goldenpath.store.identity import TeamRecord, TokenRecord, UserRecord


class Membership(BaseModel):
    team: str
    role: str


class MeView(BaseModel):
    """Who a credential belongs to."""

    user: str
    is_admin: bool
    teams: list[str]
    roles: list[str]
    memberships: list[Membership]
    scopes: list[str]


class UserView(BaseModel):
    name: str
    display_name: str | None
    is_admin: bool
    active: bool
    memberships: list[Membership]
    created_at: datetime

    @classmethod
    def of(cls, user: UserRecord) -> UserView:
        return cls(
            name=user.name,
            display_name=user.display_name,
            is_admin=user.is_admin,
            active=user.active,
            memberships=[Membership(team=t, role=r) for t, r in user.memberships],
            created_at=user.created_at,
        )


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(max_length=63, pattern=USER_NAME, examples=["alice"])
    display_name: str | None = Field(default=None, max_length=200, pattern=ONE_LINE)
    password: str | None = Field(default=None, min_length=12, max_length=200, repr=False)
    is_admin: bool = False


class SlackLink(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    slack_user_id: str = Field(
        pattern=r"^[UW][A-Z0-9]{2,30}$", description="The Slack member id, e.g. U024BE7LH."
    )


class SlackLinkCode(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    code: str = Field(
        pattern=r"^[A-Za-z0-9]{4}-?[A-Za-z0-9]{4}$",
        description="The one-time code `/golden link` showed in Slack, e.g. K7QM-2XWD.",
    )


class SlackLinked(BaseModel):
    slack_user_id: str = Field(description="The Slack member id now linked to you.")


class PasswordSet(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    password: str = Field(min_length=12, max_length=200, repr=False)


class Member(BaseModel):
    user: str
    role: str


class TeamView(BaseModel):
    name: str
    monthly_budget_usd: float | None
    members: list[Member]

    @classmethod
    def of(cls, team: TeamRecord) -> TeamView:
        return cls(
            name=team.name,
            monthly_budget_usd=team.monthly_budget_usd,
            members=[Member(user=u, role=r) for u, r in team.members],
        )


class TeamCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(max_length=63, pattern=TEAM_NAME, examples=["payments"])
    # The column is NUMERIC(12, 2): below ten billion, in cents.
    monthly_budget_usd: float | None = Field(default=None, ge=0, lt=10**10, allow_inf_nan=False)


class MemberAdd(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    user: str = Field(max_length=63, pattern=USER_NAME)
    role: Literal["developer", "approver"] = "developer"


class TokenView(BaseModel):
    id: str
    user: str
    name: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, token: TokenRecord) -> TokenView:
        return cls(
            id=token.id,
            user=token.user_name,
            name=token.name,
            scopes=list(token.scopes),
            created_at=token.created_at,
            expires_at=token.expires_at,
            revoked_at=token.revoked_at,
            last_used_at=token.last_used_at,
        )


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(max_length=100, pattern=TOKEN_NAME, examples=["ci"])
    user: str | None = Field(
        default=None, max_length=63, pattern=USER_NAME, description="Admins: for someone else."
    )
    scopes: list[Literal["read", "write", "admin", "*"]] = Field(default=["read", "write"])
    expires_in_days: int | None = Field(default=90, ge=1, le=3650)


class IssuedTokenView(BaseModel):
    id: str
    user: str
    name: str
    scopes: list[str]
    expires_at: datetime | None
    token: str = Field(description="Shown once: store it now.")

    @classmethod
    def of(cls, issued: IssuedToken) -> IssuedTokenView:
        return cls(
            id=issued.id,
            user=issued.user,
            name=issued.name,
            scopes=list(issued.scopes),
            expires_at=issued.expires_at,
            token=issued.token,
        )


class EventView(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    details: dict[str, Any]
    prev_hash: str | None
    hash: str | None


class AuditVerifyView(BaseModel):
    ok: bool
    events: int
    problem: str | None
    event_id: int | None
    anchors: int = Field(description="How many anchors outside the database the chain held to.")
    summary: str


class AuditAnchorView(BaseModel):
    """The chain's head, as appended to the anchor file; give it to an external witness."""

    count: int
    hash: str
    at: str
