"""Hostile input, in short: one value of each kind (SQL, shell, path traversal, template syntax,
HTML, unicode controls, homoglyphs, NUL, 1 MB, a wrong type, 10,000 levels of nesting) and the
10 MB, deeply nested and non-UTF-8 bodies, sent to every field of every starter golden path,
every API body, path and query parameter, the portal's forms and Slack's deliveries, on a
platform whose backends are real (PostgreSQL, MariaDB, Redis, moto, the local git server) or
local fakes (GitHub's and Slack's APIs).

Nothing may answer 5xx or go unanswered, and nothing may leave a side effect: an object in a
backend with a hostile name, a ``/tmp/pwned-*`` file, a template expression rendered, raw HTML
in a portal page, a canary table or key gone. Values kept as inert text (a justification, a
repository's description) are allowed. ``bench/hostile.py`` sends the whole corpus and prints
the figures (docs/reliability.md).
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from goldenpath.settings import STARTER_DIR
from tests.hostile.corpus import body_corpus, short_corpus
from tests.hostile.effects import pwned_files, traces
from tests.hostile.probe import Prober, Tally
from tests.hostile.stage import REDIS_URL, staged
from tests.hostile.targets import (
    BODY_METHODS,
    api_targets,
    golden_path_targets,
    operations,
    portal_targets,
    slack_targets,
)

pytestmark = pytest.mark.slow
STARTER_PATHS = {p.name.removesuffix(".yaml") for p in (STARTER_DIR / "templates").iterdir()}


@pytest.fixture(scope="module")
def prober() -> Iterator[Prober]:
    with staged() as stage:
        probing = Prober(stage, short_corpus(stage.marker), body_corpus(short=True), sample=3)
        try:
            probing.prepare()
            yield probing
        finally:
            probing.close()


def assert_clean(tallies: list[Tally]) -> None:
    bad = [t for t in tallies if t.side_effects or t.server_errors or t.no_answer]
    assert not bad, "\n".join(f"{t.target}: {t.effects + t.errors}" for t in bad)
    assert all(t.tried for t in tallies), [t.target for t in tallies if not t.tried]


def test_the_checks_see_the_side_effects_they_look_for(prober: Prober) -> None:
    """Planted by hand: a Redis user with a hostile name, a pwned file, a rendered expression
    and raw HTML in a page; each is found, then removed."""
    marker = prober.stage.marker
    before = prober.backends.objects()
    client = redis.Redis.from_url(REDIS_URL)
    planted = Path(f"/tmp/pwned-{marker}-0")  # noqa: S108 (where the payloads would write)
    try:
        client.acl_setuser(f"{marker}';x", enabled=False)
        planted.touch()
        assert prober.backends.new_suspicious(before) == [f'redis user "{marker}\';x"']
        assert pwned_files(marker) == [str(planted)]
    finally:
        client.acl_deluser(f"{marker}';x")
        client.close()
        planted.unlink()
    page = f"<p>{marker}49</p><script>alert('{marker}')</script>"
    assert len(traces([page], marker, page=True)) == 2
    assert traces([html.escape(f"<script>alert('{marker}')</script>")], marker, page=True) == []


def test_every_field_of_every_starter_path_refuses_or_keeps_hostile_values_inert(
    prober: Prober,
) -> None:
    tallies = prober.run(golden_path_targets(prober.stage, prober.base))

    assert_clean(tallies)
    assert {t.target.split(".")[0] for t in tallies} >= STARTER_PATHS
    names = {t.target: t for t in tallies}
    assert names["postgres-database.name"].refused == names["postgres-database.name"].tried
    assert names["new-repo.description"].accepted > 0  # free text, kept as it was typed


def test_every_api_body_refuses_or_keeps_hostile_values_inert(prober: Prober) -> None:
    document = prober.stage.admin.get("/api/openapi.json").json()
    targets = [t for t in api_targets(document, prober.base) if "body" in t.family]

    tallies = prober.run(targets)

    assert_clean(tallies)
    with_bodies = {o["operationId"] for m, _, o in operations(document) if m in BODY_METHODS}
    assert "/slack/link" not in document["paths"]  # a portal page, with Slack mounted
    assert {t.target.split(" ")[0] for t in tallies} >= with_bodies


def test_every_path_and_query_parameter_refuses_hostile_values(prober: Prober) -> None:
    document = prober.stage.admin.get("/api/openapi.json").json()
    targets = [t for t in api_targets(document, prober.base) if "body" not in t.family]

    assert_clean(prober.run(targets))


def test_the_portal_forms_refuse_or_keep_hostile_values_inert(prober: Prober) -> None:
    targets = [t for t in portal_targets(prober.stage, prober.base) if "preview" in t.name]
    targets += [t for t in portal_targets(prober.stage, prober.base) if "/login" in t.name]

    assert_clean(prober.run(targets))


def test_slack_deliveries_refuse_or_keep_hostile_values_inert(prober: Prober) -> None:
    tallies = prober.run(slack_targets(prober.stage))

    assert_clean(tallies)
    assert prober.stage.slack.of("views.open")  # the modal target reached the modal


def test_afterwards_no_page_repository_or_secret_shows_a_trace_and_the_platform_is_intact(
    prober: Prober,
) -> None:
    whole_run = prober.finish()

    assert whole_run.effects == []
    assert whole_run.tried > 10  # portal pages searched
