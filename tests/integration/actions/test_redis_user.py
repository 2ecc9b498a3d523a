"""redis:user against the machine's real Redis 7 (default user, no password)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from redis.exceptions import AuthenticationError, NoPermissionError

from goldenpath.actions.base import Context, ResourceRef
from goldenpath.actions.redis.user import RedisUser, RedisUserInputs
from goldenpath.actions.testing import MemoryJournal
from goldenpath.errors import ActionError, BackendUnavailable, ResourceTaken
from goldenpath.settings import BackendSettings

ADMIN_DSN = os.environ.get("GOLDENPATH_TEST_REDIS", "redis://127.0.0.1:6379/0")


def context(
    name: str,
    *,
    dsn: str = ADMIN_DSN,
    resource_id: str = "r-1",
    journal: MemoryJournal | None = None,
    commands: str = "read-write",
    **backend: Any,
) -> Context[RedisUserInputs]:
    return Context(
        inputs=RedisUserInputs.model_validate({"name": name, "commands": commands}),
        backends={"redis": BackendSettings(kind="redis", dsn=dsn, **backend)},
        owner_team="payments",
        requested_by="alice",
        template_name="redis",
        request_id="req-1",
        step_id="user",
        resource_id=resource_id,
        journal=journal or MemoryJournal(),
    )


def ref(name: str, resource_id: str = "r-1") -> ResourceRef:
    return ResourceRef(
        id=resource_id, type="redis:user", name=name, backend="redis", config={}, outputs={}
    )


def run(client: redis.Redis, *command: Any) -> Any:
    """One raw command (redis-py leaves execute_command unannotated)."""
    return client.execute_command(*command)  # type: ignore[no-untyped-call]


def acl_user(admin: redis.Redis, name: str) -> Any:
    return admin.acl_getuser(name)


@pytest.fixture(scope="session")
def redis_admin() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(ADMIN_DSN, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def redis_name(redis_admin: redis.Redis) -> Iterator[Callable[[str], str]]:
    """Unique ``gpt-`` names; their users, markers, locks and keys all go at teardown."""
    made: list[str] = []

    def make(stem: str = "cache") -> str:
        name = f"gpt-{stem}-{secrets.token_hex(3)}"
        made.append(name)
        return name

    yield make
    for name in made:
        redis_admin.acl_deluser(name)
        redis_admin.delete(f"goldenpath:acl:{name}", f"goldenpath:lock:acl:{name}")
        keys = list(redis_admin.scan_iter(match=f"{name}:*"))
        if keys:
            redis_admin.delete(*keys)


@pytest.fixture
def connect() -> Iterator[Callable[[str], redis.Redis]]:
    opened: list[redis.Redis] = []

    def make(url: str) -> redis.Redis:
        client = redis.Redis.from_url(url, decode_responses=True)
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.close()


def test_the_user_reaches_only_its_own_keys_and_no_admin_command(
    redis_admin: redis.Redis,
    redis_name: Callable[[str], str],
    connect: Callable[[str], redis.Redis],
) -> None:
    name, other = redis_name("orders"), redis_name("other")
    redis_admin.set(f"{other}:secret", "theirs")
    outputs = RedisUser().apply(context(name))

    assert outputs["username"] == name and outputs["key_prefix"] == f"{name}:"
    assert outputs["url"].startswith(f"redis://{name}:") and outputs["url"].endswith(":6379/0")
    user = connect(outputs["url"])
    assert user.ping()
    assert user.set(f"{name}:key", "v") and user.get(f"{name}:key") == "v"
    with user.pipeline() as pipe:  # MULTI/EXEC, what redis-py pipelines use by default
        pipe.incr(f"{name}:n")
        pipe.get(f"{name}:n")
        assert pipe.execute() == [1, "1"]
    refused: list[tuple[Any, ...]] = [
        ("GET", f"{other}:secret"),
        ("GET", f"goldenpath:acl:{name}"),
        ("SET", "unprefixed", "x"),
        ("FLUSHALL",),
        ("FLUSHDB",),
        ("CONFIG", "GET", "*"),
        ("KEYS", "*"),
        ("SCAN", 0),
        ("ACL", "LIST"),
        ("ACL", "SETUSER", name, "+@all"),
        ("EVAL", "return 1", 0),
        ("FUNCTION", "FLUSH"),
        ("MODULE", "LIST"),
        ("CLIENT", "LIST"),
        ("INFO",),
    ]
    # Asked of the ACL first (ACL DRYRUN), so a broken ACL fails the test instead of flushing
    # the shared server; DEBUG and SHUTDOWN are only ever asked, never run.
    for command in [*refused, ("DEBUG", "SLEEP", 0), ("SHUTDOWN",)]:
        verdict = run(redis_admin, "ACL", "DRYRUN", name, *command)
        assert "no permissions" in str(verdict), command
    for command in refused:
        with pytest.raises(NoPermissionError):
            run(user, *command)
    assert redis_admin.get(f"{other}:secret") == "theirs"


def test_destroy_removes_the_user_and_its_marker_but_keeps_the_data(
    redis_admin: redis.Redis, redis_name: Callable[[str], str]
) -> None:
    name = redis_name("gone")
    action = RedisUser()
    outputs = action.apply(context(name))
    redis.Redis.from_url(outputs["url"]).set(f"{name}:kept", "1")

    action.destroy(context(name), ref(name))
    assert acl_user(redis_admin, name) is None
    assert redis_admin.exists(f"goldenpath:acl:{name}") == 0
    assert redis_admin.get(f"{name}:kept") == "1"  # documented: data deletion is not destroy's job
    with pytest.raises(AuthenticationError):
        redis.Redis.from_url(outputs["url"]).ping()
    action.destroy(context(name), ref(name))  # already gone: still fine
    assert not action.observe(context(name), ref(name)).exists


def test_a_read_only_user_cannot_write(
    redis_admin: redis.Redis,
    redis_name: Callable[[str], str],
    connect: Callable[[str], redis.Redis],
) -> None:
    name = redis_name("reader")
    redis_admin.set(f"{name}:k", "v")
    user = connect(RedisUser().apply(context(name, commands="read"))["url"])
    assert user.get(f"{name}:k") == "v"
    for command in (("SET", f"{name}:k", "w"), ("DEL", f"{name}:k"), ("FLUSHALL",)):
        with pytest.raises(NoPermissionError):
            run(user, *command)


def test_update_changes_the_acl_rules_in_place_and_keeps_the_password(
    redis_admin: redis.Redis,
    redis_name: Callable[[str], str],
    connect: Callable[[str], redis.Redis],
) -> None:
    name = redis_name("upd")
    action = RedisUser()
    reader = action.apply(context(name, commands="read"))
    user = connect(reader["url"])
    with pytest.raises(NoPermissionError):
        user.set(f"{name}:k", "v")
    assert action.upgrade_change({"commands": "read"}, {"commands": "read-write"}).outcome == (
        "update"
    )

    action.update(context(name), ref(name))
    assert user.set(f"{name}:k", "v")  # the same password, now allowed to write
    with pytest.raises(NoPermissionError):
        run(user, "FLUSHALL")
    assert action.observe(context(name), ref(name)).in_sync
    action.update(context(name), ref(name))  # again: nothing more changes
    assert action.observe(context(name), ref(name)).in_sync

    with pytest.raises(ActionError, match="not the one this resource created"):
        action.update(context(name, resource_id="r-other", commands="read"), ref(name))
    assert user.set(f"{name}:k", "w")


def test_a_retried_apply_returns_the_same_credentials(
    redis_name: Callable[[str], str], connect: Callable[[str], redis.Redis]
) -> None:
    name = redis_name("retry")
    journal = MemoryJournal()
    action = RedisUser()
    first = action.apply(context(name, journal=journal))
    second = action.apply(context(name, journal=journal))
    assert first == second
    assert connect(second["url"]).ping()
    assert action.observe(context(name), ref(name)).in_sync


def test_the_generated_password_is_really_checked(redis_name: Callable[[str], str]) -> None:
    name = redis_name("pw")
    outputs = RedisUser().apply(context(name))
    wrong = outputs["url"].replace(outputs["password"], "not-the-password")
    with pytest.raises(AuthenticationError):
        redis.Redis.from_url(wrong).ping()


def test_refuses_to_adopt_or_delete_a_user_it_did_not_create(
    redis_admin: redis.Redis, redis_name: Callable[[str], str]
) -> None:
    name = redis_name("foreign")
    redis_admin.acl_setuser(
        name, enabled=True, passwords=["+their-pw"], keys=["*"], commands=["+@all"]
    )
    before = acl_user(redis_admin, name)
    action = RedisUser()
    with pytest.raises(ResourceTaken, match=r"Redis user named .* not created by this\s+request"):
        action.apply(context(name))
    with pytest.raises(ActionError, match="not the one this resource created"):
        action.destroy(context(name), ref(name))
    assert acl_user(redis_admin, name) == before
    assert redis_admin.exists(f"goldenpath:acl:{name}") == 0


def test_another_resource_cannot_take_over_the_same_name(
    redis_admin: redis.Redis,
    redis_name: Callable[[str], str],
    connect: Callable[[str], redis.Redis],
) -> None:
    name = redis_name("taken")
    action = RedisUser()
    owner = action.apply(context(name, resource_id="r-owner"))
    with pytest.raises(ResourceTaken):
        action.apply(context(name, resource_id="r-intruder"))
    with pytest.raises(ActionError, match="not the one this resource created"):
        action.destroy(context(name, resource_id="r-intruder"), ref(name, "r-intruder"))
    assert connect(owner["url"]).ping()  # the owner's password was not touched
    action.destroy(context(name, resource_id="r-owner"), ref(name, "r-owner"))
    assert acl_user(redis_admin, name) is None


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        (("+@all",), {"commands", "categories"}),
        (("~*",), {"keys"}),
        (("+flushall",), {"commands"}),
        ((">changed-by-hand",), {"password"}),
        (("resetpass", ">changed-by-hand"), {"password"}),
        (("off",), {"flags"}),
    ],
)
def test_observe_reports_drift_after_an_out_of_band_change(
    redis_admin: redis.Redis,
    redis_name: Callable[[str], str],
    change: tuple[str, ...],
    fields: set[str],
) -> None:
    name = redis_name("drift")
    action = RedisUser()
    action.apply(context(name))
    assert action.observe(context(name), ref(name)).in_sync
    run(redis_admin, "ACL", "SETUSER", name, *change)
    observed = action.observe(context(name), ref(name))
    assert observed.exists
    assert {d.field for d in observed.drift} == fields


@pytest.mark.parametrize("name", ["default", "goldenpath", "goldenpath-acl"])
def test_reserved_names_are_refused(name: str) -> None:
    with pytest.raises(ActionError, match="reserved"):
        RedisUser().apply(context(name))


@pytest.mark.parametrize(
    "name",
    [
        "x'); DROP TABLE t;--",
        "a`b`c",
        "../cache",
        "cache\0x",
        "c" * 10_000,
        "\uff43\uff41\uff43\uff48\uff45",  # "cache" in fullwidth letters
        "ab",
        "Cache",
        "a" * 33,
        "with space",
        "glob*",
        "glob?",
        "br[a]ce",
        "co:lon",
        "cache\n",
        "on >pw ~* +@all",
    ],
)
def test_hostile_names_never_reach_redis(name: str) -> None:
    with pytest.raises(ValueError, match="name"):
        RedisUserInputs(name=name)


def test_commands_must_be_read_or_read_write() -> None:
    with pytest.raises(ValueError, match="commands"):
        RedisUserInputs.model_validate({"name": "cache", "commands": "all"})


def test_unreachable_backend_is_reported_clearly() -> None:
    with pytest.raises(BackendUnavailable, match=r"'redis' is unreachable: .*127\.0\.0\.1:1"):
        RedisUser().apply(context("gpt-never", dsn="redis://127.0.0.1:1/0"))


@pytest.mark.parametrize("dsn", ["mysql://127.0.0.1/", "redis://", "", "redis://127.0.0.1/x"])
def test_a_malformed_dsn_is_a_clear_backend_error(dsn: str) -> None:
    with pytest.raises(BackendUnavailable, match="dsn"):
        RedisUser().apply(context("gpt-never", dsn=dsn))
