"""``secret:generate``: a random secret, generated once per step and kept across retries."""

from __future__ import annotations

import secrets
import string
from typing import Any, Literal

from pydantic import Field

from goldenpath.actions.base import Action, ActionInputs, Context

ALPHABETS = {
    "alphanumeric": string.ascii_letters + string.digits,
    "hex": "0123456789abcdef",
    "urlsafe": string.ascii_letters + string.digits + "-_",
}


def generate_secret(length: int = 32, alphabet: str = "alphanumeric") -> str:
    characters = ALPHABETS[alphabet]
    return "".join(secrets.choice(characters) for _ in range(length))


class SecretGenerateInputs(ActionInputs):
    length: int = Field(default=32, ge=16, le=256, description="Number of characters.")
    alphabet: Literal["alphanumeric", "hex", "urlsafe"] = "alphanumeric"


class SecretGenerate(Action[SecretGenerateInputs]):
    id = "secret:generate"
    description = "Generate a random secret (a token, an API key) and hand it out as a secret."
    Inputs = SecretGenerateInputs
    secret_outputs = frozenset({"value"})
    examples = ({"length": 40, "alphabet": "urlsafe"},)

    def apply(self, ctx: Context[SecretGenerateInputs]) -> dict[str, Any]:
        inputs = ctx.inputs
        value = ctx.checkpoint("value", lambda: generate_secret(inputs.length, inputs.alphabet))
        ctx.log(f"generated a {inputs.length}-character {inputs.alphabet} secret")
        return {"value": value}
