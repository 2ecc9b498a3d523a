"""Modals: a golden path's form as Block Kit inputs, the preview, and the exception request.

The fields come from the portal's own reading of the JSON Schema (`web.forms`): enums as radio
buttons or selects, booleans as checkboxes, numbers with their bounds. Slack shows them; the
service checks every rule again on submission, and its messages go back into the modal, next
to their field, through ``response_action: errors``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from goldenpath.service import DryRun
from goldenpath.slack.messages import Blocks, section
from goldenpath.templates.loader import Template
from goldenpath.web.forms import Field, Page, fields_of

FORM_VIEW = "gp_form"
PREVIEW_VIEW = "gp_preview"
EXCEPTION_VIEW = "gp_exception"
TEAM_BLOCK = "_team"
JUSTIFICATION_BLOCK = "justification"
VALUE = "v"
RADIO_MAX = 10
PLAIN_TEXT_MAX = 3000


def _text(text: str, limit: int = 75) -> dict[str, Any]:
    return {"type": "plain_text", "text": (text or " ")[:limit]}


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": _text(label), "value": value[:150]}


def _element(item: Field) -> dict[str, Any]:
    """The Block Kit element for one field; the initial value is its default."""
    default = item.default
    if item.widget in ("radio", "select"):
        options = [_option(o.value, o.label) for o in item.options]
        kind = (
            "radio_buttons"
            if len(options) <= RADIO_MAX and item.widget == "radio"
            else ("static_select")
        )
        element: dict[str, Any] = {"type": kind, "options": options}
        chosen = next((o for o in options if o["value"] == default), None)
        if chosen:
            element["initial_option"] = chosen
        return element
    if item.widget in ("checkbox", "checkboxes"):
        if item.widget == "checkbox":
            options = [_option("true", item.label)]
            initial = options if default == "true" else []
        else:
            options = [_option(o.value, o.label) for o in item.options]
            ticked = set(json.loads(default)) if default and default.startswith("[") else set()
            initial = [o for o in options if o["value"] in ticked]
        element = {"type": "checkboxes", "options": options}
        if initial:
            element["initial_options"] = initial
        return element
    if item.widget == "number":
        element = {"type": "number_input", "is_decimal_allowed": item.step != "1"}
        for key, bound in (("min_value", item.minimum), ("max_value", item.maximum)):
            if bound is not None:
                element[key] = str(int(bound) if float(bound).is_integer() else bound)
    elif item.widget == "date":
        element = {"type": "datepicker"}
        if default:
            element["initial_date"] = default
        return element
    else:
        element = {"type": "plain_text_input", "multiline": item.widget in ("textarea", "lines")}
        if item.max_length:
            element["max_length"] = min(item.max_length, PLAIN_TEXT_MAX)
        if item.min_length:
            element["min_length"] = item.min_length
    if default:
        element["initial_value"] = default
    return element


def _input(item: Field) -> dict[str, Any]:
    element = {**_element(item), "action_id": VALUE}
    block: dict[str, Any] = {
        "type": "input",
        "block_id": item.name,
        "label": _text(item.label, 2000),
        "optional": not item.required or item.widget == "checkbox",
        "element": element,
    }
    hint = item.help
    if item.pattern_message or item.pattern:
        hint = (hint + " " if hint else "") + (item.pattern_message or f"Pattern: {item.pattern}")
    if item.widget == "lines":
        hint = (hint + " " if hint else "") + "One value per line."
    if hint:
        block["hint"] = _text(hint, 2000)
    return block


def form_view(
    template: Template, form: Sequence[Page], teams: Sequence[str], metadata: Mapping[str, Any]
) -> dict[str, Any]:
    """The modal for a golden path, or one that says to use the portal (secret fields: Slack
    has no password input, and a secret typed into chat is a secret posted)."""
    base = {"type": "modal", "title": _text(template.title, 24), "close": _text("Cancel")}
    if any(f.secret for f in fields_of(form)):
        return {
            **base,
            "blocks": [
                section(
                    f"*{template.title}* asks for a secret, which is never typed into Slack: "
                    "request it in the portal."
                )
            ],
        }
    blocks: Blocks = []
    if template.document.metadata.description:
        blocks.append(section(template.document.metadata.description))
    if len(teams) > 1:
        blocks.append(
            {
                "type": "input",
                "block_id": TEAM_BLOCK,
                "label": _text("Owner team"),
                "element": {
                    "type": "static_select",
                    "action_id": VALUE,
                    "options": [_option(t, t) for t in teams],
                },
            }
        )
    for page in form:
        if len(form) > 1:
            blocks.append({"type": "header", "text": _text(page.title, 150)})
        blocks.extend(_input(item) for item in page.fields)
    return {
        **base,
        "callback_id": FORM_VIEW,
        "submit": _text("Preview"),
        "private_metadata": json.dumps(dict(metadata)),
        "blocks": blocks,
    }


def posted_values(view: Mapping[str, Any]) -> dict[str, list[str]]:
    """A submitted view's state as a posted form (`web.forms.parse` reads it like the portal's)."""
    posted: dict[str, list[str]] = {}
    values = (view.get("state") or {}).get("values") or {}
    for block_id, actions in values.items():
        state = (actions or {}).get(VALUE) or {}
        kind = state.get("type")
        if kind in ("static_select", "radio_buttons"):
            chosen = state.get("selected_option") or {}
            posted[block_id] = [str(chosen["value"])] if "value" in chosen else []
        elif kind == "checkboxes":
            posted[block_id] = [str(o["value"]) for o in state.get("selected_options") or []]
        elif kind == "datepicker":
            posted[block_id] = [str(state.get("selected_date") or "")]
        else:
            posted[block_id] = [str(state.get("value") or "")]
    return posted


def preview_view(dry: DryRun, metadata: Mapping[str, Any]) -> dict[str, Any]:
    """What would be created, the guardrails' verdict and the monthly cost; submit runs it."""
    verdict = dry.verdict
    params = "\n".join(f"*{k}*: `{v}`" for k, v in dry.parameters.items()) or "_no parameters_"
    resources = "\n".join(
        f"• {r.get('type')} `{r.get('name')}`"
        + (f" (${float(r['monthly_cost_usd']):.2f}/month)" if r.get("monthly_cost_usd") else "")
        for r in dry.plan.get("resources", [])
    )
    mark = {
        "allow": ":white_check_mark: allowed",
        "deny": ":no_entry: denied",
        "require_approval": ":raised_hand: needs approval",
    }[verdict.decision]
    blocks: Blocks = [section(f"*Team* `{dry.requester.team}`\n{params}")]
    if resources:
        blocks.append(section("*Would create*\n" + resources))
    total = dry.plan.get("total_monthly_cost_usd")
    cost = f" · estimated ${float(total):.2f}/month" if total is not None else ""
    blocks.append(section(f"*Guardrails*: {mark}{cost}"))
    for kind, found in (
        ("Violation", verdict.violations),
        ("Warning", verdict.warnings),
        ("Approval", verdict.approvals),
    ):
        for v in found:
            blocks.append(section(f"{kind} `{v.policy}`: {v.message}"))
    if not verdict.allowed:
        blocks.append(
            section(
                "Submitting records the denied request; its message then offers "
                "to ask for an exception."
            )
        )
    return {
        "type": "modal",
        "callback_id": PREVIEW_VIEW,
        "title": _text(dry.template.title, 24),
        "submit": _text("Submit"),
        "close": _text("Cancel"),
        "private_metadata": json.dumps(dict(metadata)),
        "blocks": blocks,
    }


def exception_view(
    request_id: str, template_name: str, metadata: Mapping[str, Any]
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": EXCEPTION_VIEW,
        "title": _text("Ask for an exception", 24),
        "submit": _text("Ask"),
        "close": _text("Cancel"),
        "private_metadata": json.dumps({**metadata, "request_id": request_id}),
        "blocks": [
            section(
                f"An approver of your team decides whether *{template_name}* may run "
                "despite the guardrails. Say why it is needed."
            ),
            {
                "type": "input",
                "block_id": JUSTIFICATION_BLOCK,
                "label": _text("Justification"),
                "element": {"type": "plain_text_input", "action_id": VALUE, "multiline": True},
            },
        ],
    }
