"""The ``terraform`` backend kind: which binary runs, and where state lives.

```yaml
backends:
  terraform:                 # the default name; may be left out entirely
    kind: terraform
    binary: terraform        # or tofu, or an absolute path to either; found on PATH
    state: platform          # platform (default), pg or remote
    conn_str: postgresql://tf@db.internal/tfstate   # pg: where state lives; platform: where
                             # state kept by the pg backend before is imported from (once)
    backend_config: {}       # remote only: -backend-config key=value pairs
    env: {}                  # extra environment, e.g. a provider's credentials
```

``platform``: the platform serves Terraform's ``http`` backend itself and keeps the state in its
own database, sealed with its key (see docs/terraform.md). ``pg``: Terraform's ``pg`` backend,
state in clear on the server given. ``remote``: whatever backend the module declares.

State kept by the ``pg`` backend before ``platform`` was the default (on ``conn_str``, else the
built-in ``postgres`` backend's server) is imported into the platform on first use and its clear
copy dropped. ``PlanContext.backend()`` checks the kind, so that default is read from
``backends["postgres"]`` directly.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from goldenpath.errors import BackendNotFound, BackendUnavailable, ConfigurationError
from goldenpath.settings import BackendSettings

DEFAULT_BACKEND = "terraform"
PLATFORM_POSTGRES = "postgres"
BINARIES = frozenset({"terraform", "tofu"})
STATE_KINDS = frozenset({"platform", "pg", "remote"})


@dataclass(frozen=True)
class TerraformBackend:
    name: str
    binary: Path
    state: str
    # pg: where the state lives; platform: where the pg backend's old state is imported from.
    conn_str: str | None = None
    backend_config: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)


def resolve_backend(backends: Mapping[str, BackendSettings], name: str) -> TerraformBackend:
    """The named backend's settings, checked; the default one may be absent from the config."""
    settings = backends.get(name)
    if settings is None:
        if name != DEFAULT_BACKEND:
            raise BackendNotFound(backend=name, kind="terraform")
        settings = BackendSettings(kind="terraform")
    elif settings.kind not in ("terraform", "*"):
        raise BackendNotFound(backend=name, kind="terraform")
    state = str(settings.option("state", "platform"))
    if state not in STATE_KINDS:
        raise ConfigurationError(
            problem=f"backend '{name}': state must be one of platform, pg, remote, not '{state}'"
        )
    conn_str: str | None = None
    if state in ("platform", "pg"):
        conn_str = settings.option("conn_str") or settings.dsn or _platform_dsn(backends)
    # Kind "*" is `templates verify`'s stand-in for every backend: plans run on empty state.
    if state == "pg" and not conn_str and settings.kind != "*":
        raise BackendUnavailable(
            backend=name,
            problem="no PostgreSQL for Terraform state: set 'conn_str' on the backend",
        )
    return TerraformBackend(
        name=name,
        binary=_binary(name, str(settings.option("binary", "terraform"))),
        state=state,
        conn_str=conn_str,
        backend_config=_strings(name, "backend_config", settings.option("backend_config", {})),
        env=_strings(name, "env", settings.option("env", {})),
    )


def _platform_dsn(backends: Mapping[str, BackendSettings]) -> str | None:
    platform = backends.get(PLATFORM_POSTGRES)
    if platform is None or platform.kind != "postgres":
        return None
    return platform.dsn


def _binary(backend: str, configured: str) -> Path:
    path = Path(configured)
    if path.name not in BINARIES:
        raise ConfigurationError(
            problem=f"backend '{backend}': binary must be terraform or tofu, not '{configured}'"
        )
    found = shutil.which(configured)
    if found is None:
        raise BackendUnavailable(
            backend=backend,
            problem=f"'{configured}' was not found on PATH; install Terraform (or OpenTofu) on "
            "the workers, or set the backend's 'binary' option",
        )
    return Path(found)


def _strings(backend: str, option: str, value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ConfigurationError(problem=f"backend '{backend}': '{option}' must be a mapping")
    return {str(k): str(v) for k, v in value.items()}
