"""Day 2 from the CLI: versions, diff, impact, resource upgrades and rollouts.

Commands are registered on ``goldenpath templates`` and ``goldenpath resources``. A rollout
runs upgrades as requests through the API, at most N at once; stopped or crashed, it is run
again and picks up where it was: resources already at the new version are no longer listed.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from rich.text import Text

from goldenpath.cli import output
from goldenpath.cli.client import ApiClient, CliError, segment
from goldenpath.cli.exit_codes import (
    CONFLICT,
    OK,
    REQUEST_FAILED,
    exit_code_for,
    exit_code_for_verdict,
)
from goldenpath.cli.options import AsJson, Url

Name = Annotated[str, typer.Argument(help="The golden path.")]
Version = Annotated[str | None, typer.Argument(help="The version [default: the newest].")]
TERMINAL = frozenset({"succeeded", "failed", "cancelled", "rejected", "rollback_failed"})
AllowReplace = Annotated[
    bool,
    typer.Option(
        "--allow-replace",
        help="Destroy and re-create what cannot change in place (its data is lost).",
    ),
]


def register(templates: typer.Typer, resources: typer.Typer) -> None:
    templates.command("versions")(versions)
    templates.command("diff")(diff)
    templates.command("impact")(impact)
    templates.command("rollout")(rollout)
    resources.command("upgrade")(upgrade)


def versions(name: Name, url: Url = None, as_json: AsJson = False) -> None:
    """Every loaded version of a golden path, oldest first, and which serves new requests."""
    with ApiClient(url) as client:
        found = client.call("GET", f"/api/v1/templates/{segment(name)}/versions")
    if as_json:
        output.print_json(found)
        return
    for v in found:
        mark = " (new requests)" if v["newest"] else ""
        note = f": {v['note']}" if v["note"] else ""
        output.out.print(Text(f"{name}@{v['version']}  {v['status']}{note}{mark}"))


def diff(
    name: Name,
    old: Annotated[str, typer.Argument(help="The older version.")],
    new: Annotated[str, typer.Argument(help="The newer version.")],
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """What changed between two versions: parameters, steps, outputs, guardrails, lifecycle."""
    with ApiClient(url) as client:
        found = client.call(
            "GET", f"/api/v1/templates/{segment(name)}/diff", params={"from": old, "to": new}
        )
    if as_json:
        output.print_json(found)
        return
    if not found:
        output.out.print(f"{name}: {old} and {new} are the same.")
    for c in found:
        shown = {"added": c["after"], "removed": c["before"]}.get(
            c["change"], f"{c['before']!r} -> {c['after']!r}"
        )
        output.out.print(Text(f"{c['area']}: {c['item']} {c['change']}: {shown}"), soft_wrap=True)


def impact(name: Name, version: Version = None, url: Url = None, as_json: AsJson = False) -> None:
    """Admins: what a version would do to every live resource an older one made."""
    with ApiClient(url) as client:
        found = _impact(client, name, version)
    if as_json:
        output.print_json(found)
        return
    counts = ", ".join(f"{n} {o}" for o, n in found["counts"].items())
    output.out.print(Text(f"{found['template']}@{found['version']}: {counts}", style="bold"))
    for r in found["resources"]:
        reasons = "; ".join(r["reasons"])
        output.out.print(
            Text(
                f"  {r['outcome']:8} {r['name']} ({r['kind']}, team {r['team']}, "
                f"from {r['from_version']}) {reasons}"
            ),
            soft_wrap=True,
        )


def rollout(
    name: Name,
    version: Version = None,
    teams: Annotated[
        str | None, typer.Option(help="Only these teams' resources, comma-separated.")
    ] = None,
    max_parallel: Annotated[int, typer.Option(min=1, max=100, help="Upgrades at once.")] = 4,
    stop_on_failure: Annotated[
        bool, typer.Option("--stop-on-failure", help="Stop at the first failed upgrade.")
    ] = False,
    allow_replace: AllowReplace = False,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Upgrade every resource the impact shows as an in-place update, N at a time. Replace
    (unless --allow-replace), denied and invalid ones are refused and listed. Run it again
    to resume."""
    wanted = {t.strip() for t in teams.split(",")} if teams else None
    done: list[dict[str, Any]] = []
    running = ("update", "replace") if allow_replace else ("update",)
    with ApiClient(url) as client:
        found = _impact(client, name, version)
        chosen = [r for r in found["resources"] if wanted is None or r["team"] in wanted]
        updates = [r for r in chosen if r["outcome"] in running]
        refused = [r for r in chosen if r["outcome"] not in (*running, "none")]
        current = [r for r in chosen if r["outcome"] == "none"]
        failed = False
        for start in range(0, len(updates) + len(current), max_parallel):
            wave = (updates + current)[start : start + max_parallel]
            done.extend(_upgrade_wave(client, wave, found["version"], allow_replace))
            failed = any(d["status"] != "succeeded" for d in done)
            if failed and stop_on_failure:
                break
    report = {"version": found["version"], "upgraded": done, "refused": refused}
    if as_json:
        output.print_json(report)
    else:
        for d in done:
            style = "green" if d["status"] == "succeeded" else "bold red"
            output.out.print(Text(f"{d['status']:9} {d['name']} ({d['request']})", style=style))
        for r in refused:
            output.out.print(
                Text(f"refused   {r['name']}: {r['outcome']}: {'; '.join(r['reasons'])}"),
                soft_wrap=True,
            )
    if failed:
        raise typer.Exit(REQUEST_FAILED)
    if refused:
        raise typer.Exit(CONFLICT)


