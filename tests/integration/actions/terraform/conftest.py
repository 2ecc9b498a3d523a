"""A migrated platform database and its sealed state store for the terraform:apply tests, and
operators' hand-run Terraform sessions, closed at the end of each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from goldenpath.actions.state_store import StateStore
from goldenpath.secretbox import load_secret_box
from goldenpath.settings import Settings
from goldenpath.store.action_state import SealedStateStore
from goldenpath.store.database import open_database
from tests.integration.actions.terraform.terraform_support import HandTerraform

MakeHand = Callable[[Path, str], HandTerraform]


@pytest.fixture
def state_store(database_url: str, tmp_path: Path) -> Iterator[SealedStateStore]:
    settings = Settings(database_url=database_url, data_dir=tmp_path / "data")
    database = open_database(settings)
    yield SealedStateStore(database, load_secret_box(None, settings.data_dir))
    database.dispose()


@pytest.fixture
def open_hand(tmp_path: Path) -> Iterator[Callable[[Path, str, StateStore], HandTerraform]]:
    """``open_hand(module, workspace, store)``: an operator's Terraform on the sealed state."""
    opened: list[HandTerraform] = []

    def make(module: Path, workspace: str, store: StateStore) -> HandTerraform:
        folder = tmp_path / f"hand-{len(opened)}"
        operator = HandTerraform(folder, module, workspace, store)
        opened.append(operator)
        return operator

    yield make
    for operator in opened:
        operator.close()
