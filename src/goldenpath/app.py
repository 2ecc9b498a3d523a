"""Composition root: settings → database, secret box, actions, templates, queue, runner, service."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from goldenpath.actions.registry import ActionRegistry, default_registry
from goldenpath.audit import AuditLog
from goldenpath.day2.service import Day2Actions
from goldenpath.errors import ConfigurationError
from goldenpath.execution.guardrails import Guardrails
from goldenpath.execution.queue import Periodic, Queue
from goldenpath.execution.runner import Runner
from goldenpath.identity.directory import Directory
from goldenpath.identity.oidc import OidcVerifier
from goldenpath.identity.throttle import Throttle
from goldenpath.insights.bill import BillInputs
from goldenpath.insights.service import Insights
from goldenpath.notifications import Webhook
from goldenpath.policy import PolicySet
from goldenpath.policy.prices import PriceBook
from goldenpath.secretbox import SecretBox, load_secret_box
from goldenpath.service import Service
from goldenpath.settings import BackendSettings, Settings
from goldenpath.store import audit_keys, queries
from goldenpath.store.action_state import SealedStateStore
from goldenpath.store.database import Database, libpq_conninfo, open_database
from goldenpath.templates.loader import TemplateCatalog, load_catalog
from goldenpath.upgrades.impact import Replanner
from goldenpath.upgrades.service import Upgrades

PLATFORM_POSTGRES_BACKEND = "postgres"
logger = logging.getLogger(__name__)


@dataclass
class Platform:
    settings: Settings
    database: Database
    box: SecretBox
    registry: ActionRegistry
    catalog: TemplateCatalog
    backends: dict[str, BackendSettings]
    runner: Runner
    queue: Queue
    guardrails: Guardrails
    service: Service
    directory: Directory
    audit: AuditLog
    insights: Insights
    upgrades: Upgrades
    day2: Day2Actions
    # slack_sdk's WebClient when a bot token is configured (the notifier and the face use it).
    slack_client: Any = None

    def close(self) -> None:
        self.database.dispose()
        if self.database.embedded is not None:
            self.database.embedded.stop()


def build_platform(settings: Settings, *, migrate: bool = True, templates: bool = True) -> Platform:
    """The platform. ``templates=False`` for a worker: it runs each request from the template
    snapshot stored with it and never reads the catalog, so it skips loading (parsing and
    checking) every golden path, the larger part of its start after the imports."""
    database = open_database(settings, migrate=migrate)
    box = load_secret_box(settings.secret_key, settings.data_dir)
    audit_keys.attach(database.engine, box.audit_keys)
    registry = default_registry()
    catalog = (
        load_catalog(settings.template_folders, registry.classes())
        if templates
        else TemplateCatalog(templates={})
    )
    backends = _backends(settings, database)
    _warn_of_clear_terraform_state(backends)
    action_state = SealedStateStore(database, box)
    guardrails = Guardrails(load_org_policies(settings), settings.teams)
    runner = Runner(
        database=database,
        registry=registry,
        backends=backends,
        box=box,
        guardrails=guardrails,
        data_dir=settings.data_dir.resolve(),
        state_store=action_state,
    )

    def destroy(resource_id: str) -> None:
        with database.begin() as conn:
            resource = queries.get_resource(conn, resource_id)
        if resource.state != "destroyed":
            runner.destroy_resource(resource, actor="worker")

    webhook = (
        Webhook(settings.webhook_url, settings.webhook_secret) if settings.webhook_url else None
    )

    audit_log = AuditLog(database, box.audit_keys, settings.data_dir)

    def expire() -> None:
        # Bound late: `service` is built just below.
        service.expire_approvals()
        service.expire_resources()
        service.warn_of_expiry()

    def sweep_drift() -> None:
        service.sweep_drift()

    def anchor() -> None:
        audit_log.checkpoint_if_moved()

    housekeeping = [
        Periodic("goldenpath.expire", settings.housekeeping_seconds, expire),
        Periodic("goldenpath.audit_anchor", settings.housekeeping_seconds, anchor),
        Periodic("goldenpath.drift_sweep", settings.drift_check_minutes * 60, sweep_drift),
    ]
    slack_client, notifier = _slack(settings, database)
    slack_sync = notifier.sync if notifier is not None else None
    queue = Queue(
        libpq_conninfo(database.url),
        runner.run,
        destroy,
        notify=webhook.deliver if webhook else None,
        slack_sync=slack_sync,
        slack_post=notifier.post if notifier is not None else None,
        periodic=housekeeping,
    )
    runner.destroy_later = queue.defer_destroy
    if slack_sync is not None:

        def progressed(request_id: str) -> None:
            with database.begin() as conn:
                queue.defer_slack_sync(conn, request_id)

        runner.progress = progressed
    service = Service(
        database=database,
        catalog=catalog,
        registry=registry,
        backends=backends,
        queue=queue,
        box=box,
        guardrails=guardrails,
        data_dir=settings.data_dir.resolve(),
        state_store=action_state,
        default_team=settings.default_team,
        approval_expiry=timedelta(hours=settings.approval_expiry_hours),
        webhooks=webhook is not None,
        runner=runner,
        prices=PriceBook(settings.data_dir.resolve()),
        expiry_warning=timedelta(days=settings.expiry_warning_days),
        team_channels=settings.slack_approval_channels,
        portal_url=settings.url,
    )
    directory = Directory(
        database=database,
        oidc=_oidc(settings),
        throttle=Throttle.of(
            settings.login_rate_limit, settings.address_rate_limit, settings.rate_limit_storage
        ),
    )
    return Platform(
        settings=settings,
        database=database,
        box=box,
        registry=registry,
        catalog=catalog,
        backends=backends,
        runner=runner,
        queue=queue,
        guardrails=guardrails,
        service=service,
        directory=directory,
        audit=audit_log,
        insights=Insights(database, catalog, _bill_inputs(settings)),
        upgrades=Upgrades(
            service,
            Replanner(
                database=database,
                registry=registry,
                backends=backends,
                guardrails=guardrails,
                unseal=lambda sealed: dict(box.open(sealed)) if sealed else {},
                state_store=action_state,
                data_dir=settings.data_dir.resolve(),
            ),
        ),
        day2=Day2Actions(service),
        slack_client=slack_client,
    )


def _warn_of_clear_terraform_state(backends: dict[str, BackendSettings]) -> None:
    for name, backend in backends.items():
        if backend.kind == "terraform" and backend.option("state", "platform") == "pg":
            logger.warning(
                "backend '%s' keeps Terraform state with Terraform's pg backend, in clear "
                "(sensitive outputs included); without 'state: pg' the platform seals it in its "
                "own database (docs/terraform.md)",
                name,
            )


def _slack(settings: Settings, database: Database) -> tuple[Any, Any]:
    """Slack's Web API client and the notifier (the jobs that keep requests' Slack messages up
    to date and post to teams' channels), when a bot token is configured."""
    if not settings.slack_bot_token:
        return None, None
    from goldenpath.slack.notifier import SlackNotifier
    from goldenpath.slack.webapi import web_client

    client = web_client(settings.slack_bot_token, settings.slack_api_url)
    notifier = SlackNotifier(database, client, settings.url, settings.slack_approval_channels)
    return client, notifier


