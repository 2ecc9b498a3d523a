"""The ``aws`` backend: boto3 clients built from its settings, and botocore errors translated.

A backend looks like this in the platform settings::

    backends:
      aws:
        kind: aws
        region: eu-west-1                 # default region for what the actions create
        allowed_regions: [eu-west-1]      # optional: refuse any other region
        endpoint_url: http://127.0.0.1:5000   # optional: moto, LocalStack, ...
        access_key_id: ...                # optional: else boto3's default credential chain
        secret_access_key: ...
        session_token: ...                # optional

Every botocore exception is translated here, once, by `aws_errors`; actions only look at the
error codes they expect (``NoSuchBucket``) and let everything else through it.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    WaiterError,
)
from pydantic import Field, field_validator

from goldenpath.actions.base import ActionInputs, PlanContext
from goldenpath.errors import (
    ActionError,
    BackendUnavailable,
    ConfigurationError,
    GoldenPathError,
)

if TYPE_CHECKING:
    import boto3
    from botocore.config import Config
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_s3 import S3Client

BACKEND_KIND = "aws"
BACKEND_NAME = r"^[a-z][a-z0-9_-]{0,62}$"
# ASCII digits only: ``\d`` would also match other scripts' digits.
REGION = r"^[a-z]{2}(-[a-z]+)+-[0-9]$"
MARKER_TAG = "goldenpath:resource"
MAX_USER_TAGS = 40
_TAG_TEXT = re.compile(r"^[\w .:/=+\-@]*$")
_CREDENTIAL_ERRORS = frozenset(
    {
        "AuthFailure",
        "ExpiredToken",
        "InvalidAccessKeyId",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
    }
)


def validate_tags(tags: Mapping[str, str]) -> Mapping[str, str]:
    """AWS tag rules, plus: the ``aws:`` and ``goldenpath:`` prefixes are reserved."""
    if len(tags) > MAX_USER_TAGS:
        raise ValueError(f"at most {MAX_USER_TAGS} tags are allowed")
    for key, value in tags.items():
        if not 1 <= len(key) <= 128 or not _TAG_TEXT.match(key):
            raise ValueError(
                f"tag key {key!r} must be 1 to 128 letters, digits, spaces or . : / = + - @ _"
            )
        if key.lower().startswith(("aws:", "goldenpath:")):
            raise ValueError(f"tag key {key!r} uses a reserved prefix (aws: or goldenpath:)")
        if len(value) > 256 or not _TAG_TEXT.match(value):
            raise ValueError(
                f"tag {key!r} value must be at most 256 letters, digits, spaces or . : / = + - @ _"
            )
    return tags


class AwsInputs(ActionInputs):
    """Inputs every AWS action shares."""

    backend: str = Field(default="aws", pattern=BACKEND_NAME)
    region: str | None = Field(
        default=None, pattern=REGION, description="Defaults to the backend's region."
    )
    tags: dict[str, str] = Field(
        default_factory=dict,
        description="Extra tags; 'cost-center' is used for cost allocation.",
    )

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        validate_tags(value)
        return value


def platform_tags(ctx: PlanContext[Any], tags: Mapping[str, str]) -> dict[str, str]:
    """The template's tags, then those the platform sets and no template overrides."""
    return {
        **tags,
        "owner": ctx.owner_team,
        "cost-center": tags.get("cost-center") or "unassigned",
        "golden-path": ctx.template_name,
    }


def planned_region(
    ctx: PlanContext[Any], name: str, region: str | None, *, existing: bool = False
) -> str | None:
    """The region asked for, else the backend's; None when neither says (apply then refuses).

    Raises when the backend is not configured, or does not allow the region.
    """
    settings = ctx.backend(BACKEND_KIND, name)
    chosen: str | None = region or settings.option("region")
    allowed = _region_list(settings.option("allowed_regions"))
    if chosen and allowed and chosen not in allowed and not existing:
        raise ActionError(
            problem=f"region '{chosen}' is not allowed on backend '{name}' "
            f"(allowed: {', '.join(allowed)})"
        )
    return chosen


