"""Identity use cases: bootstrap, authentication, and the management of users, teams and tokens.

Every change is recorded in the audit log in the same transaction.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from goldenpath.errors import (
    AccessDenied,
    Conflict,
    InvalidInput,
    NotAuthenticated,
    TokenNotFound,
)
from goldenpath.identity import credentials
from goldenpath.identity.actor import ROLES, Actor
from goldenpath.identity.oidc import OidcVerifier
from goldenpath.identity.permissions import authorize
from goldenpath.identity.throttle import Throttle
from goldenpath.store import identity as store
from goldenpath.store import queries
from goldenpath.store.database import Database

USER_NAME = r"^[a-z][a-z0-9._-]{1,62}$"
TEAM_NAME = r"^[a-z][a-z0-9-]{1,62}$"
TOKEN_NAME = r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$"  # noqa: S105 - a pattern, not a secret
SCOPES = frozenset({"read", "write", "admin", "*"})
BOOTSTRAP_ADMIN = "admin"
# How long an API token's actor is served from memory. A revocation, a disabled user or a
# membership change made through another process (another API worker) takes effect within this
# delay; one made through this process takes effect at once. It spares a polling client three
# queries and a write per call.
TOKEN_CACHE_SECONDS = 1.0
TOKEN_CACHE_SIZE = 10_000
# ``last_used_at`` is a hint for people auditing tokens, not a log: written at most this often,
# so a busy token is not a row every request waits to update.
TOKEN_TOUCH_SECONDS = 60.0


@dataclass(frozen=True)
class IssuedToken:
    id: str
    user: str
    name: str
    scopes: tuple[str, ...]
    expires_at: datetime | None
    token: str  # shown once


@dataclass
class Directory:
    database: Database
    oidc: OidcVerifier | None = None
    throttle: Throttle | None = None
    # digest of the bearer -> (its actor, monotonic time after which it is read again)
    _recent: dict[str, tuple[Actor, float]] = field(default_factory=dict, repr=False)
    _recent_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # --- bootstrap and authentication ---------------------------------------------------------

    def bootstrap(self, token: str | None = None, team: str = "default") -> IssuedToken | None:
        """On an empty platform, create the first admin and its token (returned once).

        The admin is also a developer and approver of the default team, so the first person
        to start the platform can try a golden path at once.
        """
        with self.database.begin() as conn:
            # Two platforms starting at once must not both create the first admin.
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(74110003)"))
            if store.count_users(conn):
                return None
            store.create_user(conn, BOOTSTRAP_ADMIN, display_name="Platform admin", is_admin=True)
            store.ensure_team(conn, team)
            for role in ROLES:
                store.add_member(conn, BOOTSTRAP_ADMIN, team, role)
            if token:
                parts = credentials.parse_token(token)
                if parts is None:
                    raise InvalidInput(
                        field="GOLDENPATH_BOOTSTRAP_TOKEN",
                        rule="must look like gp_<12 lower-case letters or digits>_<43 characters>",
                    )
                made = credentials.token_from_parts(*parts)
            else:
                made = credentials.new_token()
            store.insert_token(
                conn,
                token_id=made.id,
                user=BOOTSTRAP_ADMIN,
                name="bootstrap",
                secret_hash=made.secret_hash,
                scopes=["*"],
                expires_at=None,
            )
            queries.record_event(conn, "system", "user.bootstrapped", BOOTSTRAP_ADMIN, {})
        return IssuedToken(made.id, BOOTSTRAP_ADMIN, "bootstrap", ("*",), None, made.token)

    def authenticate(self, bearer: str, address: str | None = None) -> Actor:
        """The actor behind a bearer credential: an API token, or an OIDC JWT when configured.
        Failures count against the token and the client ``address`` (`Throttle`)."""
        parts = credentials.parse_token(bearer)
        subject = f"token {parts[0]}" if parts is not None else "a bearer credential"
        if self.throttle is not None:
            self.throttle.check("token", subject, address)
        try:
            if parts is not None:
                return self._from_token_recently(bearer, *parts)
            if self.oidc is not None and bearer.count(".") == 2:
                return self._from_oidc(bearer)
            raise NotAuthenticated(problem="not a Golden Path token")
        except NotAuthenticated:
            if self.throttle is not None:
                self.throttle.failed("token", subject, address)
            raise

    def recently_authenticated(self, bearer: str, address: str | None) -> Actor | None:
        """`authenticate` for an API token that succeeded less than `TOKEN_CACHE_SECONDS`
        ago, when it needs no I/O (the throttle's counters in memory): the API asks on its
        event loop first, without a thread hop. None: ask `authenticate`."""
        cached = self._cached(bearer)
        if cached is None or (self.throttle is not None and not self.throttle.in_memory):
            return None
        parts = credentials.parse_token(bearer)
        if self.throttle is not None and parts is not None:
            self.throttle.check("token", f"token {parts[0]}", address)
        return cached

    def _cached(self, bearer: str) -> Actor | None:
        cached = self._recent.get(hashlib.sha256(bearer.encode()).hexdigest())
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        return None

    def _from_token_recently(self, bearer: str, token_id: str, secret: str) -> Actor:
        """`_from_token`, served from memory for `TOKEN_CACHE_SECONDS` after a success."""
        cached = self._cached(bearer)
        if cached is not None:
            return cached
        key = hashlib.sha256(bearer.encode()).hexdigest()
        now = time.monotonic()
        actor = self._from_token(token_id, secret)
        with self._recent_lock:
            if len(self._recent) >= TOKEN_CACHE_SIZE:
                self._recent.clear()
            self._recent[key] = (actor, now + TOKEN_CACHE_SECONDS)
        return actor

    def login(self, user: str, password: str, address: str | None = None) -> Actor:
        """A portal login with a local password; audited whether it succeeds or not. Each
        attempt counts against the user name and the client ``address`` before any hashing."""
        if self.throttle is not None:
            self.throttle.attempt("login", user.strip().lower()[:100], address)
        with self.database.begin() as conn:
            try:
                record = store.get_user(conn, user)
                password_hash = record.password_hash if record.active else None
            except Exception:
                record, password_hash = None, None
            ok = credentials.check_password(password_hash, password)
            # The name as typed, which may hold anything (a NUL, which PostgreSQL text refuses).
            shown = "".join(c if c.isprintable() else "\ufffd" for c in user[:100])
            action = "login" if ok else "login.failed"
            queries.record_event(conn, shown, action, shown, {"method": "password"})
        if not ok or record is None:
            raise NotAuthenticated(problem="wrong user name or password")
        return Actor(
            user=record.name, memberships=frozenset(record.memberships), is_admin=record.is_admin
        )

    def actor_for(self, user: str) -> Actor:
        with self.database.begin() as conn:
            record = store.get_user(conn, user)
        if not record.active:
            raise NotAuthenticated(problem=f"user '{user}' is disabled")
        return Actor(
            user=record.name, memberships=frozenset(record.memberships), is_admin=record.is_admin
        )

    def _from_token(self, token_id: str, secret: str) -> Actor:
        with self.database.begin() as conn:
            try:
                token = store.get_token(conn, token_id)
            except TokenNotFound:
                raise NotAuthenticated(problem="unknown token") from None
            if not credentials.secret_matches(secret, token.secret_hash):
                raise NotAuthenticated(problem="unknown token")
            if token.revoked_at is not None:
                raise NotAuthenticated(problem="this token was revoked")
            if token.expires_at is not None and token.expires_at <= datetime.now(UTC):
                raise NotAuthenticated(problem="this token has expired")
            record = store.get_user(conn, token.user_name)
            last_used = token.last_used_at
            if last_used is None or datetime.now(UTC) - last_used > timedelta(
                seconds=TOKEN_TOUCH_SECONDS
            ):
                store.touch_token(conn, token_id)
        if not record.active:
            raise NotAuthenticated(problem=f"user '{record.name}' is disabled")
        return Actor(
            user=record.name,
            memberships=frozenset(record.memberships),
            is_admin=record.is_admin,
            scopes=frozenset(token.scopes),
        )

    def _from_oidc(self, token: str) -> Actor:
        """An identity provider's user: bound by issuer and subject, created on first sign-in,
        with the provider's groups as their memberships (added and removed to match)."""
        assert self.oidc is not None
        identity = self.oidc.verify(token)
        subject = identity.claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise NotAuthenticated(problem="token has no 'sub' claim")
        external_id = f"{self.oidc.issuer}#{subject}"
        user = identity.user.lower()
        if not re.match(USER_NAME, user):
            raise NotAuthenticated(problem=f"user name '{identity.user}' is not usable here")
        with self.database.begin() as conn:
            record = store.user_by_external_id(conn, external_id)
            if record is None:
                try:
                    store.create_user(
                        conn,
                        user,
                        display_name=identity.claims.get("name"),
                        external_id=external_id,
                    )
                except Conflict:
                    # A local account (the bootstrap admin, say) or another subject has the
                    # name: the provider does not get to take it over.
                    raise NotAuthenticated(
                        problem=f"the user name '{user}' belongs to another account"
                    ) from None
                queries.record_event(conn, user, "user.created", user, {"via": "oidc"})
                record = store.get_user(conn, user)
            wanted = {
                (team, role)
                for team, role in identity.memberships
                if re.match(TEAM_NAME, team) and role in ROLES
            }
            for team, role in set(record.memberships) - wanted:
                store.remove_member(conn, record.name, team, role)
            for team, role in wanted - set(record.memberships):
                store.ensure_team(conn, team)
                store.add_member(conn, record.name, team, role)
            record = store.get_user(conn, record.name)
        if not record.active:
            raise NotAuthenticated(problem=f"user '{record.name}' is disabled")
        return Actor(
            user=record.name, memberships=frozenset(record.memberships), is_admin=record.is_admin
        )

    # --- management ---------------------------------------------------------------------------

    def users(self, actor: Actor) -> list[store.UserRecord]:
        authorize(actor, "identity.manage")
        with self.database.begin() as conn:
            return store.list_users(conn)

    def create_user(
        self,
        actor: Actor,
        name: str,
        *,
        display_name: str | None = None,
        password: str | None = None,
        is_admin: bool = False,
    ) -> store.UserRecord:
        authorize(actor, "identity.manage")
        _check(name, USER_NAME, "name")
        if password is not None:
            _check_password(password)
        with self.database.begin() as conn:
            store.create_user(
                conn,
                name,
                display_name=display_name,
                password_hash=credentials.hash_password(password) if password else None,
                is_admin=is_admin,
            )
            queries.record_event(conn, actor.user, "user.created", name, {"admin": is_admin})
            return store.get_user(conn, name)

    def set_password(self, actor: Actor, name: str, password: str) -> None:
        if actor.user != name:
            authorize(actor, "identity.manage")
        _check_password(password)
        with self.database.begin() as conn:
            store.update_user(conn, name, password_hash=credentials.hash_password(password))
            queries.record_event(conn, actor.user, "user.password_set", name, {})

    def disable_user(self, actor: Actor, name: str) -> None:
        authorize(actor, "identity.manage")
        if name == actor.user:
            raise AccessDenied(problem="you cannot disable yourself")
        with self.database.begin() as conn:
            store.update_user(conn, name, disabled_at=datetime.now(UTC))
            queries.record_event(conn, actor.user, "user.disabled", name, {})
        self.forget_recent()

    def teams(self, actor: Actor) -> list[store.TeamRecord]:
        with self.database.begin() as conn:
            teams = store.list_teams(conn)
        return teams if actor.is_admin else [t for t in teams if actor.member_of(t.name)]

    def create_team(
        self, actor: Actor, name: str, monthly_budget_usd: float | None = None
    ) -> store.TeamRecord:
        authorize(actor, "identity.manage")
        _check(name, TEAM_NAME, "name")
        if monthly_budget_usd is not None and monthly_budget_usd < 0:
            raise InvalidInput(field="monthly_budget_usd", rule="must be 0 or more")
        with self.database.begin() as conn:
            store.ensure_team(conn, name, monthly_budget_usd)
            if monthly_budget_usd is not None:
                store.update_team(conn, name, monthly_budget_usd=monthly_budget_usd)
            queries.record_event(
                conn, actor.user, "team.saved", name, {"monthly_budget_usd": monthly_budget_usd}
            )
            return store.get_team(conn, name)

    def add_member(self, actor: Actor, team: str, user: str, role: str) -> store.TeamRecord:
        authorize(actor, "identity.manage")
        if role not in ROLES:
            raise InvalidInput(field="role", rule=f"must be one of: {', '.join(ROLES)}")
        with self.database.begin() as conn:
            store.add_member(conn, user, team, role)
            queries.record_event(
                conn, actor.user, "team.member_added", team, {"user": user, "role": role}
            )
            saved = store.get_team(conn, team)
        self.forget_recent()
        return saved

    def remove_member(
        self, actor: Actor, team: str, user: str, role: str | None
    ) -> store.TeamRecord:
        authorize(actor, "identity.manage")
        with self.database.begin() as conn:
            store.remove_member(conn, user, team, role)
            queries.record_event(
                conn, actor.user, "team.member_removed", team, {"user": user, "role": role}
            )
            saved = store.get_team(conn, team)
        self.forget_recent()
        return saved

    def create_token(
        self,
        actor: Actor,
        *,
        name: str,
        user: str | None = None,
        scopes: tuple[str, ...] = ("read", "write"),
        expires_in_days: int | None = 90,
    ) -> IssuedToken:
        owner = user or actor.user
        authorize(actor, "token.manage")
        if owner != actor.user:
            authorize(actor, "identity.manage")
        _check(name, TOKEN_NAME, "name")
        unknown = set(scopes) - SCOPES
        if unknown or not scopes:
            raise InvalidInput(field="scopes", rule=f"must be some of: {', '.join(sorted(SCOPES))}")
        if ("admin" in scopes or "*" in scopes) and not actor.is_admin:
            raise AccessDenied(problem="only a platform-admin may issue admin tokens")
        if not set(scopes) <= actor.scopes and "*" not in actor.scopes:
            raise AccessDenied(problem="a token cannot grant more than the token that makes it")
        if expires_in_days is not None and not 1 <= expires_in_days <= 3650:
            raise InvalidInput(field="expires_in_days", rule="must be 1 to 3650")
        expires = datetime.now(UTC) + timedelta(days=expires_in_days) if expires_in_days else None
        made = credentials.new_token()
        with self.database.begin() as conn:
            store.get_user(conn, owner)
            store.insert_token(
                conn,
                token_id=made.id,
                user=owner,
                name=name,
                secret_hash=made.secret_hash,
                scopes=scopes,
                expires_at=expires,
            )
            queries.record_event(
                conn, actor.user, "token.created", f"{owner}/{made.id}", {"scopes": sorted(scopes)}
            )
        return IssuedToken(made.id, owner, name, tuple(sorted(scopes)), expires, made.token)

    def tokens(self, actor: Actor, user: str | None = None) -> list[store.TokenRecord]:
        owner = user or actor.user
        if owner != actor.user:
            authorize(actor, "identity.manage")
        with self.database.begin() as conn:
            return store.list_tokens(conn, owner)

    def revoke_token(self, actor: Actor, token_id: str) -> None:
        with self.database.begin() as conn:
            token = store.get_token(conn, token_id)
            authorize(actor, "token.manage")
            if token.user_name != actor.user:
                authorize(actor, "identity.manage")
            store.revoke_token(conn, token_id)
            queries.record_event(
                conn, actor.user, "token.revoked", f"{token.user_name}/{token_id}", {}
            )
        self.forget_recent()

    def forget_recent(self) -> None:
        """Authenticate every token against the database again (after a change to who may
        do what: a revocation, a disabled user, a membership)."""
        with self._recent_lock:
            self._recent.clear()


def _check(value: str, pattern: str, field: str) -> None:
    if not re.match(pattern, value):
        raise InvalidInput(field=field, rule=f"must match the pattern {pattern}")


def _check_password(password: str) -> None:
    if not 12 <= len(password) <= 200:
        raise InvalidInput(field="password", rule="must be 12 to 200 characters")
