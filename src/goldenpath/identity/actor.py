"""The authenticated caller of a use case."""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES = ("developer", "approver")
ADMIN_ROLE = "platform-admin"


@dataclass(frozen=True)
class Actor:
    """A user with their team memberships (team, role) and whether they administer the platform.

    ``scopes`` narrow what a token may do (``read``, ``write``, ``admin``; ``*`` is all of them);
    a token never grants more than its user has.
    """

    user: str
    memberships: frozenset[tuple[str, str]] = frozenset()
    is_admin: bool = False
    scopes: frozenset[str] = field(default_factory=lambda: frozenset({"*"}))

    @property
    def teams(self) -> tuple[str, ...]:
        return tuple(sorted({team for team, _ in self.memberships}))

    @property
    def roles(self) -> tuple[str, ...]:
        roles = {role for _, role in self.memberships}
        if self.is_admin:
            roles.add(ADMIN_ROLE)
        return tuple(sorted(roles))

    def member_of(self, team: str) -> bool:
        return any(t == team for t, _ in self.memberships)

    def has_role(self, team: str, role: str) -> bool:
        return (team, role) in self.memberships

    def allows(self, scope: str) -> bool:
        return "*" in self.scopes or scope in self.scopes


def system_actor(name: str = "system") -> Actor:
    """The platform itself (the worker, migrations): an administrator with every scope."""
    return Actor(user=name, is_admin=True)
