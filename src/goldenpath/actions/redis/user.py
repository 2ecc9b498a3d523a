"""``redis:user``: an ACL user confined to its own key prefix, without admin commands.

The user may touch only keys (and channels) under ``<name>:``, and gets an allowlist of command
categories (read, optionally write, transactions) minus everything Redis marks admin,
dangerous or scripting — no FLUSHALL, CONFIG, KEYS, ACL, DEBUG, MODULE, EVAL, SHUTDOWN — and
minus the commands that enumerate the whole keyspace (SCAN, RANDOMKEY, DBSIZE), because key
names are not filtered by key patterns and would show other tenants' keys.

Destroy removes the user and the platform's marker, never the data: keys under the prefix stay
until someone deletes them, since deleting another service's data by pattern is not something
a cleanup should do silently.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal
from urllib.parse import quote

from pydantic import Field

from goldenpath.actions.base import (
    Action,
    ActionInputs,
    Context,
    Drift,
    Observation,
    PlanContext,
    PlannedResource,
    ResourceRef,
    not_ours,
)
from goldenpath.actions.redis.server import Admin, admin_session, public_address
from goldenpath.actions.secret.generate import generate_secret
from goldenpath.errors import ActionError, ResourceTaken
from goldenpath.settings import BackendSettings

# No glob characters (* ? [ ] \), so the name is safe inside the ~<name>:* key pattern.
USER_NAME = r"^[a-z][a-z0-9_-]{2,31}$"
BACKEND_NAME = r"^[a-z][a-z0-9_-]{0,62}$"
# 'default' is Redis's own user; 'goldenpath' would be granted the platform's marker keys.
RESERVED = frozenset({"default", "goldenpath"})
# Connection housekeeping clients send on their own (redis-py, ioredis, Jedis, go-redis).
CONNECTION_COMMANDS = (
    "+ping",
    "+echo",
    "+hello",
    "+auth",
    "+select",
    "+reset",
    "+quit",
    "+readonly",
    "+readwrite",
    "+client|setname",
    "+client|getname",
    "+client|id",
    "+client|info",
)
# The fields of ACL GETUSER compared for drift (passwords are compared on their own).
ACL_FIELDS = ("flags", "keys", "channels", "commands", "categories", "selectors")


class RedisUserInputs(ActionInputs):
    name: str = Field(
        pattern=USER_NAME,
        description="User name and key prefix: lower-case letters, digits, _ and -, 3 to 32 long.",
    )
    backend: str = Field(default="redis", pattern=BACKEND_NAME)
    commands: Literal["read", "read-write"] = Field(
        default="read-write", description="'read' grants read commands only."
    )


def acl_rules(name: str, password_sha256: str, commands: str) -> list[str]:
    """The ``ACL SETUSER`` rules: start from nothing, allow a little, then take back the rest."""
    grants = ["+@read", "+@write"] if commands == "read-write" else ["+@read"]
    return [
        "reset",
        "on",
        # The hash, not the password: the cleartext never travels to or through Redis.
        f"#{password_sha256}",
        f"~{name}:*",
        "resetchannels",
        f"&{name}:*",
        "-@all",
        *grants,
        "+@transaction",
        *CONNECTION_COMMANDS,
        # After the grants, so they win over anything the categories above brought in.
        "-@admin",
        "-@dangerous",
        "-@scripting",
        "-scan",
        "-randomkey",
        "-dbsize",
    ]


class RedisUser(Action[RedisUserInputs]):
    id = "redis:user"
    backend_kind = "redis"
    description = (
        "A Redis ACL user with a generated password, limited to keys under '<name>:' and to "
        "read (and write) commands; no admin or dangerous commands."
    )
    Inputs = RedisUserInputs
    secret_outputs = frozenset({"password", "url"})
    examples = ({"name": "orders-cache"}, {"name": "reports", "commands": "read"})
    updatable = frozenset({"commands"})

    def plan(self, ctx: PlanContext[RedisUserInputs]) -> list[PlannedResource]:
        _check_not_reserved(ctx.inputs.name)
        ctx.backend("redis", ctx.inputs.backend)
        return [
            PlannedResource(
                type=self.id,
                name=ctx.inputs.name,
                backend=ctx.inputs.backend,
                config={"commands": ctx.inputs.commands, "key_prefix": f"{ctx.inputs.name}:"},
            )
        ]

    def apply(self, ctx: Context[RedisUserInputs]) -> dict[str, Any]:
        inputs = ctx.inputs
        name = inputs.name
        _check_not_reserved(name)
        backend = ctx.backend("redis", inputs.backend)
        password = ctx.checkpoint("password", lambda: generate_secret(32))
        password_sha256 = hashlib.sha256(password.encode()).hexdigest()
        with admin_session(backend, inputs.backend) as admin, admin.lock(name):
            existing = admin.acl_user(name)
            if existing is not None and not is_ours(admin, name, ctx.marker):
                raise ResourceTaken(kind="Redis user", name=name, backend=inputs.backend)
            document: dict[str, Any] = {
                "marker": ctx.marker,
                "password_sha256": password_sha256,
                "acl": None,
            }
            # Written before the user exists, so a crash right after SETUSER is ours on retry.
            admin.set_marker(name, document)
            _set_user(admin, ctx, document)
            verb = "reset" if existing is not None else "created"
            ctx.log(f"{verb} ACL user {name} ({inputs.commands}, keys {name}:*)")
        return connection_outputs(backend, name, password)

    def update(self, ctx: Context[RedisUserInputs], resource: ResourceRef) -> dict[str, Any]:
        """The user's ACL rules (its commands) set again, its password kept."""
        name = ctx.inputs.name
        if name != resource.name:
            raise ActionError(problem=f"a Redis user cannot be renamed in place ({resource.name})")
        backend = ctx.backend("redis", ctx.inputs.backend)
        with admin_session(backend, ctx.inputs.backend) as admin, admin.lock(name):
            document = admin.marker(name)
            if admin.acl_user(name) is None or not document or document["marker"] != ctx.marker:
                raise ActionError(
                    problem=f"Redis user '{name}' is gone or not the one this resource "
                    "created; not changing it"
                )
            _set_user(admin, ctx, document)
            ctx.log(f"ACL rules of {name} set to {ctx.inputs.commands}, password kept")
        return dict(resource.outputs)

    def destroy(self, ctx: Context[RedisUserInputs], resource: ResourceRef) -> None:
        name = resource.name
        backend = ctx.backend("redis", resource.backend)
        with admin_session(backend, resource.backend) as admin, admin.lock(name):
            ours = is_ours(admin, name, ctx.marker)
            if admin.acl_user(name) is not None:
                if not ours:
                    raise not_ours(f"Redis user '{name}'", "not deleting it")
                admin.call("ACL", "DELUSER", name)
                ctx.log(f"deleted ACL user {name}; keys under {name}: are kept")
                admin.persist_acl()
            if ours:
                admin.delete_marker(name)

    def observe(self, ctx: Context[RedisUserInputs], resource: ResourceRef) -> Observation:
        name = resource.name
        backend = ctx.backend("redis", resource.backend)
        with admin_session(backend, resource.backend) as admin:
            current = admin.acl_user(name)
            if current is None:
                return Observation(exists=False)
            document = admin.marker(name) or {}
            if document.get("marker") != ctx.marker:
                return Observation(
                    exists=True, drift=(Drift("owner", "this resource", "someone else"),)
                )
        drift: list[Drift] = []
        expected = document.get("acl") or {}
        actual = _acl_snapshot(current)
        for field in ACL_FIELDS:
            if expected and expected.get(field) != actual.get(field):
                drift.append(Drift(field, expected.get(field), actual.get(field)))
        if list(current.get("passwords") or []) != [document.get("password_sha256")]:
            # Never the hashes themselves: drift is shown to people.
            drift.append(Drift("password", "as generated", "changed out of band"))
        return Observation(exists=True, drift=tuple(drift))


