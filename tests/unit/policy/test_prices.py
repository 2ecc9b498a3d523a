"""The price table: shipped with its source and date, estimates from it, and an admin's import
that is checked field by field and changes nothing when wrong."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from goldenpath.errors import InvalidInputs
from goldenpath.policy.prices import SHIPPED, PriceBook, shipped_table


def described(**overrides: Any) -> dict[str, Any]:
    base = {"provider": "aws", "kind": "compute.instance", "region": "us-east-1", "count": 1}
    return base | overrides


def test_the_shipped_table_states_its_source_and_date() -> None:
    table = shipped_table()
    assert "aws.amazon.com/ec2/pricing" in table.source
    assert table.as_of == "2024-11-01"
    assert table.hours_per_month == 730


@pytest.mark.parametrize(
    ("overrides", "monthly"),
    [
        ({"size": "m5.4xlarge"}, 560.64),
        ({"size": "t3.micro"}, 7.59),
        ({"size": "m5.4xlarge", "region": "eu-west-1"}, 624.88),
        ({"kind": "compute.autoscaling_group", "size": "t3.small", "count": 3}, 45.55),
        ({"kind": "database.instance", "size": "db.t3.micro", "engine": "postgres"}, 13.14),
        ({"kind": "database.instance", "size": "db.t3.micro", "engine": "mariadb"}, 12.41),
        ({"kind": "cache.cluster", "size": "cache.t3.micro", "count": 2}, 24.82),
    ],
)
def test_monthly_estimates(overrides: dict[str, Any], monthly: float) -> None:
    assert shipped_table().monthly(described(**overrides)) == monthly


@pytest.mark.parametrize(
    "overrides",
    [
        {"size": "unknown"},
        {"size": "m5.4xlarge", "region": "ap-south-1"},
        {"size": "m5.4xlarge", "region": "unknown"},
        {"size": "m5.4xlarge", "count": "unknown"},
        {"size": "e2-medium", "provider": "google"},
        {"kind": "database.instance", "size": "db.t3.micro", "engine": "aurora-postgresql"},
        {"kind": "storage.bucket", "size": None},
    ],
)
def test_what_the_table_cannot_price_is_none(overrides: dict[str, Any]) -> None:
    assert shipped_table().monthly(described(**overrides)) is None


def write(path: Path, **changes: Any) -> Path:
    document = json.loads(SHIPPED.read_text())
    document.update(changes)
    path.write_text(json.dumps(document))
    return path


def test_an_imported_table_is_used_and_read_again_when_it_changes(tmp_path: Path) -> None:
    book = PriceBook(tmp_path)
    assert book.current().origin == "shipped"
    table = book.import_file(write(tmp_path / "mine.json", as_of="2026-12-01"))
    assert table.as_of == "2026-12-01"
    assert book.current().as_of == "2026-12-01"
    assert book.current().origin == str(tmp_path / "price-table.json")

    document = json.loads((tmp_path / "price-table.json").read_text())
    document["ec2"]["us-east-1"]["m5.4xlarge"] = 1.0
    (tmp_path / "price-table.json").write_text(json.dumps(document))
    stamp = (tmp_path / "price-table.json").stat().st_mtime_ns + 1_000_000
    os.utime(tmp_path / "price-table.json", ns=(stamp, stamp))
    assert book.current().monthly(described(size="m5.4xlarge")) == 730.0


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"currency": "EUR"}, "currency", "input should be 'USD'"),
        ({"as_of": "last week"}, "as_of", "input should be a valid date"),
        ({"hours_per_month": 0}, "hours_per_month", "greater than 0"),
        ({"ec2": {"us-east-1": {"t3.micro": -1}}}, "ec2.us-east-1.t3.micro", "greater than 0"),
        ({"ec2": {"Mars": {"t3.micro": 1}}}, "ec2.Mars", "'Mars' is not a valid name"),
        ({"rds": {"us-east-1": {"oracle": {}}}}, "rds.us-east-1.oracle", "input should be"),
        ({"gpu": {}}, "gpu", "is not a field of a price table"),
        ({"source": ""}, "source", "at least 1 character"),
    ],
)
def test_a_bad_table_is_refused_naming_the_field_and_changes_nothing(
    tmp_path: Path, changes: dict[str, Any], field: str, rule: str
) -> None:
    book = PriceBook(tmp_path)
    with pytest.raises(InvalidInputs) as refused:
        book.import_file(write(tmp_path / "bad.json", **changes))
    found = {(e["field"], e["rule"]) for e in refused.value.details["errors"]}
    assert any(f == field and rule in r for f, r in found), found
    assert not (tmp_path / "price-table.json").exists()
    assert book.current().origin == "shipped"


def test_a_file_that_is_not_json_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{prices")
    with pytest.raises(InvalidInputs, match="is not JSON"):
        PriceBook(tmp_path).import_file(tmp_path / "bad.json")


def test_a_step_books_what_all_its_resources_cost() -> None:
    from goldenpath.execution.steps import planned_cost

    class Stored:
        plan = {
            "resources": [
                {"step": "fleet", "monthly_cost_usd": None},
                {"step": "fleet", "monthly_cost_usd": 624.88},
                {"step": "fleet", "monthly_cost_usd": 624.88},
                {"step": "db", "monthly_cost_usd": None},
            ]
        }

    assert planned_cost(Stored(), "fleet", None) == 1249.76  # type: ignore[arg-type]
    assert planned_cost(Stored(), "db", 15.0) == 15.0  # type: ignore[arg-type]
