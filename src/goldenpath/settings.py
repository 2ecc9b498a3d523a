"""Platform settings: environment variables (prefix ``GOLDENPATH_``) over an optional YAML file.

The YAML file is the first of: the server commands' ``--config FILE`` (see `use_config_file`),
``$GOLDENPATH_CONFIG``, ``./goldenpath.yaml``, ``/etc/goldenpath/goldenpath.yaml``. A file named
explicitly (the first two) must exist; the last two are read when present. Environment variables
win over the file; nested keys use ``__`` (for example ``GOLDENPATH_BACKENDS__ANALYTICS__DSN``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from goldenpath.errors import ConfigurationError

STARTER_DIR = Path(__file__).parent / "starter"
LOCAL_CONFIG_FILE = Path("goldenpath.yaml")
SYSTEM_CONFIG_FILE = Path("/etc/goldenpath/goldenpath.yaml")
DEFAULT_BACKEND = "default"


class BackendSettings(BaseModel):
    """A configured target with its credentials; only the platform sees it."""

    model_config = ConfigDict(extra="allow")

    kind: str = Field(description="Which action family uses it, e.g. 'postgres'.")
    dsn: str | None = Field(default=None, description="Admin connection string, for SQL servers.")
    public_host: str | None = Field(
        default=None, description="Host name developers use to reach what is created here."
    )
    public_port: int | None = Field(default=None, description="Port developers use.")

    @property
    def is_placeholder(self) -> bool:
        """A stand-in used by `templates verify`, which judges templates without any real
        backend: `plan()` must then skip checks that need the backend's own settings."""
        return self.kind == "*"

    def option(self, name: str, default: Any = None) -> Any:
        """An extra, family-specific setting (``extra="allow"`` keeps them)."""
        extra = self.model_extra or {}
        return extra.get(name, default)


class TeamSettings(BaseModel):
    """Per-team facts the guardrails use until teams live in the database."""

    model_config = ConfigDict(extra="forbid")

    monthly_budget_usd: float | None = Field(default=None, ge=0)


