"""``redis:rotate-password``: a new generated password for the ACL user a `redis:user` step
made. Only its SHA-256 reaches Redis; connections already authenticated stay so, as Redis does
for ``ACL SETUSER``."""

from __future__ import annotations

import hashlib
from typing import Any

from goldenpath.actions.base import ActionInputs, Context, NoInputs, ResourceRef, not_ours
from goldenpath.actions.redis.server import admin_session
from goldenpath.actions.redis.user import RedisUser, RedisUserInputs, connection_outputs, is_ours
from goldenpath.actions.secret.rotation import PasswordRotation


class RedisRotatePassword(PasswordRotation):
    id = "redis:rotate-password"
    backend_kind = "redis"
    description = "A new generated password for a Redis ACL user; the old one stops working."
    secret_outputs = frozenset({"password", "url"})
    operates_on = frozenset({RedisUser.id})

    def set_password(
        self, ctx: Context[NoInputs], resource: ResourceRef, made_with: ActionInputs, password: str
    ) -> dict[str, Any]:
        assert isinstance(made_with, RedisUserInputs)
        name = resource.name
        backend = ctx.backend("redis", made_with.backend)
        password_sha256 = hashlib.sha256(password.encode()).hexdigest()
        with admin_session(backend, made_with.backend) as admin, admin.lock(name):
            if admin.acl_user(name) is None or not is_ours(admin, name, ctx.marker):
                raise not_ours(f"Redis user '{name}'", "its password is left alone")
            document = dict(admin.marker(name) or {})
            admin.call("ACL", "SETUSER", name, "resetpass", f"#{password_sha256}")
            # Observe compares the user's password hash with the marker's.
            admin.set_marker(name, {**document, "password_sha256": password_sha256})
            admin.persist_acl()
        return connection_outputs(backend, name, password)
