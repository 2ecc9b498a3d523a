"""`permissions.authorize` as a table: (action, actor, target) → allowed, AccessDenied or Hidden."""

from __future__ import annotations

import pytest

from goldenpath.errors import AccessDenied, Hidden
from goldenpath.identity.actor import Actor
from goldenpath.identity.permissions import SCOPE_OF, Target, authorize, visible_teams

ALLOWED = None


def member(user: str, *memberships: tuple[str, str], scopes: set[str] | None = None) -> Actor:
    return Actor(
        user=user,
        memberships=frozenset(memberships),
        scopes=frozenset(scopes) if scopes is not None else frozenset({"*"}),
    )


def admin(
    user: str = "root", *memberships: tuple[str, str], scopes: set[str] | None = None
) -> Actor:
    return Actor(
        user=user,
        memberships=frozenset(memberships),
        is_admin=True,
        scopes=frozenset(scopes) if scopes is not None else frozenset({"*"}),
    )


DEV = member("dana", ("payments", "developer"))
APPROVER = member("alex", ("payments", "approver"))
BOTH = member("bo", ("payments", "developer"), ("payments", "approver"))
OUTSIDER = member("olga", ("search", "developer"))
READ_ONLY = member("dana", ("payments", "developer"), scopes={"read"})
WRITE_ONLY = member("dana", ("payments", "developer"), scopes={"write"})
ADMIN_SCOPE_ONLY = member("dana", ("payments", "developer"), scopes={"admin"})
ADMIN = admin()
ADMIN_MEMBER = admin("ada", ("payments", "developer"))
ADMIN_READ_WRITE = admin(scopes={"read", "write"})
ADMIN_BY_ADMIN_SCOPE = admin(scopes={"admin"})

DANAS_REQUEST = Target(team="payments", requested_by="dana")
ALEXS_REQUEST = Target(team="payments", requested_by="alex")
BOS_REQUEST = Target(team="payments", requested_by="bo")
ROOTS_REQUEST = Target(team="payments", requested_by="root")
OPEN_PATH = Target(team="payments", access_teams=("*",))
SEARCH_ONLY_PATH = Target(team="payments", access_teams=("search",))
APPROVERS_PATH = Target(team="payments", access_teams=("payments",), access_roles=("approver",))
NO_TEAM = Target(team=None, access_teams=("*",))

