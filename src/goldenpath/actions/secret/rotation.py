"""What every ``*:rotate-password`` operation shares: a generated password, checkpointed
before it is set (a retry after a crash sets the same one), and no inputs."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from goldenpath.actions.base import ActionInputs, Context, NoInputs, ResourceOperation, ResourceRef
from goldenpath.actions.secret.generate import generate_secret


class PasswordRotation(ResourceOperation[NoInputs]):
    """A new generated password for what an action of ``operates_on`` made; the old one stops
    working for every new login."""

    Inputs = NoInputs

    def operate(
        self, ctx: Context[NoInputs], resource: ResourceRef, made_with: ActionInputs
    ) -> dict[str, Any]:
        password = ctx.checkpoint("password", lambda: generate_secret(32))
        outputs = self.set_password(ctx, resource, made_with, password)
        ctx.log(f"new password set for {resource.name}")
        return outputs

    @abstractmethod
    def set_password(
        self, ctx: Context[NoInputs], resource: ResourceRef, made_with: ActionInputs, password: str
    ) -> dict[str, Any]:
        """Set ``password`` (refusing what this resource did not make); its new outputs."""
