"""The action registry: the built-in actions plus those that packages add through entry points."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from importlib.metadata import entry_points
from typing import Any

from goldenpath.actions.base import Action
from goldenpath.errors import ActionNotFound, ConfigurationError

ENTRY_POINT_GROUP = "goldenpath.actions"
_ACTION_ID = re.compile(r"^[a-z][a-z0-9-]*(:[a-z][a-z0-9-]*)+$")


class ActionRegistry:
    def __init__(self, actions: Iterable[type[Action[Any]]] = ()) -> None:
        self._actions: dict[str, type[Action[Any]]] = {}
        for action in actions:
            self.register(action)

    def register(self, action: type[Action[Any]]) -> None:
        if not _ACTION_ID.match(getattr(action, "id", "")):
            raise ConfigurationError(problem=f"action {action!r} has no valid 'family:verb' id")
        self._actions[action.id] = action

    def get(self, action_id: str) -> Action[Any]:
        try:
            return self._actions[action_id]()
        except KeyError:
            raise ActionNotFound(action=action_id) from None

    def classes(self) -> dict[str, type[Action[Any]]]:
        return dict(self._actions)

    def __iter__(self) -> Iterator[type[Action[Any]]]:
        return iter(sorted(self._actions.values(), key=lambda a: a.id))


def builtin_actions() -> list[type[Action[Any]]]:
    from goldenpath.actions.aws.ec2_instance import Ec2Instance
    from goldenpath.actions.aws.ec2_resize import Ec2Resize
    from goldenpath.actions.aws.s3_bucket import S3Bucket
    from goldenpath.actions.backstage.catalog_register import CatalogRegister
    from goldenpath.actions.backstage.catalog_write import CatalogWrite
    from goldenpath.actions.backstage.fetch import FetchPlain, FetchTemplate
    from goldenpath.actions.backstage.fs import FsDelete, FsRename
    from goldenpath.actions.backstage.publish import PublishGitea, PublishGitHub
    from goldenpath.actions.ci.secret import CiSecret
    from goldenpath.actions.debug.log import DebugLog
    from goldenpath.actions.debug.wait import DebugWait
    from goldenpath.actions.git.repo import GitRepo
    from goldenpath.actions.mysql.database import MysqlDatabase
    from goldenpath.actions.mysql.password import MysqlRotatePassword
    from goldenpath.actions.postgres.database import PostgresDatabase
    from goldenpath.actions.postgres.password import PostgresRotatePassword
    from goldenpath.actions.redis.password import RedisRotatePassword
    from goldenpath.actions.redis.user import RedisUser
    from goldenpath.actions.secret.generate import SecretGenerate
    from goldenpath.actions.terraform.action import TerraformApply

    return [
        CatalogRegister,
        CatalogWrite,
        CiSecret,
        DebugLog,
        DebugWait,
        Ec2Instance,
        Ec2Resize,
        FetchPlain,
        FetchTemplate,
        FsDelete,
        FsRename,
        GitRepo,
        MysqlDatabase,
        MysqlRotatePassword,
        PostgresDatabase,
        PostgresRotatePassword,
        PublishGitea,
        PublishGitHub,
        RedisRotatePassword,
        RedisUser,
        S3Bucket,
        SecretGenerate,
        TerraformApply,
    ]


def default_registry() -> ActionRegistry:
    """Built-ins first; an entry point may replace a built-in of the same id on purpose."""
    registry = ActionRegistry(builtin_actions())
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = entry_point.load()
        except Exception as exc:
            raise ConfigurationError(
                problem=f"action entry point '{entry_point.name}' failed to load: {exc}"
            ) from exc
        registry.register(loaded)
    return registry