CASES: list[tuple[str, str, Actor, Target | None, type[Exception] | None, str]] = [
    # (id, action, actor, target, expected error or ALLOWED, message the error must carry)
    # the catalog
    ("read catalog", "template.read", DEV, None, ALLOWED, ""),
    ("read catalog, read token", "template.read", READ_ONLY, None, ALLOWED, ""),
    (
        "read catalog, admin-scope token",
        "template.read",
        ADMIN_SCOPE_ONLY,
        None,
        AccessDenied,
        "scopes",
    ),
    # running a golden path
    ("run open path", "template.run", DEV, OPEN_PATH, ALLOWED, ""),
    ("run, write token", "template.run", WRITE_ONLY, OPEN_PATH, ALLOWED, ""),
    ("run, read token", "template.run", READ_ONLY, OPEN_PATH, AccessDenied, "scopes do not allow"),
    ("run for another team", "template.run", OUTSIDER, OPEN_PATH, AccessDenied, "not a member"),
    ("run without a team", "template.run", DEV, NO_TEAM, AccessDenied, "needs an owner team"),
    (
        "run a path closed to the team",
        "template.run",
        DEV,
        SEARCH_ONLY_PATH,
        AccessDenied,
        "may not run",
    ),
    (
        "run an approvers' path",
        "template.run",
        DEV,
        APPROVERS_PATH,
        AccessDenied,
        "needs one of the roles",
    ),
    ("approver runs approvers' path", "template.run", APPROVER, APPROVERS_PATH, ALLOWED, ""),
    ("admin runs for any team", "template.run", ADMIN, OPEN_PATH, ALLOWED, ""),
    (
        "admin, path closed to team",
        "template.run",
        ADMIN,
        SEARCH_ONLY_PATH,
        AccessDenied,
        "may not run",
    ),
    # reading and changing requests and resources
    ("read own team's request", "request.read", DEV, DANAS_REQUEST, ALLOWED, ""),
    ("read, read token", "request.read", READ_ONLY, DANAS_REQUEST, ALLOWED, ""),
    ("read, write token", "request.read", WRITE_ONLY, DANAS_REQUEST, ALLOWED, ""),
    ("read other team's request", "request.read", OUTSIDER, DANAS_REQUEST, Hidden, "Not found"),
    ("read a request of no team", "request.read", DEV, NO_TEAM, Hidden, "Not found"),
    ("admin reads any request", "request.read", ADMIN, DANAS_REQUEST, ALLOWED, ""),
    ("cancel own team's", "request.cancel", DEV, DANAS_REQUEST, ALLOWED, ""),
    ("cancel, read token", "request.cancel", READ_ONLY, DANAS_REQUEST, AccessDenied, "scopes"),
    ("cancel other team's", "request.cancel", OUTSIDER, DANAS_REQUEST, Hidden, "Not found"),
    ("retry, read token", "request.retry", READ_ONLY, DANAS_REQUEST, AccessDenied, "scopes"),
    ("read a resource", "resource.read", DEV, DANAS_REQUEST, ALLOWED, ""),
    ("read other team's resource", "resource.read", OUTSIDER, DANAS_REQUEST, Hidden, "Not found"),
    # the platform's git server: the owning team clones with any token, pushes with a write one
    ("clone a repository", "repository.read", READ_ONLY, DANAS_REQUEST, ALLOWED, ""),
    ("push, write token", "repository.push", WRITE_ONLY, DANAS_REQUEST, ALLOWED, ""),
    ("push, read token", "repository.push", READ_ONLY, DANAS_REQUEST, AccessDenied, "scopes"),
    ("push to another team's", "repository.push", OUTSIDER, DANAS_REQUEST, Hidden, "Not found"),
    ("clone another team's", "repository.read", OUTSIDER, DANAS_REQUEST, Hidden, "Not found"),
    ("admin pushes anywhere", "repository.push", ADMIN, DANAS_REQUEST, ALLOWED, ""),
    # one's own tokens: made and revoked with a write token, never with a read one
    ("manage own tokens", "token.manage", WRITE_ONLY, None, ALLOWED, ""),
    ("manage tokens, read token", "token.manage", READ_ONLY, None, AccessDenied, "scopes"),
    ("destroy own team's", "resource.destroy", DEV, DANAS_REQUEST, ALLOWED, ""),
    ("destroy, read token", "resource.destroy", READ_ONLY, DANAS_REQUEST, AccessDenied, "scopes"),
    ("destroy other team's", "resource.destroy", OUTSIDER, DANAS_REQUEST, Hidden, "Not found"),
    ("admin destroys any", "resource.destroy", ADMIN, DANAS_REQUEST, ALLOWED, ""),
    ("day-2 on own team's", "resource.operate", DEV, DANAS_REQUEST, ALLOWED, ""),
    ("day-2, read token", "resource.operate", READ_ONLY, DANAS_REQUEST, AccessDenied, "scopes"),
    ("day-2 other team's", "resource.operate", OUTSIDER, DANAS_REQUEST, Hidden, "Not found"),
    ("admin day-2 on any", "resource.operate", ADMIN, DANAS_REQUEST, ALLOWED, ""),
    (
        "admin destroys, read token",
        "resource.destroy",
        admin(scopes={"read"}),
        DANAS_REQUEST,
        AccessDenied,
        "scopes",
    ),
    # decisions
    ("approver decides", "request.decide", APPROVER, DANAS_REQUEST, ALLOWED, ""),
    (
        "approver, own request",
        "request.decide",
        APPROVER,
        ALEXS_REQUEST,
        AccessDenied,
        "their own request",
    ),
    (
        "dev and approver, own request",
        "request.decide",
        BOTH,
        BOS_REQUEST,
        AccessDenied,
        "their own request",
    ),
    ("dev and approver, another's", "request.decide", BOTH, DANAS_REQUEST, ALLOWED, ""),
    (
        "admin, own request",
        "request.decide",
        ADMIN,
        ROOTS_REQUEST,
        AccessDenied,
        "their own request",
    ),
    ("admin decides another's", "request.decide", ADMIN, DANAS_REQUEST, ALLOWED, ""),
    (
        "developer decides",
        "request.decide",
        member("dave", ("payments", "developer")),
        DANAS_REQUEST,
        AccessDenied,
        "only approvers",
    ),
    (
        "other team's approver",
        "request.decide",
        member("sam", ("search", "approver")),
        DANAS_REQUEST,
        Hidden,
        "Not found",
    ),
    (
        "approver, read token",
        "request.decide",
        member("alex", ("payments", "approver"), scopes={"read"}),
        DANAS_REQUEST,
        AccessDenied,
        "scopes",
    ),
    # secrets: members only, admins included only as members
    ("member reveals", "secret.reveal", DEV, DANAS_REQUEST, ALLOWED, ""),
    ("approver member reveals", "secret.reveal", APPROVER, DANAS_REQUEST, ALLOWED, ""),
    ("outsider reveals", "secret.reveal", OUTSIDER, DANAS_REQUEST, Hidden, "Not found"),
    (
        "admin not in team reveals",
        "secret.reveal",
        ADMIN,
        DANAS_REQUEST,
        AccessDenied,
        "only to members of the owning team",
    ),
    ("admin in team reveals", "secret.reveal", ADMIN_MEMBER, DANAS_REQUEST, ALLOWED, ""),
    ("reveal, read token", "secret.reveal", READ_ONLY, DANAS_REQUEST, AccessDenied, "scopes"),
    ("reveal without a team", "secret.reveal", ADMIN_MEMBER, NO_TEAM, Hidden, "Not found"),
    # identity and audit: admins, with a token that has the admin scope
    ("admin manages identity", "identity.manage", ADMIN, None, ALLOWED, ""),
    ("admin, admin-scope token", "identity.manage", ADMIN_BY_ADMIN_SCOPE, None, ALLOWED, ""),
    ("admin, read+write token", "identity.manage", ADMIN_READ_WRITE, None, AccessDenied, "scopes"),
    (
        "developer manages identity",
        "identity.manage",
        DEV,
        None,
        AccessDenied,
        "only a platform-admin",
    ),
    (
        "developer with admin scope",
        "identity.manage",
        ADMIN_SCOPE_ONLY,
        None,
        AccessDenied,
        "only a platform-admin",
    ),
    ("admin reads audit", "audit.read", ADMIN, None, ALLOWED, ""),
    (
        "admin reads audit, read token",
        "audit.read",
        admin(scopes={"read"}),
        None,
        AccessDenied,
        "scopes",
    ),
    ("developer reads audit", "audit.read", DEV, None, AccessDenied, "only a platform-admin"),
    # the rest
    ("metrics, read token", "metrics.read", READ_ONLY, None, ALLOWED, ""),
    ("unknown action", "template.delete", ADMIN, None, AccessDenied, "unknown action"),
]


@pytest.mark.parametrize(
    ("action", "actor", "target", "expected", "message"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_authorize(
    action: str,
    actor: Actor,
    target: Target | None,
    expected: type[Exception] | None,
    message: str,
) -> None:
    if expected is None:
        authorize(actor, action, target)
    else:
        with pytest.raises(expected, match=message):
            authorize(actor, action, target)


def test_the_table_covers_every_action() -> None:
    assert {case[1] for case in CASES} >= set(SCOPE_OF)


@pytest.mark.parametrize(
    ("actor", "teams"),
    [
        (DEV, ("payments",)),
        (member("multi", ("b", "developer"), ("a", "approver"), ("b", "approver")), ("a", "b")),
        (member("nobody"), ()),
        (ADMIN, None),
        (ADMIN_MEMBER, None),
    ],
    ids=["one team", "several teams", "no team", "admin", "admin member"],
)
def test_visible_teams(actor: Actor, teams: tuple[str, ...] | None) -> None:
    assert visible_teams(actor) == teams
