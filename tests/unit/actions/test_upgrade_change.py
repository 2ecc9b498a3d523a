"""What a new version's planned config means for a resource: none, update or replace."""

from __future__ import annotations

from typing import Any

import pytest

from goldenpath.actions.postgres.database import PostgresDatabase
from goldenpath.actions.terraform.action import TerraformApply


def plan(changes: dict[str, str]) -> dict[str, Any]:
    return {"module": "module", "plan": {"changes": changes}}


@pytest.mark.parametrize(
    ("changes", "outcome", "last_reason"),
    [
        ({}, "none", None),
        ({"terraform_data.a": "change"}, "update", "terraform_data.a: change"),
        ({"terraform_data.b": "add"}, "update", "terraform_data.b: add"),
        (
            {"terraform_data.a": "destroy", "terraform_data.b": "add"},
            "replace",
            "terraform plan destroys terraform_data.a: its data is lost",
        ),
        (
            {"terraform_data.a": "replace", "terraform_data.c": "change"},
            "replace",
            "terraform plan destroys terraform_data.a: its data is lost",
        ),
    ],
)
def test_terraform_judges_by_its_plan(
    changes: dict[str, str], outcome: str, last_reason: str | None
) -> None:
    # The recorded config is what the first apply planned: it never counts.
    found = TerraformApply().upgrade_change(plan({"terraform_data.a": "add"}), plan(changes))
    assert found.outcome == outcome
    assert (found.reasons[-1] if found.reasons else None) == last_reason


@pytest.mark.parametrize(
    ("recorded", "planned", "outcome", "reasons"),
    [
        ({"connection_limit": 10}, {"connection_limit": 10}, "none", ()),
        (
            {"connection_limit": 10},
            {"connection_limit": 15},
            "update",
            ("connection_limit: 10 -> 15",),
        ),
        (
            {"connection_limit": 10},
            {"connection_limit": 10, "encoding": "UTF8"},
            "replace",
            (
                "encoding: None -> 'UTF8'",
                "postgres:database cannot change encoding in place",
            ),
        ),
    ],
)
def test_native_actions_judge_by_their_updatable_fields(
    recorded: dict[str, Any], planned: dict[str, Any], outcome: str, reasons: tuple[str, ...]
) -> None:
    found = PostgresDatabase().upgrade_change(recorded, planned)
    assert (found.outcome, found.reasons) == (outcome, reasons)
