"""The Nunjucks filters Backstage templates use, for the one sandboxed expression environment."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit


def parse_repo_url(url: str) -> dict[str, Any]:
    """``github.com?owner=acme&repo=api`` as ``{host, owner, repo, organization, ...}``."""
    parts = urlsplit(url if "://" in url else f"https://{url}")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    return {"host": parts.hostname or "", **query}


def parse_entity_ref(ref: str, defaults: Mapping[str, str] | None = None) -> dict[str, str]:
    """``component:default/api`` as ``{kind, namespace, name}``."""
    defaults = defaults or {}
    kind, _, rest = ref.rpartition(":")
    namespace, _, name = rest.rpartition("/")
    return {
        "kind": kind or defaults.get("defaultKind", ""),
        "namespace": namespace or defaults.get("defaultNamespace", "default"),
        "name": name,
    }


def pick(value: Mapping[str, Any], key: str) -> Any:
    return value.get(key)


def project_slug(url: str) -> str:
    """``owner/repo`` of a repository URL (Backstage's ``projectSlug``)."""
    parsed = parse_repo_url(url)
    return f"{parsed.get('owner', parsed.get('organization', ''))}/{parsed.get('repo', '')}"


def dump(value: Any) -> str:
    return json.dumps(value)


FILTERS = {
    "parseRepoUrl": parse_repo_url,
    "parseEntityRef": parse_entity_ref,
    "pick": pick,
    "projectSlug": project_slug,
    "dump": dump,
}
