"""The day-2 use cases: diff two versions, the impact of one on what exists, and upgrades.

An upgrade is submitted as an ordinary request of the new version (judged, audited, queued,
cancellable); its plan names the resources the worker changes in place (execution.upgrade).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from goldenpath.errors import (
    Conflict,
    GoldenPathError,
    InvalidInput,
    PolicyDenied,
    ResourceNotFound,
)
from goldenpath.identity.actor import Actor
from goldenpath.identity.permissions import Target, authorize
from goldenpath.service import DryRun, Service
from goldenpath.service_rules import authorize_or_hide
from goldenpath.store import queries, tables
from goldenpath.store.records import TERMINAL_STATUSES, RequestRecord, ResourceRecord
from goldenpath.templates.loader import Template
from goldenpath.upgrades.diff import Change, template_diff
from goldenpath.upgrades.impact import Impact, Replanner, ResourceImpact

LIVE = ("active", "drifted")


@dataclass(frozen=True)
class UpgradePlan:
    """One resource's upgrade: its impact, and the request (None on a dry run)."""

    impact: tuple[ResourceImpact, ...]
    preview: DryRun | None = None
    request: RequestRecord | None = None


@dataclass(frozen=True)
class RolloutStart:
    """The upgrade requests a rollout queued, and the resources it left alone, with why."""

    version: str
    started: tuple[tuple[ResourceImpact, RequestRecord], ...]
    refused: tuple[tuple[ResourceImpact, str], ...]


class Upgrades:
    def __init__(self, service: Service, replanner: Replanner) -> None:
        self.service = service
        self.replanner = replanner

    def diff(self, name: str, old: str, new: str, actor: Actor) -> list[Change]:
        authorize(actor, "template.read")
        catalog = self.service.catalog
        return template_diff(catalog.get(name, old), catalog.get(name, new))

    def impact(self, name: str, version: str | None, actor: Actor) -> Impact:
        """Every live resource an older version of ``name`` made, re-planned under ``version``
        (default: the newest). Admins only: it reads every team's resources."""
        authorize(actor, "identity.manage")
        target = self._target(name, version)
        resources = self._live_resources(name, exclude_version=target.version)
        return self.replanner.assess(target, resources, self._requests(resources))

    def upgrade(
        self,
        resource_id: str,
        actor: Actor,
        *,
        to: str | None = None,
        dry_run: bool = False,
        allow_replace: bool = False,
    ) -> UpgradePlan:
        """Upgrade what one request made (this resource and its siblings) to ``to``. A change
        that destroys and re-creates a resource is refused unless ``allow_replace``."""
        made_by = self.service.resource(resource_id, actor).request_id
        # One upgrade of a request's resources submitted at a time: the second waits, then
        # sees the first (queued, or done) and is refused.
        with self._exclusive(f"goldenpath:upgrade:{made_by}"):
            return self._upgrade(resource_id, actor, to, dry_run, allow_replace)

    def _upgrade(
        self, resource_id: str, actor: Actor, to: str | None, dry_run: bool, allow_replace: bool
    ) -> UpgradePlan:
        resource = self.service.resource(resource_id, actor)
        authorize_or_hide(
            actor,
            "resource.destroy",
            Target(team=resource.owner_team),
            ResourceNotFound,
            resource_id,
        )
        if resource.state not in LIVE:
            raise Conflict(problem=f"resource {resource_id} is {resource.state}")
        target = self._target(resource.template_name, to)
        if target.version == resource.template_version:
            raise Conflict(
                problem=f"resource {resource_id} is already at {target.name}@{target.version}"
            )
        with self.service.database.begin() as conn:
            siblings = [
                r
                for r in queries.resources_of_request(conn, resource.request_id)
                if r.state in LIVE
            ]
            request = queries.get_request(conn, resource.request_id)
            running = _unfinished_upgrade(conn, resource.template_name, {r.id for r in siblings})
        if running is not None and not dry_run:
            raise Conflict(problem=f"resource {resource_id} is being upgraded by request {running}")
        impact = self.replanner.assess(target, siblings, {request.id: request}).resources
        _refuse_unless_in_place(impact, allow_replace=allow_replace)
        keeping = frozenset((r.kind, r.backend, r.name) for r in siblings)
        upgrade: dict[str, Any] = {
            "resources": {r.step_id: r.id for r in siblings},
            "changes": {r.step_id: i.outcome for r, i in _paired(siblings, impact)},
            "reasons": {r.step_id: list(i.reasons) for r, i in _paired(siblings, impact)},
            "from_versions": {r.step_id: r.template_version for r in siblings},
            "keeping": sorted(keeping),
            "allow_replace": allow_replace,
        }
        parameters = {**request.parameters, **unseal(self.service, request.secret_parameters)}
        if dry_run:
            preview = self.service.dry_run(
                target.name,
                parameters,
                actor,
                team=resource.owner_team,
                version=target.version,
                keeping=keeping,
            )
            return UpgradePlan(impact=impact, preview=preview)
        submitted = self.service.submit(
            target.name,
            parameters,
            actor,
            team=resource.owner_team,
            version=target.version,
            upgrade=upgrade,
        )
        return UpgradePlan(impact=impact, request=submitted)

    def start_rollout(
        self, name: str, version: str | None, actor: Actor, *, allow_replace: bool = False
    ) -> RolloutStart:
        """Admins: an upgrade request queued for every resource the impact shows changing in
        place (and replaced, when allowed) or unchanged; the worker runs them as it has room."""
        impact = self.impact(name, version, actor)
        wanted = ("none", "update", "replace") if allow_replace else ("none", "update")
        started: list[tuple[ResourceImpact, RequestRecord]] = []
        refused: list[tuple[ResourceImpact, str]] = []
        covered: set[str] = set()  # resources an upgrade of a sibling already changes
        for item in impact.resources:
            if item.resource_id in covered:
                continue
            if item.outcome not in wanted:
                refused.append((item, "; ".join(item.reasons) or item.outcome))
                continue
            try:
                plan = self.upgrade(
                    item.resource_id, actor, to=impact.version, allow_replace=allow_replace
                )
            except GoldenPathError as exc:
                refused.append((item, exc.message))
                continue
            assert plan.request is not None
            covered |= set(plan.request.plan["upgrade"]["resources"].values())
            started.append((item, plan.request))
        return RolloutStart(impact.version, tuple(started), tuple(refused))

    @contextmanager
    def _exclusive(self, key: str) -> Iterator[None]:
        """A session advisory lock on its own connection, for the length of the block."""
        with self.service.database.engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(hashtext(:k))"), {"k": key})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": key})
                conn.commit()

    def _target(self, name: str, version: str | None) -> Template:
        return self.service.catalog.get(name, version)

    def _live_resources(self, name: str, *, exclude_version: str) -> list[ResourceRecord]:
        columns = tables.resources.c
        query = sa.select(tables.resources).where(
            columns.template_name == name,
            columns.state.in_(LIVE),
            columns.template_version != exclude_version,
        )
        with self.service.database.begin() as conn:
            rows = conn.execute(query.order_by(columns.created_at)).mappings().all()
        return [queries.resource_record(row) for row in rows]

    def _requests(self, resources: Iterable[ResourceRecord]) -> dict[str, RequestRecord]:
        ids = sorted({r.request_id for r in resources})
        with self.service.database.begin() as conn:
            return queries.get_requests(conn, ids)