def _region_list(value: Any) -> list[str]:
    """``allowed_regions`` from YAML is a list; from an environment variable, a string
    (a JSON list, or names separated by commas or spaces)."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = json.loads(text) if text.startswith("[") else re.split(r"[\s,]+", text)
        except ValueError as exc:
            raise ConfigurationError(problem=f"allowed_regions is not a list: {exc}") from exc
    return [str(r) for r in value or () if r]


# A boto3 session parses the service models on its first client: 150-550 ms. Sessions are kept
# per credentials and region; a session is not thread-safe, so clients are made under a lock
# (the clients themselves are). boto3 itself is imported then too: a worker starts without it.
_SESSION_LOCK = threading.Lock()


@functools.lru_cache(maxsize=32)
def _session(
    access_key: str | None, secret_key: str | None, token: str | None, region: str
) -> boto3.session.Session:
    import boto3

    with _SESSION_LOCK:
        return boto3.session.Session(
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            aws_session_token=token,
            region_name=region,
        )


@dataclass(frozen=True)
class AwsBackend:
    """One configured ``aws`` backend and the region an action works in."""

    name: str
    region: str
    endpoint_url: str | None
    _session: boto3.session.Session

    @classmethod
    def for_inputs(
        cls, ctx: PlanContext[Any], name: str, region: str | None, *, existing: bool = False
    ) -> AwsBackend:
        """The backend ``name`` in ``region`` (default: the backend's own region).

        ``existing``: the region of something already made, which stays reachable for
        destroy and observe even if the backend's ``allowed_regions`` changed since.
        """
        chosen = planned_region(ctx, name, region, existing=existing)
        if not chosen:
            raise ActionError(
                problem=f"no region given and backend '{name}' has no default 'region'"
            )
        settings = ctx.backend(BACKEND_KIND, name)
        access_key = settings.option("access_key_id")
        session = _session(
            access_key,
            settings.option("secret_access_key") if access_key else None,
            settings.option("session_token") if access_key else None,
            str(chosen),
        )
        return cls(
            name=name,
            region=str(chosen),
            endpoint_url=settings.option("endpoint_url"),
            _session=session,
        )

    def s3(self) -> S3Client:
        from botocore.config import Config

        config = self._config()
        if self.endpoint_url:
            # Custom endpoints (moto, LocalStack, MinIO) rarely have DNS for bucket sub-domains.
            config = config.merge(Config(s3={"addressing_style": "path"}))
        with _SESSION_LOCK:
            return self._session.client("s3", endpoint_url=self.endpoint_url, config=config)

    def ec2(self) -> EC2Client:
        with _SESSION_LOCK:
            return self._session.client(
                "ec2", endpoint_url=self.endpoint_url, config=self._config()
            )

    def _config(self) -> Config:
        from botocore.config import Config

        return Config(
            connect_timeout=10,
            read_timeout=60,
            retries={"mode": "standard", "max_attempts": 4},
        )


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextmanager
def aws_errors(backend: str, doing: str) -> Iterator[None]:
    """Translate botocore errors into the platform's; ``doing`` says what was being attempted."""
    try:
        yield
    except GoldenPathError:
        raise
    except ClientError as exc:
        code = error_code(exc)
        message = exc.response.get("Error", {}).get("Message", "") or str(exc)
        if code in _CREDENTIAL_ERRORS:
            raise BackendUnavailable(
                backend=backend, problem=f"the credentials were refused ({code}): {message}"
            ) from exc
        raise ActionError(problem=f"{doing} failed: {code}: {message}") from exc
    except (NoCredentialsError, PartialCredentialsError) as exc:
        raise BackendUnavailable(
            backend=backend,
            problem="no AWS credentials: set access_key_id and secret_access_key on the "
            "backend, or configure boto3's default credential chain",
        ) from exc
    except (EndpointConnectionError, ConnectionError) as exc:
        raise BackendUnavailable(backend=backend, problem=str(exc)) from exc
    except WaiterError as exc:
        raise ActionError(problem=f"{doing} did not finish: {exc}") from exc
    except BotoCoreError as exc:
        raise BackendUnavailable(backend=backend, problem=f"{doing} failed: {exc}") from exc
