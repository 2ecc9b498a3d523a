"""Block Kit messages that show a request: the requester's thread message (steps as they
run, outputs when done, never a secret), the approvers' message with its buttons, and the
decision told in the requester's thread."""

from __future__ import annotations

from typing import Any

from goldenpath.store.records import RequestRecord

Blocks = list[dict[str, Any]]

STEP_MARK = {
    "pending": ":white_circle:",
    "running": ":hourglass_flowing_sand:",
    "succeeded": ":white_check_mark:",
    "failed": ":x:",
    "skipped": ":fast_forward:",
    "rolled_back": ":leftwards_arrow_with_hook:",
    "rollback_failed": ":warning:",
}
STATUS_TEXT = {
    "pending_approval": ":raised_hand: waiting for approval",
    "queued": ":inbox_tray: queued",
    "running": ":gear: running",
    "rolling_back": ":leftwards_arrow_with_hook: rolling back",
    "cancelling": ":stop_sign: cancelling",
    "succeeded": ":tada: succeeded",
    "failed": ":x: failed",
    "cancelled": ":no_entry_sign: cancelled",
    "rejected": ":no_entry: rejected",
}
EXCEPTION_ACTION = "gp_exception"
APPROVE_ACTION = "gp_approve"
REJECT_ACTION = "gp_reject"
COMMENT_BLOCK = "gp_comment"
COMMENT_ACTION = "comment"


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:3000]}]}


def button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    return element


def request_url(base_url: str, request: RequestRecord) -> str:
    return f"{base_url.rstrip('/')}/requests/{request.id}"


def violations_text(request: RequestRecord) -> str:
    found = (request.verdict or {}).get("violations", [])
    return "\n".join(f"• `{v.get('policy', '?')}`: {v.get('message', '')}" for v in found)


def thread_message(request: RequestRecord, base_url: str) -> tuple[str, Blocks]:
    """The requester's message: status, each step, outputs or the failure, and links."""
    url = request_url(base_url, request)
    status = STATUS_TEXT.get(request.status, request.status)
    title = f"*{request.template_name}* for team `{request.owner_team}`: {status}"
    blocks: Blocks = [section(title)]
    steps = "\n".join(
        f"{STEP_MARK.get(s.status, s.status)} {s.name} (`{s.action}`)"
        + (f": {s.error}" if s.error else "")
        for s in request.steps
    )
    if steps and request.status != "rejected":
        blocks.append(section(steps))
    outputs = (request.outputs or {}) if request.status == "succeeded" else {}
    values = outputs.get("values") or {}
    if values:
        blocks.append(section("\n".join(f"*{k}*: `{v}`" for k, v in values.items())))
    links = outputs.get("links") or []
    if isinstance(links, list) and links:
        blocks.append(
            section(
                "\n".join(
                    f"<{item.get('url')}|{item.get('title', item.get('url'))}>"
                    for item in links
                    if isinstance(item, dict)
                )
            )
        )
    if outputs.get("secrets"):
        names = ", ".join(str(n) for n in outputs["secrets"])
        blocks.append(
            section(
                f":lock: Secrets ({names}) are not posted here: <{url}|reveal them in the portal>."
            )
        )
    if request.status in ("failed", "cancelled") and request.error:
        blocks.append(section(f"*Error*: {request.error}"))
    if request.status == "rejected":
        if request.decided_by:
            blocks.append(
                section(
                    f"Rejected by {request.decided_by}"
                    + (f": {request.decision_comment}" if request.decision_comment else "")
                )
            )
        else:
            blocks.append(
                section(
                    "*Denied by the guardrails:*\n"
                    + (violations_text(request) or request.error or "")
                )
            )
            if not request.is_exception:
                blocks.append(
                    {
                        "type": "actions",
                        "elements": [
                            button("Ask for an exception", EXCEPTION_ACTION, request.id, "primary")
                        ],
                    }
                )
    if request.status == "pending_approval" and request.justification:
        blocks.append(section(f"*Justification*: {request.justification}"))
    blocks.append(context(f"<{url}|Request {request.id}> · requested by {request.requested_by}"))
    return f"{request.template_name}: {status}", blocks


def approval_message(request: RequestRecord, base_url: str) -> tuple[str, Blocks]:
    """The approvers' message: what is asked and why, a comment field and the two buttons
    while it waits; who decided once decided."""
    url = request_url(base_url, request)
    kind = "An exception request" if request.is_exception else "A request"
    params = ", ".join(f"{k}=`{v}`" for k, v in request.parameters.items())
    waiting = request.status == "pending_approval"
    blocks: Blocks = [
        section(
            f"{kind} from *{request.requested_by}* (team `{request.owner_team}`) "
            f"{'needs' if waiting else 'asked for'} approval: *{request.template_name}* {params}"
        )
    ]
    if violations_text(request):
        blocks.append(section("*Guardrails*:\n" + violations_text(request)))
    if request.justification:
        blocks.append(section(f"*Justification*: {request.justification}"))
    if waiting:
        blocks.append(
            {
                "type": "input",
                "block_id": COMMENT_BLOCK,
                "optional": True,
                "label": {"type": "plain_text", "text": "Comment"},
                "element": {"type": "plain_text_input", "action_id": COMMENT_ACTION},
            }
        )
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    button("Approve", APPROVE_ACTION, request.id, "primary"),
                    button("Reject", REJECT_ACTION, request.id, "danger"),
                ],
            }
        )
        text = f"Approval needed: {request.template_name} by {request.requested_by}"
    else:
        blocks.append(section(decision_text(request)))
        text = decision_text(request)
    blocks.append(context(f"<{url}|Request {request.id}>"))
    return text, blocks


def decision_text(request: RequestRecord) -> str:
    if request.decided_by is None:
        return f"The request is {request.status}."
    verb = "Approved" if request.status != "rejected" else "Rejected"
    if request.decided_by == "system":
        return f"The approval expired: {request.error}"
    comment = f": {request.decision_comment}" if request.decision_comment else ""
    return f"{verb} by {request.decided_by}{comment}"


def decision_message(request: RequestRecord, base_url: str) -> tuple[str, Blocks]:
    text = decision_text(request)
    return text, [
        section(text),
        context(f"<{request_url(base_url, request)}|Request {request.id}>"),
    ]
