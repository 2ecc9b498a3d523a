"""Action contexts and raw clients on the moto server (the server fixture is in tests/conftest)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from goldenpath.actions.base import ActionInputs, Context
from goldenpath.actions.testing import MemoryJournal
from goldenpath.settings import BackendSettings

from .moto_support import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY


@pytest.fixture(scope="module")
def raw_client(moto_endpoint: str) -> Callable[..., Any]:
    """A plain boto3 client on the moto server, for checks and out-of-band changes."""

    # ``service`` is Any: boto3-stubs overload ``client`` on each service's literal name.
    def make(service: Any, region: str = REGION) -> Any:
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=moto_endpoint,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
        )

    return make


@pytest.fixture
def journal() -> MemoryJournal:
    return MemoryJournal()


@pytest.fixture
def make_context(aws_backend: BackendSettings) -> Callable[..., Context[Any]]:
    def make(
        inputs: ActionInputs,
        *,
        resource_id: str = "r-1",
        journal: MemoryJournal | None = None,
        **backend: Any,
    ) -> Context[Any]:
        settings = aws_backend.model_copy(update=backend) if backend else aws_backend
        return Context(
            inputs=inputs,
            backends={"aws": settings},
            owner_team="payments",
            requested_by="alice",
            template_name="test-template",
            request_id="req-1",
            step_id="step",
            resource_id=resource_id,
            journal=journal or MemoryJournal(),
        )

    return make


@pytest.fixture
def unique() -> Callable[[str], str]:
    def make(stem: str) -> str:
        return f"gpt-{stem}-{secrets.token_hex(4)}"

    return make
