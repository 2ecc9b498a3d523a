"""The bill's arithmetic, the ranking of what to build next, percentiles and dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from goldenpath.insights.bill import BillInputs, idle_hours, path_saving
from goldenpath.insights.dates import parse_datetime
from goldenpath.insights.ranking import candidates
from goldenpath.insights.statistics import PathRun, TicketType, percentile

DAY = 86400.0


def test_the_seeds_arithmetic_two_days_is_sixteen_hours() -> None:
    figure = idle_hours(2, BillInputs(hours_per_day=8))
    assert figure.value == 16
    assert figure.formula == "2 d x 8 h/d = 16 h"


def ticket_type(name: str, count: int, median_days: float, worklog_minutes: float | None,
                path: str | None = None) -> TicketType:  # fmt: skip
    return TicketType(
        name=name,
        path=path,
        count=count,
        resolved=count,
        median_seconds=median_days * DAY,
        p90_seconds=None,
        worklog_seconds=None if worklog_minutes is None else worklog_minutes * 60,
        examples=((f"{name}-1", f"please {name}"),),
    )


def test_top_three_ranks_volume_times_wait_times_effort() -> None:
    backlog = [
        ticket_type("create repo", 40, 1.0, 30),  # 40 x 1 x 0.5 = 20
        ticket_type("add ci secret", 100, 0.5, 15),  # 100 x 0.5 x 0.25 = 12.5
        ticket_type("increase upload size", 10, 4.0, 90),  # 10 x 4 x 1.5 = 60
        ticket_type("grant vpn access", 200, 0.1, None),  # 200 x 0.1 x 0.5 (configured) = 10
        ticket_type("rotate certificate", 5, 2.0, 60),  # 5 x 2 x 1 = 10 (fewer tickets: after vpn)
        ticket_type("provision a database", 500, 3.0, 60, path="postgres-database"),  # has a path
    ]
    top = candidates(backlog, BillInputs(minutes_per_ticket=30))
    assert [c.ticket_type.name for c in top] == [
        "increase upload size",
        "create repo",
        "add ci secret",
    ]
    assert top[0].score == pytest.approx(60)
    assert top[0].as_dict()["formula"] == "10 tickets x 4.00 d x 1.50 h = 60.0"


def test_saving_is_baseline_minus_lead_per_request_in_hours_and_money() -> None:
    start = datetime(2026, 1, 5, tzinfo=UTC)
    leads = tuple((start + timedelta(hours=i), 10.0 + i) for i in range(4))  # 10..13 s
    run = PathRun("postgres-database", 4, 4, 0, 0, 11.5, 12.85, 1.0, None, 0.0, leads=leads)
    base = ticket_type("Provision a database", 30, 3.0, 45, path="postgres-database")
    inputs = BillInputs(hourly_cost=100, hours_per_day=8)
    saving = path_saving(run, base, inputs)
    assert saving is not None
    assert saving.saved_per_request.value == pytest.approx(3 * DAY - 11.5)
    saved_days = 4 * (3 * DAY - 11.5) / DAY
    assert saving.idle_hours.value == pytest.approx(saved_days * 8)
    assert saving.idle_cost.value == pytest.approx(saved_days * 8 * 100)
    assert saving.ops_hours.value == pytest.approx(4 * 45 / 60)  # from the worklogs


def test_percentiles_interpolate_between_ranks() -> None:
    assert percentile([48, 71, 102.5], 0.5) == 71
    assert percentile([48, 71, 102.5], 0.9) == pytest.approx(71 + 31.5 * 0.8)
    assert percentile([], 0.5) is None


BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-30T10:00:00.000+0100", datetime(2024, 3, 30, 9, tzinfo=UTC)),
        ("2024-04-02T10:00:00Z", datetime(2024, 4, 2, 10, tzinfo=UTC)),
        ("30/Mar/24 10:00 AM", datetime(2024, 3, 30, 9, tzinfo=UTC)),  # CET
        ("02/Apr/24 1:30 PM", datetime(2024, 4, 2, 11, 30, tzinfo=UTC)),  # CEST
        ("28-10-2024 09:00", datetime(2024, 10, 28, 8, tzinfo=UTC)),
    ],
)
def test_dates_of_real_exports(text: str, expected: datetime) -> None:
    assert parse_datetime(text, BERLIN) == expected


def test_a_non_date_is_refused_with_the_formats() -> None:
    with pytest.raises(ValueError, match="'31/31/24' is not a date"):
        parse_datetime("31/31/24", BERLIN)
