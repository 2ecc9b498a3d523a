"""Insights end to end on the real PostgreSQL: imports of each export format, the per-type
medians by hand, idempotent re-import, bad files, overrides, drafts, and the bill from real
`postgres-database` requests run by a real worker."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from goldenpath.app import Platform
from goldenpath.errors import AccessDenied, InvalidInput, InvalidTicketFile, TicketNotFound
from goldenpath.insights.bill import BillInputs
from goldenpath.insights.service import Report
from goldenpath.insights.statistics import TicketType
from tests.conftest import (
    ADMIN,
    FIXTURES,
    BackgroundWorker,
    member,
    run_goldenpath,
    wait_for_request,
)

TICKETS = FIXTURES / "insights"
HOUR = 3600.0
DAY = 86400.0


def import_all(platform: Platform) -> None:
    insights = platform.insights
    berlin = "Europe/Berlin"
    insights.import_export((TICKETS / "jira-export.csv").read_bytes(), ADMIN, timezone=berlin)
    insights.import_export((TICKETS / "jira-issues.json").read_bytes(), ADMIN)
    insights.import_export((TICKETS / "github-issues.json").read_bytes(), ADMIN)
    insights.import_export((TICKETS / "servicenow-events.csv").read_bytes(), ADMIN, timezone=berlin)
    insights.import_export(
        (TICKETS / "generic.csv").read_bytes(),
        ADMIN,
        mapping="key=ID,title=Subject,created=Opened,resolved=Done,description=Details",
        source="helpdesk",
    )


def type_with(report: Report, key: str) -> TicketType:
    for found in report.types:
        tickets = {k for k, _ in found.examples}
        if key in tickets:
            return found
    raise AssertionError(f"no type has {key}: {[t.as_dict() for t in report.types]}")


def test_each_format_imports_and_the_medians_match_a_hand_calculation(platform: Platform) -> None:
    import_all(platform)
    report = platform.insights.report(ADMIN)
    database = next(t for t in report.types if t.path == "postgres-database")
    assert database.name == "Provision a database"
    # By hand, created -> resolved:
    #   ServiceNow INC0010002 28-10-2024 10:00 -> 16:00 (collapsed from 2 rows)     6 h
    #   Jira CSV OPS-1   28/Mar/24 9:00 AM -> 30/Mar/24 9:00 AM, CET             48 h
    #   Jira CSV OPS-2   30/Mar/24 10:00 AM CET -> 02/Apr/24 10:00 AM CEST (DST)  71 h
    #   Jira JSON PLAT-7 2024-03-30T10:00+0100 -> 2024-04-02T10:00+0200           71 h
    #   Jira CSV OPS-3   01/Apr/24 8:00 AM -> 05/Apr/24 2:30 PM                 102.5 h
    assert database.count == 5
    assert database.median_seconds == pytest.approx(71 * HOUR)
    assert database.p90_seconds == pytest.approx((71 + (102.5 - 71) * 0.6) * HOUR)
    assert database.worklog_seconds == pytest.approx((1800 + 2700 + 3600) / 3)  # the median

    upload = type_with(report, "OPS-4")
    assert upload.path is None and "upload size" in upload.name
    #   OPS-4 8 h, generic T-1 2024-03-30T23:30+01 -> 2024-03-31T12:00+02 11.5 h, OPS-5 24 h,
    #   ServiceNow INC0010001 26-10-2024 09:00 CEST -> 28-10-2024 09:00 CET 49 h (3 rows)
    assert upload.count == 4
    assert upload.median_seconds == pytest.approx((11.5 + 24) / 2 * HOUR)

    repo = next(t for t in report.types if t.path == "new-repo")
    assert repo.count == 2 and repo.resolved == 1  # "not planned" is no resolution; PR skipped
    assert repo.median_seconds == pytest.approx(48 * HOUR)
    secret = next(t for t in report.types if t.path == "ci-secret")
    assert secret.median_seconds == pytest.approx(12 * HOUR)
    assert report.next_paths[0].ticket_type.name == upload.name


def test_importing_the_same_file_again_changes_nothing(platform: Platform) -> None:
    data = (TICKETS / "servicenow-events.csv").read_bytes()
    first = platform.insights.import_export(data, ADMIN, timezone="Europe/Berlin")
    again = platform.insights.import_export(data, ADMIN, timezone="Europe/Berlin")
    assert (first.read, first.inserted, first.updated) == (2, 2, 0)
    assert (again.read, again.inserted, again.updated, again.unchanged) == (2, 0, 0, 2)
    assert platform.insights.report(ADMIN).types[0].count in (1, 2)


def test_a_bad_file_names_its_bad_lines_and_imports_nothing(platform: Platform) -> None:
    data = (TICKETS / "jira-bad.csv").read_bytes()
    with pytest.raises(InvalidTicketFile, match="3 bad row") as raised:
        platform.insights.import_export(data, ADMIN)
    assert raised.value.details["rows"] == [
        {"line": 3, "field": "Summary", "rule": "is required"},
        {"line": 4, "field": "Created", "rule": raised.value.details["rows"][1]["rule"]},
        {"line": 5, "field": "Resolved", "rule": "is before the creation date"},
    ]
    assert "'31/31/24 9:00 AM' is not a date" in raised.value.details["rows"][1]["rule"]
    assert platform.insights.report(ADMIN).types == []


def test_only_admins_import_and_developers_do_not_read(platform: Platform) -> None:
    data = (TICKETS / "generic.csv").read_bytes()
    with pytest.raises(AccessDenied):
        platform.insights.import_export(
            data, member("dev"), mapping="key=ID,title=Subject,created=Opened"
        )
    with pytest.raises(AccessDenied):
        platform.insights.report(member("dev"))
    assert platform.insights.report(member("lead", role="approver")).types == []


def test_an_override_moves_a_ticket_to_another_class(platform: Platform) -> None:
    import_all(platform)
    platform.insights.override("jira-csv", "OPS-6", "postgres-database", ADMIN)
    database = next(
        t for t in platform.insights.report(ADMIN).types if t.path == "postgres-database"
    )
    assert database.count == 6
    platform.insights.override("jira-csv", "OPS-6", None, ADMIN)
    database = next(
        t for t in platform.insights.report(ADMIN).types if t.path == "postgres-database"
    )
    assert database.count == 5


@pytest.mark.parametrize(("source", "key"), [("jira-csv", "OPS-6\x00"), ("\x00", "OPS-6")])
def test_an_override_of_a_name_holding_a_nul_finds_no_ticket(
    platform: Platform, source: str, key: str
) -> None:
    import_all(platform)
    with pytest.raises(TicketNotFound):
        platform.insights.override(source, key, "postgres-database", ADMIN)


@pytest.mark.parametrize("export", [b"[" * 10_000 + b"]" * 10_000, b'{"a":' * 10_000 + b"1"])
def test_json_nested_past_the_parser_is_a_bad_file(platform: Platform, export: bytes) -> None:
    with pytest.raises(InvalidInput, match="nested too deeply"):
        platform.insights.import_export(export, ADMIN, format="jira-json")
    with pytest.raises(InvalidInput, match="nested too deeply"):
        platform.insights.import_export(export, ADMIN)


def test_a_draft_is_a_template_that_verify_loads(platform: Platform, tmp_path: Path) -> None:
    import_all(platform)
    upload = type_with(platform.insights.report(ADMIN), "OPS-4")
    text = platform.insights.draft(upload.name, ADMIN)
    document = yaml.safe_load(text)
    assert document["spec"]["replaces"] == upload.name
    properties = document["spec"]["parameters"][0]["properties"]
    assert set(properties) == {"service", "limit"}  # the fields the tickets keep asking for
    path = tmp_path / "my-path.yaml"
    path.write_text(text)
    result = run_goldenpath("templates", "verify", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "increase-upload-size@0.1.0" in result.stdout and "no violation" in result.stdout


def test_twenty_real_requests_against_a_three_day_baseline(
    platform: Platform, worker: BackgroundWorker, unique_name: Callable[[str], str]
) -> None:
    rows = ["ID,Subject,Opened,Done"] + [
        f"DB-{i},Provision a database for team {i},2024-05-0{i}T09:00Z,2024-05-0{i + 3}T09:00Z"
        for i in range(1, 6)
    ]
    platform.insights.import_export(
        "\n".join(rows).encode(), ADMIN, mapping="key=ID,title=Subject,created=Opened,resolved=Done"
    )
    developer = member("alice", "payments")
    leads = []
    for _ in range(20):
        submitted = platform.service.submit(
            "postgres-database", {"name": unique_name("db")}, developer
        )
        done = wait_for_request(platform, submitted.id)
        assert done.status == "succeeded", done.error
        assert done.finished_at is not None
        leads.append((done.finished_at - done.created_at).total_seconds())
    inputs = BillInputs(hourly_cost=80, hours_per_day=8, minutes_per_ticket=20)
    report = platform.insights.report(ADMIN, inputs=inputs)
    saving = next(s for s in report.bill.paths if s.path == "postgres-database")
    assert saving.requests == 20
    assert saving.baseline_seconds == 3 * DAY
    assert saving.saved_per_request.value == pytest.approx(3 * DAY - sum(leads) / 20, abs=0.01)
    saved_days = sum(3 * DAY - lead for lead in leads) / DAY
    assert saving.idle_hours.value == pytest.approx(saved_days * 8, rel=1e-6)
    assert saving.idle_cost.value == pytest.approx(saved_days * 8 * 80, rel=1e-6)
    assert saving.ops_hours.value == pytest.approx(20 * 20 / 60)
    assert report.bill.total_cost.value == pytest.approx(saved_days * 8 * 80 + 20 * 20 / 60 * 80)
    run = next(r for r in report.runs if r.name == "postgres-database")
    assert run.no_touch_share == 1.0 and run.failure_rate == 0.0