def _set_user(admin: Admin, ctx: Context[RedisUserInputs], document: dict[str, Any]) -> None:
    """``ACL SETUSER`` with the rules of the inputs and the marker's password hash, then the
    ACL as Redis reports it recorded in the marker (observe compares like with like)."""
    name = ctx.inputs.name
    rules = acl_rules(name, document["password_sha256"], ctx.inputs.commands)
    admin.call("ACL", "SETUSER", name, *rules)
    user = admin.acl_user(name)
    if user is None:
        raise ActionError(problem=f"Redis did not keep the ACL user '{name}'")
    admin.set_marker(name, {**document, "acl": _acl_snapshot(user)})
    if not admin.persist_acl():
        ctx.log(
            "the server has no aclfile: ACL users live in memory and a restart loses them",
            level="warning",
        )


def connection_outputs(backend: BackendSettings, name: str, password: str) -> dict[str, Any]:
    """What a service connects with: the address, the user, its key prefix and a URL."""
    address = public_address(backend)
    host = f"[{address.host}]" if ":" in address.host else address.host
    return {
        "username": name,
        "password": password,
        "key_prefix": f"{name}:",
        "host": address.host,
        "port": address.port,
        "url": f"{address.scheme}://{name}:{quote(password, safe='')}@{host}:{address.port}"
        f"/{address.db}",
    }


def is_ours(admin: Admin, name: str, marker: str) -> bool:
    document = admin.marker(name)
    return document is not None and document.get("marker") == marker


def _check_not_reserved(name: str) -> None:
    if name in RESERVED or name.startswith("goldenpath"):
        raise ActionError(problem=f"'{name}' is a reserved Redis user name")


def _acl_snapshot(user: dict[str, Any]) -> dict[str, Any]:
    """The comparable part of ``ACL GETUSER``: lists sorted where Redis's order means nothing."""
    snapshot: dict[str, Any] = {}
    for field in ACL_FIELDS:
        value = user.get(field)
        if field in ("flags", "keys", "channels") and isinstance(value, list):
            value = sorted(str(v) for v in value)
        snapshot[field] = value
    return snapshot
