"""The one place that decides who may do what.

Every use case in `service` calls `authorize` before it acts. The rules, in short:
- platform admins manage templates, policies, backends, users, teams and tokens, and read the
  audit log; they see every team's requests and resources;
- developers run a template when its ``spec.access`` lets their team (and role) in, and see and
  manage only their teams' requests and resources;
- approvers approve or reject requests of the teams they approve for — never their own;
- secrets are revealed to members of the owning team only, admins included only if members.
Reading something of another team is answered as "not found", so existence does not leak.
"""

from __future__ import annotations

from dataclasses import dataclass

from goldenpath.errors import AccessDenied, Hidden
from goldenpath.identity.actor import ADMIN_ROLE, Actor

# What a token scope covers: reads need `read`, changes `write`, administration `admin`.
SCOPE_OF = {
    "template.read": "read",
    "template.run": "write",
    "request.read": "read",
    "request.cancel": "write",
    "request.retry": "write",
    "request.decide": "write",
    "resource.read": "read",
    "resource.destroy": "write",
    "resource.operate": "write",
    "secret.reveal": "write",
    "repository.read": "read",
    "repository.push": "write",
    "token.manage": "write",
    "identity.manage": "admin",
    "audit.read": "admin",
    "metrics.read": "read",
}


@dataclass(frozen=True)
class Target:
    """What is acted on: its owner team, who made it, and who may run it (templates)."""

    team: str | None = None
    requested_by: str | None = None
    access_teams: tuple[str, ...] = ()
    access_roles: tuple[str, ...] = ()


def authorize(actor: Actor, action: str, target: Target | None = None) -> None:
    """Return if ``actor`` may do ``action`` on ``target``; raise AccessDenied or Hidden if not."""
    scope = SCOPE_OF.get(action)
    if scope is None:
        raise AccessDenied(problem=f"unknown action '{action}'")
    if action in ("identity.manage", "audit.read") and not actor.is_admin:
        raise AccessDenied(problem=f"only a {ADMIN_ROLE} may do {action}")
    if not (actor.allows(scope) or (scope == "read" and actor.allows("write"))):
        raise AccessDenied(problem=f"this token's scopes do not allow {action}")
    target = target or Target()
    if action == "template.read":
        return
    if action == "template.run":
        _may_run(actor, target)
        return
    if action in ("identity.manage", "audit.read"):
        if not actor.is_admin:
            raise AccessDenied(problem=f"only a {ADMIN_ROLE} may do {action}")
        return
    if action in ("metrics.read", "token.manage"):
        # token.manage is one's own tokens; someone else's also need identity.manage.
        return
    if action == "secret.reveal":
        if target.team is not None and actor.member_of(target.team):
            return
        if actor.is_admin and target.team is not None:
            # An admin sees the request (request.read), so "not found" would be a lie.
            raise AccessDenied(
                problem=f"secrets are revealed only to members of the owning team "
                f"'{target.team}'; a {ADMIN_ROLE} sees the request, not its secrets"
            )
        raise Hidden()
    if action == "request.decide":
        _may_decide(actor, target)
        return
    # request.read / cancel / retry, resource.read / destroy / operate, repository.read / push:
    # the owning team, or an admin.
    if actor.is_admin or (target.team is not None and actor.member_of(target.team)):
        return
    raise Hidden()


def visible_teams(actor: Actor) -> tuple[str, ...] | None:
    """The teams whose requests and resources ``actor`` may list; None means all of them."""
    return None if actor.is_admin else actor.teams


def _may_run(actor: Actor, target: Target) -> None:
    team = target.team
    if team is None:
        raise AccessDenied(problem="a request needs an owner team")
    if not actor.member_of(team) and not actor.is_admin:
        raise AccessDenied(problem=f"'{actor.user}' is not a member of team '{team}'")
    teams, roles = target.access_teams, target.access_roles
    if "*" not in teams and team not in teams:
        raise AccessDenied(problem=f"team '{team}' may not run this golden path")
    if roles and not set(roles) & set(actor.roles):
        raise AccessDenied(problem=f"this golden path needs one of the roles {', '.join(roles)}")


def _may_decide(actor: Actor, target: Target) -> None:
    if target.requested_by == actor.user:
        raise AccessDenied(problem="nobody may approve or reject their own request")
    if actor.is_admin:
        return
    if target.team is not None and actor.has_role(target.team, "approver"):
        return
    if target.team is not None and actor.member_of(target.team):
        raise AccessDenied(problem=f"only approvers of team '{target.team}' may decide")
    raise Hidden()
