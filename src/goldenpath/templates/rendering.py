"""Rendering ``${{ }}`` expressions in a sandboxed Jinja2 environment.

Only strings written in the template file are rendered. Parameter values enter the context as
data and are never rendered themselves, so a developer cannot smuggle template code in.
A string that is exactly one expression keeps the expression's type (a number stays a number).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, TemplateError, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from goldenpath.errors import TemplateInvalid
from goldenpath.templates.backstage.filters import FILTERS as BACKSTAGE_FILTERS

_SOLE_EXPRESSION = re.compile(r"^\s*\$\{\{(?P<expr>.*?)\}\}\s*$", re.DOTALL)
STEP_REF = re.compile(r"steps\.([a-z][a-z0-9_]*)\.output\.([A-Za-z_][A-Za-z0-9_]*)")


class PendingOutput(str):
    """Stands for a step output that is only known after apply (dry runs and plans)."""

    __slots__ = ()


class _PendingOutputs(Mapping[str, PendingOutput]):
    def __init__(self, step_id: str) -> None:
        self._step_id = step_id

    def __getitem__(self, key: str) -> PendingOutput:
        return PendingOutput(f"(known after apply: steps.{self._step_id}.output.{key})")

    def __getattr__(self, key: str) -> PendingOutput:
        if key.startswith("_"):
            raise AttributeError(key)
        return self[key]

    def __iter__(self) -> Any:
        return iter(())

    def __len__(self) -> int:
        return 0


def pending_step(step_id: str) -> dict[str, Any]:
    """The ``steps.<id>`` entry of a context for a step that has not run yet."""
    return {"output": _PendingOutputs(step_id)}


class _Environment(ImmutableSandboxedEnvironment):
    pass


_ENV = _Environment(
    variable_start_string="${{",
    variable_end_string="}}",
    block_start_string="${%",
    block_end_string="%}",
    comment_start_string="${#",
    comment_end_string="#}",
    undefined=StrictUndefined,
    autoescape=False,
    keep_trailing_newline=True,
)
_ENV.filters.update(BACKSTAGE_FILTERS)


class Renderer:
    """Renders values from a template against a context, naming ``where`` on failure."""

    def __init__(self, context: Mapping[str, Any], *, file: str = "template") -> None:
        self._context = dict(context)
        self._file = file

    def render(self, value: Any, where: str) -> Any:
        if isinstance(value, str):
            return self._render_string(value, where)
        if isinstance(value, Mapping):
            return {k: self.render(v, f"{where}.{k}") for k, v in value.items()}
        if isinstance(value, list):
            return [self.render(v, f"{where}[{i}]") for i, v in enumerate(value)]
        return value

    def with_values(self, **values: Any) -> Renderer:
        """A renderer whose context has ``values`` too (``each`` inside a loop)."""
        return Renderer({**self._context, **values}, file=self._file)

    def iterations(self, each: Any, where: str) -> list[dict[str, Any]] | None:
        """The ``each`` items of a step as ``{key, value}`` (keys of a list are ``"0"``, ``"1"``,
        as in Backstage); None while the list is still a pending output (plans)."""
        items = self.render(each, where)
        if isinstance(items, PendingOutput):
            return None
        if isinstance(items, list):
            return [{"key": str(i), "value": v} for i, v in enumerate(items)]
        if isinstance(items, Mapping):
            return [{"key": str(k), "value": v} for k, v in items.items()]
        raise TemplateInvalid(
            file=self._file,
            field=where,
            line="?",
            problem=f"must render to a list or a mapping (got {type(items).__name__})",
        )

    def condition(self, value: str | bool | None, where: str) -> bool:
        if value is None:
            return True
        if isinstance(value, bool):
            return value
        return bool(self._render_string(condition_text(value), where))

    def _render_string(self, text: str, where: str) -> Any:
        if "${{" not in text and "${%" not in text:
            return text
        try:
            sole = _SOLE_EXPRESSION.match(text)
            if sole and "}}" not in sole.group("expr"):
                result = _expression(sole.group("expr"))(**self._context)
                if isinstance(result, Undefined):
                    str(result)  # raises the UndefinedError that names the missing variable
                return result
            return _template(text).render(**self._context)
        # Evaluating an expression can fail in any Python way (``1 / 0``, ``'a' + 1``); this is the
        # one place those failures become the template's error.
        except Exception as exc:
            raise TemplateInvalid(
                file=self._file, field=where, line="?", problem=f"cannot render {text!r}: {exc}"
            ) from exc


# Templates are few and their expressions are rendered on every request: compile each once.
@functools.lru_cache(maxsize=4096)
def _expression(source: str) -> Any:
    return _ENV.compile_expression(source, undefined_to_none=False)


@functools.lru_cache(maxsize=4096)
def _template(source: str) -> Any:
    return _ENV.from_string(source)


def condition_text(value: str) -> str:
    """An ``if`` as an expression string: ``if: parameters.x`` means ``${{ parameters.x }}``."""
    return value if "${{" in value or "${%" in value else f"${{{{ {value} }}}}"


def check_syntax(text: str) -> str | None:
    """The syntax error in an expression string, or None."""
    try:
        sole = _SOLE_EXPRESSION.match(text)
        if sole and "}}" not in sole.group("expr"):
            _ENV.compile_expression(sole.group("expr"))
        else:
            _ENV.parse(text)
    except TemplateError as exc:
        return str(exc)
    return None
