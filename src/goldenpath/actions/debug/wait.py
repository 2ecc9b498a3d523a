"""``debug:wait``: pause for a while (Backstage's ``debug:wait``); handy to watch progress."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from goldenpath.actions.base import Action, ActionInputs, Context
from goldenpath.errors import Cancelled


class DebugWaitInputs(ActionInputs):
    seconds: float = Field(ge=0, le=600, description="How long to wait.")


class DebugWait(Action[DebugWaitInputs]):
    id = "debug:wait"
    description = "Wait for a number of seconds."
    Inputs = DebugWaitInputs
    examples = ({"seconds": 5},)

    def apply(self, ctx: Context[DebugWaitInputs]) -> dict[str, Any]:
        ctx.log(f"waiting {ctx.inputs.seconds:g} s")
        if ctx.cancelled.wait(ctx.inputs.seconds):
            raise Cancelled(detail="while waiting")
        return {"waited_seconds": ctx.inputs.seconds}
