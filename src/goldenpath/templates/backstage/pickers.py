"""Backstage's form pickers (``ui:field``) and secret widgets as plain JSON Schema rules.

Backstage's pickers look values up in its catalog while the user types; here each becomes a
string with the validation the picker guarantees, so the API, the CLI and Slack refuse what
the picker would never produce. The portal draws the owner picker as a choice of our teams
(and the service checks the team exists); the ``ui:field`` key stays in the schema for that.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

# Backstage's entity name rule (``KubernetesValidatorFunctions.isValidObjectName``).
ENTITY_NAME = r"^([A-Za-z0-9][-A-Za-z0-9_.]{0,61}[A-Za-z0-9]|[A-Za-z0-9])$"
ENTITY_REF = r"^([A-Za-z][A-Za-z0-9-]*:)?([a-z0-9][-a-z0-9_.]*/)?[A-Za-z0-9][-A-Za-z0-9_.]*$"
OWNER_REF = r"^(group:)?([a-z0-9][-a-z0-9_.]*/)?[a-z][a-z0-9-]*$"
_SEGMENT = r"[A-Za-z0-9_.-]+"
KNOWN_FIELDS = frozenset(
    {"EntityNamePicker", "OwnerPicker", "RepoUrlPicker", "EntityPicker", "Secret"}
)


def picker_rules(prop: Mapping[str, Any]) -> dict[str, Any]:
    """The schema rules a ``ui:field`` / ``ui:widget`` implies, to merge into the property."""
    field = prop.get("ui:field")
    options = prop.get("ui:options") if isinstance(prop.get("ui:options"), Mapping) else {}
    assert isinstance(options, Mapping)
    if field == "EntityNamePicker":
        return {"type": "string", "pattern": prop.get("pattern", ENTITY_NAME), "maxLength": 63}
    if field == "OwnerPicker":
        return {"type": "string", "pattern": OWNER_REF, "maxLength": 253}
    if field == "EntityPicker":
        return {"type": "string", "pattern": _entity_ref(options), "maxLength": 253}
    if field == "RepoUrlPicker":
        return {"type": "string", "pattern": repo_url_pattern(options), "maxLength": 500}
    if field == "Secret" or prop.get("ui:widget") == "password":
        # Sealed at rest and masked everywhere, as Backstage keeps ``secrets.*`` out of logs.
        return {"writeOnly": True}
    return {}


def repo_url_pattern(options: Mapping[str, Any]) -> str:
    """``host?owner=…&repo=…`` (any order of the query), the host among ``allowedHosts`` and the
    owner among ``allowedOwners`` when the picker limits them."""
    hosts = _alternatives(options.get("allowedHosts"), r"[A-Za-z0-9.-]+(:[0-9]+)?")
    owners = _alternatives(options.get("allowedOwners"), _SEGMENT)
    # Our git providers make repositories named like this (git:repo's rule), so the picker
    # accepts no name that publishing would refuse later.
    repos = _alternatives(options.get("allowedRepos"), r"[a-z][a-z0-9-]{1,62}")
    return (
        rf"^{hosts}\?(?=(.*&)?owner={owners}(&|$))(?=(.*&)?repo={repos}(&|$))"
        rf"{_SEGMENT}={_SEGMENT}(&{_SEGMENT}={_SEGMENT})*$"
    )


def _entity_ref(options: Mapping[str, Any]) -> str:
    kinds = options.get("allowedKinds")
    if not isinstance(kinds, Sequence) or isinstance(kinds, str) or not kinds:
        return ENTITY_REF
    kind = "|".join(re.escape(str(k).lower()) + "|" + re.escape(str(k)) for k in kinds)
    return rf"^({kind}):([a-z0-9][-a-z0-9_.]*/)?[A-Za-z0-9][-A-Za-z0-9_.]*$"


def _alternatives(values: Any, fallback: str) -> str:
    if isinstance(values, Sequence) and not isinstance(values, str) and values:
        return "(" + "|".join(re.escape(str(v)) for v in values) + ")"
    return f"({fallback})"


def owner_team(value: str) -> str:
    """The team an OwnerPicker value names: ``group:default/payments`` → ``payments``."""
    return value.rsplit("/", 1)[-1].removeprefix("group:")
