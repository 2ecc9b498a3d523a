"""``debug:log``: write a message to the step log (Backstage's ``debug:log``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from goldenpath.actions.base import Action, ActionInputs, Context


class DebugLogInputs(ActionInputs):
    message: str = Field(min_length=1, max_length=10_000)


class DebugLog(Action[DebugLogInputs]):
    id = "debug:log"
    description = "Write a message to the step log."
    Inputs = DebugLogInputs
    examples = ({"message": "Hello from ${{ parameters.name }}"},)

    def apply(self, ctx: Context[DebugLogInputs]) -> dict[str, Any]:
        ctx.log(ctx.inputs.message)
        return {"message": ctx.inputs.message}