class Settings(BaseSettings):
    """Everything the platform reads at start-up."""

    model_config = SettingsConfigDict(
        env_prefix="GOLDENPATH_", env_nested_delimiter="__", extra="forbid"
    )

    data_dir: Path = Field(
        default=Path(".goldenpath"),
        description="Where the embedded PostgreSQL, keys and workspaces live.",
    )
    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL of the platform database; empty starts an embedded server.",
    )
    embedded_port: int = Field(
        default=54329, ge=1024, le=65535, description="TCP port of the embedded PostgreSQL."
    )
    template_dirs: Annotated[list[Path], NoDecode] = Field(
        default_factory=list,
        description="Golden path folders (in the environment: separated by ':').",
    )
    load_starter: bool = Field(default=True, description="Load the starter golden paths.")
    sandbox: bool = Field(
        default=False,
        description="Run the starter paths on local stand-ins (moto as AWS, local repositories "
        "and CI secrets, the platform's own PostgreSQL, Redis/MariaDB found on this machine); "
        "`goldenpath up` only, labelled as a sandbox everywhere.",
    )
    policy_dir: Path | None = Field(default=None, description="Org-wide guardrails folder.")
    backends: dict[str, BackendSettings] = Field(default_factory=dict)
    teams: dict[str, TeamSettings] = Field(default_factory=dict)
    allowed_regions: list[str] | None = Field(
        default=None, description="Regions the regions guardrail allows (else its default)."
    )
    host: str = Field(default="127.0.0.1", description="Address the API listens on.")
    port: int = Field(default=8000, ge=0, le=65535, description="Port the API listens on.")
    url: str = Field(default="http://127.0.0.1:8000", description="API URL the CLI talks to.")
    secret_key: str | None = Field(
        default=None,
        description="Base64 AES-256 key for secrets at rest; generated in data_dir if empty.",
    )
    worker_concurrency: int = Field(
        default=16,
        ge=1,
        le=64,
        description="Jobs a worker runs at once (steps mostly wait on I/O); each holds up to "
        "two of the platform database's pooled connections.",
    )
    worker_processes: int = Field(
        default=1,
        ge=0,
        le=16,
        description="Worker processes `goldenpath up` runs beside its API (each with "
        "worker_concurrency jobs at once); 0 runs the worker in the API's process, on a thread "
        "of its own: less memory, and the API and the jobs then share one core.",
    )
    worker_heartbeat_seconds: float = Field(default=2.0, gt=0)
    stalled_after_seconds: float = Field(
        default=10.0, gt=0, description="A worker silent this long is presumed dead."
    )
    shutdown_grace_seconds: float = Field(
        default=30.0,
        ge=0,
        description="On SIGTERM, how long in-flight HTTP requests may take to finish (API), and "
        "running jobs before the worker hands them back to the queue and exits (worker).",
    )
    housekeeping_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How often the cluster expires approvals and resources and anchors the "
        "audit log (one schedule, whichever worker is free runs it).",
    )
    login_rate_limit: str = Field(
        default="10/minute",
        description="Portal sign-ins allowed per user name, and failed token authentications "
        "per token, in a window ('10/minute', '5 per 30 seconds'; the limits library's syntax).",
    )
    address_rate_limit: str = Field(
        default="30/minute",
        description="Sign-ins, and failed token authentications, allowed per client address.",
    )
    rate_limit_storage: str = Field(
        default="memory://",
        description="Where the limits' counters live: memory:// (one process), or "
        "redis://host:6379 so that several API processes share them.",
    )
    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="The largest request body the API and the portal accept (bytes); larger "
        "ones are refused with 413. Ticket imports and git pushes have their own, larger limits.",
    )
    default_team: str = Field(default="default", description="Owner team when none is given.")
    approval_expiry_hours: float = Field(
        default=72, gt=0, description="A request waiting this long for approval is rejected."
    )
    expiry_warning_days: float = Field(
        default=3,
        ge=0,
        le=365,
        description="Warn a resource's owners (webhook, Slack, portal banner) this many days "
        "before its TTL ends, once per expiry; 0: no warnings.",
    )
    drift_check_minutes: float = Field(
        default=60,
        gt=0,
        description="How often the worker compares live resources with the catalog.",
    )
    webhook_url: str | None = Field(
        default=None, description="Where announcements of approvals and decisions are POSTed."
    )
    webhook_secret: str | None = Field(default=None, description="HMAC key signing webhooks.")
    bootstrap_token: str | None = Field(
        default=None,
        description="The first admin's API token (gp_<12 id chars>_<43 secret chars>); "
        "generated and printed once when empty.",
    )
    insights_hourly_cost: float = Field(
        default=75.0, ge=0, description="Loaded cost of an engineer's hour (insights bill)."
    )
    insights_currency: str = Field(default="USD", max_length=10)
    insights_hours_per_day: float = Field(default=8.0, gt=0, le=24)
    insights_minutes_per_ticket: float = Field(
        default=30.0, ge=0, description="Handling effort per ticket when exports have no worklog."
    )
    insights_ops_headcount: int = Field(default=3, ge=0, description="People servicing tickets.")
    oidc_issuer: str | None = Field(default=None, description="OIDC issuer (enables JWT logins).")
    oidc_audience: str | None = Field(default=None, description="Expected JWT audience.")
    oidc_jwks_url: str | None = Field(default=None, description="Where the issuer's keys are.")
    oidc_user_claim: str = Field(default="preferred_username")
    oidc_groups_claim: str = Field(
        default="groups", description="Claim listing 'team' or 'team:role' memberships."
    )

    slack_signing_secret: str | None = Field(
        default=None,
        description="The Slack app's signing secret; without it the Slack endpoint is off (404).",
    )
    slack_bot_token: str | None = Field(default=None, description="The Slack app's bot token.")
    slack_api_url: str = Field(
        default="https://slack.com/api/",
        description="Slack Web API base URL (a Slack-compatible server, or a test server).",
    )
    slack_approval_channels: dict[str, str] = Field(
        default_factory=dict,
        description="Team name -> Slack channel id where its approvals are posted (else DMs).",
    )
    slack_email_domain: str | None = Field(
        default=None,
        description="Map a Slack user with a confirmed email <name>@<this domain> to the "
        "platform user <name> (or one named by the whole email); off when empty.",
    )

    @field_validator("template_dirs", mode="before")
    @classmethod
    def _split_paths(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value.lstrip().startswith("["):
                return json.loads(value)
            return [p for p in value.split(os.pathsep) if p]
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file_path = config_file()
        if config_file_path is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=config_file_path))
        return tuple(sources)

    @property
    def template_folders(self) -> list[Path]:
        folders = [STARTER_DIR / "templates"] if self.load_starter else []
        return folders + list(self.template_dirs)

    @property
    def policy_folders(self) -> list[Path]:
        folders = [STARTER_DIR / "policies"] if self.load_starter else []
        return folders + ([self.policy_dir] if self.policy_dir else [])


def use_config_file(path: Path | None) -> None:
    """Make ``path`` (a ``--config FILE`` option) the settings file of this process.

    It is handed on as ``GOLDENPATH_CONFIG``, so the API's worker processes, which load the
    settings again, read the same file; it therefore wins over a ``GOLDENPATH_CONFIG`` already set.
    """
    if path is None:
        return
    if not path.is_file():
        raise ConfigurationError(problem=f"--config {path}: no such file")
    _check_yaml(path)
    os.environ["GOLDENPATH_CONFIG"] = str(path.resolve())


def config_file() -> Path | None:
    """The settings file this process reads, or None (see the module docstring for the order)."""
    explicit = os.environ.get("GOLDENPATH_CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigurationError(problem=f"GOLDENPATH_CONFIG={explicit} is not a file")
        _check_yaml(path)
        return path
    for found in (LOCAL_CONFIG_FILE, SYSTEM_CONFIG_FILE):
        if found.is_file():
            _check_yaml(found)
            return found
    return None


def _check_yaml(path: Path) -> None:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigurationError(problem=f"{path} is not valid YAML: {exc}") from exc
    if loaded is not None and not isinstance(loaded, dict):
        raise ConfigurationError(problem=f"{path} must hold a mapping of settings")


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, translating validation errors into a `ConfigurationError`."""
    from pydantic import ValidationError
    from pydantic_settings.exceptions import SettingsError

    try:
        return Settings(**overrides)
    except SettingsError as exc:
        raise ConfigurationError(problem=str(exc)) from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigurationError(problem=problems) from exc
