"""Outgoing webhooks: requests waiting for approval, the decisions on them, and resources whose
lifetime ends soon.

Each delivery is a queue job deferred in the transaction that records the event, so it is sent
if and only if the change committed, and retried while the receiver is down. The body is signed
with HMAC-SHA256 (header ``X-Goldenpath-Signature: sha256=<hex>``) when a secret is configured.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from goldenpath.errors import BackendUnavailable
from goldenpath.store.records import RequestRecord, ResourceRecord

SIGNATURE_HEADER = "X-Goldenpath-Signature"


def payload(event: str, request: RequestRecord, **extra: Any) -> dict[str, Any]:
    """What a webhook says: the event and the request's public facts (never a secret)."""
    return {
        "event": event,
        "at": datetime.now(UTC).isoformat(),
        "request": {
            "id": request.id,
            "template": request.template_name,
            "version": request.template_version,
            "status": request.status,
            "team": request.owner_team,
            "requested_by": request.requested_by,
            "is_exception": request.is_exception,
            "justification": request.justification,
            "violations": [
                {"policy": v.get("policy"), "message": v.get("message")}
                for v in (request.verdict or {}).get("violations", [])
            ],
        },
        **extra,
    }


def resource_payload(event: str, resource: ResourceRecord, **extra: Any) -> dict[str, Any]:
    """What a webhook says of a resource: the event and its public facts (never an output)."""
    return {
        "event": event,
        "at": datetime.now(UTC).isoformat(),
        "resource": {
            "id": resource.id,
            "kind": resource.kind,
            "name": resource.name,
            "team": resource.owner_team,
            "template": resource.template_name,
            "version": resource.template_version,
            "state": resource.state,
            "expires_at": resource.expires_at.isoformat() if resource.expires_at else None,
        },
        **extra,
    }


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Webhook:
    url: str
    secret: str | None = None
    timeout: float = 10.0

    def deliver(self, payload: dict[str, Any]) -> None:
        """POST the payload; any failure raises, so the queue tries again later."""
        body = json.dumps(payload, sort_keys=True).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "goldenpath-webhook"}
        if self.secret:
            headers[SIGNATURE_HEADER] = sign(body, self.secret)
        try:
            response = httpx.post(self.url, content=body, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise BackendUnavailable(backend="webhook", problem=str(exc)) from None
        if not response.is_success:
            raise BackendUnavailable(
                backend="webhook", problem=f"answered HTTP {response.status_code}"
            )