def _bill_inputs(settings: Settings) -> BillInputs:
    return BillInputs(
        hourly_cost=settings.insights_hourly_cost,
        currency=settings.insights_currency,
        hours_per_day=settings.insights_hours_per_day,
        minutes_per_ticket=settings.insights_minutes_per_ticket,
        ops_headcount=settings.insights_ops_headcount,
    )


def _oidc(settings: Settings) -> OidcVerifier | None:
    if not settings.oidc_issuer:
        return None
    if not settings.oidc_jwks_url:
        raise ConfigurationError(problem="GOLDENPATH_OIDC_JWKS_URL is needed with an OIDC issuer")
    return OidcVerifier(
        issuer=settings.oidc_issuer,
        audience=settings.oidc_audience,
        jwks_url=settings.oidc_jwks_url,
        user_claim=settings.oidc_user_claim,
        groups_claim=settings.oidc_groups_claim,
    )


def load_org_policies(settings: Settings) -> PolicySet:
    """The org-wide guardrails: the starter library and the configured policy folder."""
    config: dict[str, object] = {}
    if settings.allowed_regions is not None:
        config["allowed_regions"] = list(settings.allowed_regions)
    data = {"goldenpath": {"config": config}} if config else None
    return PolicySet.from_paths(settings.policy_folders, data=data)


def _backends(settings: Settings, database: Database) -> dict[str, BackendSettings]:
    """Configured backends, plus two that need nothing outside the platform: its own
    PostgreSQL as ``postgres``, and local git repositories it serves itself as ``git``."""
    backends = dict(settings.backends)
    if "git" not in backends:
        backends["git"] = BackendSettings(
            kind="git", provider="local", public_url=settings.url.rstrip("/") + "/git"
        )
    if PLATFORM_POSTGRES_BACKEND not in backends:
        url: sa.URL = database.url
        embedded = database.embedded
        if embedded is None and not settings.sandbox:
            logger.warning(
                "no 'postgres' backend is configured: developers' databases are created on the "
                "platform's own PostgreSQL server; in production give them a server of their own "
                "(backends.postgres in goldenpath.yaml, see docs/golden-paths.md)"
            )
        backends[PLATFORM_POSTGRES_BACKEND] = BackendSettings(
            kind="postgres",
            dsn=libpq_conninfo(url),
            public_host="127.0.0.1" if embedded else None,
            public_port=embedded.port if embedded else None,
            platform_server=True,
        )
    return backends
