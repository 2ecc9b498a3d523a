"""The directory on a real database: users, teams, tokens, and the refusals that matter."""

from __future__ import annotations

import pytest

from goldenpath.app import Platform
from goldenpath.errors import AccessDenied, Conflict, InvalidInput, NotAuthenticated, UserNotFound
from tests.conftest import ADMIN, member


def test_a_name_is_taken_once(platform: Platform) -> None:
    platform.directory.create_user(ADMIN, "alice")
    with pytest.raises(Conflict, match="already exists"):
        platform.directory.create_user(ADMIN, "alice")
    with pytest.raises(UserNotFound):
        platform.directory.set_password(ADMIN, "nobody", "a-long-enough-password")


def test_tokens_work_until_revoked_and_never_grant_more_than_their_maker(
    platform: Platform,
) -> None:
    directory = platform.directory
    directory.create_user(ADMIN, "bob")
    directory.create_team(ADMIN, "payments")
    directory.add_member(ADMIN, "payments", "bob", "developer")
    bob = directory.actor_for("bob")
    issued = directory.create_token(bob, name="laptop")
    assert directory.authenticate(issued.token).user == "bob"
    read_only = directory.create_token(bob, name="ro", scopes=("read",))
    with pytest.raises(AccessDenied, match="admin tokens"):
        directory.create_token(bob, name="sneaky", scopes=("admin",))
    write_only = directory.create_token(bob, name="wo", scopes=("write",))
    with pytest.raises(AccessDenied, match="more than the token"):
        directory.create_token(
            directory.authenticate(write_only.token), name="x", scopes=("read", "write")
        )
    # A read token reads: it neither makes nor revokes tokens, its own user's included.
    reader = directory.authenticate(read_only.token)
    with pytest.raises(AccessDenied, match=r"scopes do not allow token\.manage"):
        directory.create_token(reader, name="x", scopes=("read",))
    with pytest.raises(AccessDenied, match=r"scopes do not allow token\.manage"):
        directory.revoke_token(reader, write_only.id)
    assert directory.authenticate(write_only.token).user == "bob"
    directory.revoke_token(bob, issued.id)
    with pytest.raises(NotAuthenticated, match="revoked"):
        directory.authenticate(issued.token)
    with pytest.raises(NotAuthenticated, match="unknown token"):
        directory.authenticate(issued.token[:-1] + ("A" if issued.token[-1] != "A" else "B"))


def test_passwords_sign_in_and_wrong_ones_are_audited(platform: Platform) -> None:
    directory = platform.directory
    directory.create_user(ADMIN, "carol", password="correct horse battery")
    assert directory.login("carol", "correct horse battery").user == "carol"
    with pytest.raises(NotAuthenticated):
        directory.login("carol", "wrong password here")
    with pytest.raises(NotAuthenticated):
        directory.login("nobody", "whatever password")
    with pytest.raises(InvalidInput, match="12 to 200"):
        directory.set_password(member("carol"), "carol", "short")
    actions = [e["action"] for e in platform.audit.events(ADMIN, target="carol")]
    assert actions.count("login") == 1 and actions.count("login.failed") == 1


@pytest.mark.parametrize("typed", ["carol\x00", "\x00", "ca\x1brol\u202e"])
def test_a_name_holding_control_characters_is_a_failed_login_audited_legibly(
    platform: Platform, typed: str
) -> None:
    platform.directory.create_user(ADMIN, "carol", password="correct horse battery")

    with pytest.raises(NotAuthenticated):
        platform.directory.login(typed, "correct horse battery")

    shown = typed.replace("\x00", "\ufffd").replace("\x1b", "\ufffd").replace("\u202e", "\ufffd")
    [event] = platform.audit.events(ADMIN, target=shown)
    assert (event["action"], event["actor"]) == ("login.failed", shown)
