"""Prometheus metrics, computed from the database at each scrape (every process sees all)."""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa

from goldenpath.store import tables
from goldenpath.store.database import Database

LEAD_TIME_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 86400)


def render_metrics(database: Database) -> str:
    lines: list[str] = []
    requests = tables.requests
    with database.begin() as conn:
        by_status = conn.execute(
            sa.select(requests.c.template_name, requests.c.status, sa.func.count()).group_by(
                requests.c.template_name, requests.c.status
            )
        ).all()
        finished = conn.execute(
            sa.select(
                requests.c.template_name,
                sa.func.extract("epoch", requests.c.finished_at - requests.c.created_at),
            ).where(requests.c.status == "succeeded", requests.c.finished_at.is_not(None))
        ).all()
        queue_depth = conn.execute(
            sa.text("SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'")
        ).scalar()
        verdicts = conn.execute(
            sa.select(requests.c.verdict).where(requests.c.verdict.is_not(None))
        ).scalars()
        by_policy: Counter[tuple[str, str]] = Counter()
        for verdict in verdicts:
            for group, rule in (("violations", "deny"), ("approvals", "require_approval")):
                for item in verdict.get(group, []):
                    by_policy[(str(item.get("policy")), rule)] += 1
    lines += [
        "# HELP goldenpath_requests Requests by template and status.",
        "# TYPE goldenpath_requests gauge",
    ]
    for template, status, count in by_status:
        lines.append(
            f'goldenpath_requests{{template="{_label(template)}",status="{status}"}} {count}'
        )
    lines += [
        "# HELP goldenpath_request_lead_time_seconds Submission to success, per template.",
        "# TYPE goldenpath_request_lead_time_seconds histogram",
    ]
    per_template: dict[str, list[float]] = {}
    for template, seconds in finished:
        per_template.setdefault(template, []).append(float(seconds))
    for template, values in sorted(per_template.items()):
        name = _label(template)
        for bound in LEAD_TIME_BUCKETS:
            count = sum(1 for v in values if v <= bound)
            lines.append(
                f'goldenpath_request_lead_time_seconds_bucket{{template="{name}",le="{bound:g}"}} '
                f"{count}"
            )
        lines.append(
            f'goldenpath_request_lead_time_seconds_bucket{{template="{name}",le="+Inf"}} '
            f"{len(values)}"
        )
        lines.append(f'goldenpath_request_lead_time_seconds_sum{{template="{name}"}} {sum(values)}')
        lines.append(
            f'goldenpath_request_lead_time_seconds_count{{template="{name}"}} {len(values)}'
        )
    lines += [
        "# HELP goldenpath_queue_depth Jobs waiting for a worker.",
        "# TYPE goldenpath_queue_depth gauge",
        f"goldenpath_queue_depth {int(queue_depth or 0)}",
        "# HELP goldenpath_verdicts_total Guardrail findings on requests, by policy and rule.",
        "# TYPE goldenpath_verdicts_total counter",
    ]
    for (policy, rule), count in sorted(by_policy.items()):
        lines.append(
            f'goldenpath_verdicts_total{{policy="{_label(policy)}",rule="{rule}"}} {count}'
        )
    lines += _ticket_baselines(database)
    return "\n".join(lines) + "\n"


def _ticket_baselines(database: Database) -> list[str]:
    """INSIGHTS HOOK: the ticket baseline beside the platform's lead-time histogram above, so
    one dashboard compares them. Move this into the prometheus-client collector when the
    hand-written /metrics is replaced (issue 11)."""
    t, o = tables.tickets, tables.ticket_overrides
    path = sa.func.coalesce(o.c.class_name, t.c.path)
    seconds = sa.func.extract("epoch", t.c.resolved_at - t.c.created_at)
    query = (
        sa.select(path, sa.func.percentile_cont(0.5).within_group(seconds))
        .select_from(
            t.outerjoin(o, sa.and_(o.c.source == t.c.source, o.c.ticket_key == t.c.ticket_key))
        )
        .where(t.c.resolved_at.is_not(None), path.is_not(None))
        .group_by(path)
    )
    with database.begin() as conn:
        rows = conn.execute(query).all()
    lines = [
        "# HELP goldenpath_ticket_baseline_seconds Median created to resolved of the tickets a "
        "golden path replaces (imported history).",
        "# TYPE goldenpath_ticket_baseline_seconds gauge",
    ]
    for name, median in sorted(rows):
        lines.append(f'goldenpath_ticket_baseline_seconds{{template="{_label(name)}"}} {median}')
    return lines


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