def upgrade(
    resource_id: Annotated[str, typer.Argument(metavar="ID", help="The resource's id.")],
    to: Annotated[str | None, typer.Option(help="The version [default: the newest].")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the impact and the verdict; change nothing.")
    ] = False,
    wait: Annotated[bool, typer.Option("--wait", help="Wait until the upgrade ends.")] = False,
    allow_replace: AllowReplace = False,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Upgrade a resource (and what its request made with it) to a newer version, in place
    (or, with --allow-replace, destroyed and made again where it cannot change in place)."""
    with ApiClient(url) as client:
        answer = client.call(
            "POST",
            f"/api/v1/resources/{segment(resource_id)}/upgrade",
            json={"to": to, "dry_run": dry_run, "allow_replace": allow_replace},
        )
        final = None
        if wait and answer.get("request"):
            final = _wait(client, answer["request"]["id"])
    if as_json:
        output.print_json(answer if final is None else {**answer, "request": final})
    else:
        for item in answer["impact"]:
            output.out.print(
                Text(f"{item['outcome']}: {item['name']} {'; '.join(item['reasons'])}"),
                soft_wrap=True,
            )
        if "verdict" in answer:
            output.verdict(answer["verdict"])
        if answer.get("request"):
            status = (final or answer["request"])["status"]
            output.out.print(f"Upgrade request {answer['request']['id']} is {status}.")
    if final is not None:
        raise typer.Exit(exit_code_for(final["status"]))
    denied = exit_code_for_verdict(answer.get("verdict")) if dry_run else OK
    if denied != OK:
        raise typer.Exit(denied)


def _impact(client: ApiClient, name: str, version: str | None) -> dict[str, Any]:
    params = {"version": version} if version else {}
    found: dict[str, Any] = client.call(
        "GET", f"/api/v1/templates/{segment(name)}/impact", params=params
    )
    return found


def _upgrade_wave(
    client: ApiClient, wave: list[dict[str, Any]], version: str, allow_replace: bool
) -> list[dict[str, Any]]:
    started: list[tuple[dict[str, Any], str | None, str | None]] = []
    for item in wave:
        try:
            answer = client.call(
                "POST",
                f"/api/v1/resources/{segment(item['resource_id'])}/upgrade",
                json={"to": version, "allow_replace": allow_replace},
            )
            started.append((item, answer["request"]["id"], None))
        except CliError as exc:  # e.g. upgraded meanwhile by someone else: say so, go on
            started.append((item, None, str(exc)))
    results = []
    for item, request_id, error in started:
        final = _wait(client, request_id) if request_id else {"status": "refused"}
        results.append(
            {
                "name": item["name"],
                "resource_id": item["resource_id"],
                "request": request_id or error,
                "status": final["status"],
            }
        )
    return results


def _wait(client: ApiClient, request_id: str, timeout: float = 600) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        found: dict[str, Any] = client.call("GET", f"/api/v1/requests/{segment(request_id)}")
        if found["status"] in TERMINAL or time.monotonic() > deadline:
            return found
        time.sleep(0.2)