def _unfinished_upgrade(conn: sa.Connection, template: str, resource_ids: set[str]) -> str | None:
    """The id of an upgrade request not finished yet that changes one of these resources."""
    columns = tables.requests.c
    rows = conn.execute(
        sa.select(columns.id, columns.plan["upgrade"]["resources"].label("changes")).where(
            columns.template_name == template,
            columns.status.not_in(TERMINAL_STATUSES),
            columns.plan.has_key("upgrade"),
        )
    )
    for row in rows:
        if resource_ids & set((row.changes or {}).values()):
            return str(row.id)
    return None


def _paired(
    resources: list[ResourceRecord], impact: tuple[ResourceImpact, ...]
) -> list[tuple[ResourceRecord, ResourceImpact]]:
    by_id = {i.resource_id: i for i in impact}
    return [(r, by_id[r.id]) for r in resources]


def _refuse_unless_in_place(impact: Iterable[ResourceImpact], *, allow_replace: bool) -> None:
    for item in impact:
        reasons = "; ".join(item.reasons)
        if item.outcome == "denied":
            raise PolicyDenied(summary=f"the new version denies {item.name}: {reasons}")
        if item.outcome == "invalid":
            raise InvalidInput(field="parameters", rule=f"not valid for the new version: {reasons}")
        if item.outcome == "replace" and not allow_replace:
            raise Conflict(
                problem=f"upgrading {item.name} means destroying and re-creating it (its data "
                f"would be lost): {reasons}. Upgrade with allow_replace to do so"
            )


def unseal(service: Service, sealed: bytes | None) -> dict[str, Any]:
    return dict(service.box.open(sealed)) if sealed else {}
