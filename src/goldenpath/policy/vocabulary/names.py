"""The platform name of a Terraform address: what naming policies and the catalog show."""

from __future__ import annotations

import hashlib
import re

_NOT_A_NAME = re.compile(r"[^a-z0-9_-]+")
_MAX_NAME = 63


def resource_name(address: str) -> str:
    """A name the org's naming rule accepts, for an address such as ``aws_s3_bucket.logs["a"]``.

    The exact address is kept beside it (``config.address``, ``normalized.address``).
    """
    name = _NOT_A_NAME.sub("-", address.lower()).strip("-_") or "resource"
    if not name[0].isalpha():
        name = "r-" + name
    if len(name) > _MAX_NAME:
        digest = hashlib.sha256(address.encode()).hexdigest()[:8]
        name = f"{name[: _MAX_NAME - 9].rstrip('-_')}-{digest}"
    return name
