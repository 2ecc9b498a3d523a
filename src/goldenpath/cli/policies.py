"""``goldenpath policies`` and ``goldenpath templates verify``: the platform team's checks.

These run locally (in a template repository's CI, say), not against the API: they read the
template and policy files themselves.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from goldenpath.policy import PolicySet

from goldenpath.cli import output
from goldenpath.cli.exit_codes import BAD_INPUT, POLICY_DENIED, POLICY_MISCONFIGURED
from goldenpath.cli.options import AsJson
from goldenpath.errors import InvalidInput

app = typer.Typer(
    rich_markup_mode="markdown",
    help="Test and apply guardrails (Rego policies).",
    no_args_is_help=True,
)

PolicyDirs = Annotated[
    list[Path] | None,
    typer.Option(
        "--policies",
        help="Org policy folders (default: the starter library and GOLDENPATH_POLICY_DIR).",
        exists=True,
    ),
]


PolicyPaths = Annotated[
    list[Path] | None,
    typer.Argument(help="Policy files or folders (default: the org policy folders).", exists=True),
]


def _org_policies(folders: list[Path] | None) -> PolicySet:
    from goldenpath.app import load_org_policies
    from goldenpath.policy import PolicySet
    from goldenpath.settings import load_settings

    if folders:
        return PolicySet.from_paths(folders)
    return load_org_policies(load_settings())


@app.command("test")
def test_policies(
    paths: PolicyPaths = None,
    as_json: AsJson = False,
) -> None:
    """Run the Rego unit tests (rules named test_*) beside the policies."""
    from goldenpath.policy import run_rego_tests
    from goldenpath.settings import load_settings

    report = run_rego_tests(paths or load_settings().policy_folders)
    if as_json:
        output.print_json(
            [
                {
                    "file": r.file,
                    "package": r.package,
                    "test": r.name,
                    "passed": r.passed,
                    "error": r.error,
                }
                for r in report.results
            ]
        )
    else:
        for result in report.results:
            mark = "[green]PASS[/green]" if result.passed else "[red]FAIL[/red]"
            output.out.print(f"{mark} {result.package}.{result.name} ({result.file})")
            if result.error:
                output.out.print(f"     {result.error}", markup=False)
        output.out.print(report.summary)
    if not report.passed:
        raise typer.Exit(1)


@app.command("lint")
def lint(
    paths: PolicyPaths = None,
    as_json: AsJson = False,
) -> None:
    """Parse every policy; show what each request and plan evaluation reads; exit 12 on any
    broken file or any file that would never be evaluated."""
    from goldenpath.policy import PolicySet
    from goldenpath.settings import load_settings

    folders = paths or load_settings().policy_folders
    policies = PolicySet.from_paths(folders)
    files = [f.as_dict() for f in policies.files]
    if as_json:
        output.print_json({"files": files, "problems": list(policies.problems)})
    else:
        output.policy_report(files, list(policies.problems))
    if policies.problems:
        raise typer.Exit(POLICY_MISCONFIGURED)


@app.command("check-plan")
def check_plan(
    plan_json: Annotated[
        Path, typer.Argument(help="Output of `terraform show -json PLAN`.", exists=True)
    ],
    policies: PolicyDirs = None,
    namespaces: Annotated[
        list[str] | None,
        typer.Option(
            "--namespace",
            help="Evaluate these packages as conftest/OPA would (e.g. main); repeatable.",
        ),
    ] = None,
    rego_v0: Annotated[
        bool, typer.Option("--rego-v0", help="Those policies are Rego v0 (conftest < 0.56).")
    ] = False,
    input_key: Annotated[
        str | None,
        typer.Option(help="Hand them the plan under this key (input.tfplan: --input-key tfplan)."),
    ] = None,
    rules: Annotated[
        list[str] | None,
        typer.Option("--rule", help="Rule names that deny [default: deny, violation]."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Judge a Terraform plan with the plan policies; exit 5 when denied, 12 when a policy is
    broken."""
    from goldenpath.policy import check_plan as judge

    try:
        document = json.loads(plan_json.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(field="PLAN_JSON", rule=f"must be a JSON file: {exc}") from exc
    if not isinstance(document, dict) or "format_version" not in document:
        raise InvalidInput(field="PLAN_JSON", rule="must be the output of `terraform show -json`")
    if namespaces:
        policy_set = _foreign_policies(policies, namespaces, rego_v0, input_key, rules or [])
    elif rego_v0 or input_key or rules:
        raise InvalidInput(
            field="--namespace", rule="--rego-v0, --input-key and --rule need --namespace"
        )
    else:
        policy_set = _org_policies(policies)
    verdict = judge(policy_set, document)
    if as_json:
        output.print_json(verdict.as_dict())
    else:
        output.verdict(verdict.as_dict())
    if any(v.rule == "error" for v in verdict.violations):
        raise typer.Exit(POLICY_MISCONFIGURED)
    if not verdict.allowed:
        raise typer.Exit(POLICY_DENIED)


def _foreign_policies(
    folders: list[Path] | None,
    namespaces: list[str],
    rego_v0: bool,
    input_key: str | None,
    rules: list[str],
) -> PolicySet:
    """The policy folders with the command line's conventions for the packages it names."""
    from dataclasses import replace

    from goldenpath.policy import PolicySet
    from goldenpath.policy.groups import PolicyConfigError, command_line_group
    from goldenpath.policy.rego import declared_package, read_modules
    from goldenpath.settings import load_settings

    try:
        group = command_line_group(namespaces, rego_v0=rego_v0, input_key=input_key, rules=rules)
    except PolicyConfigError as exc:
        raise InvalidInput(field="--namespace", rule=str(exc)) from exc
    modules, unreadable = read_modules(
        folders or load_settings().policy_folders, include_tests=False
    )
    chosen = [
        replace(m, group=group) if group.claims(declared_package(m.source) or "") else m
        for m in modules
    ]
    return PolicySet(chosen, unreadable=unreadable)


def verify_templates(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Template files or folders (default: the configured ones).", exists=True
        ),
    ] = None,
    samples: Annotated[
        int, typer.Option(min=1, max=10_000, help="Generated values per free parameter.")
    ] = 50,
    seed: Annotated[int, typer.Option(help="Seed of the generated values.")] = 0,
    policies: PolicyDirs = None,
    as_json: AsJson = False,
) -> None:
    """Check every guardrail holds for the inputs a template's form accepts: all of them where
    the parameters are finite, a fixed-seed sample where they are free text or numbers."""
    from goldenpath.actions.registry import default_registry
    from goldenpath.execution.guardrails import Guardrails
    from goldenpath.settings import load_settings
    from goldenpath.templates.loader import load_catalog
    from goldenpath.verify import verify_template

    registry = default_registry()
    catalog = load_catalog(paths or load_settings().template_folders, registry.classes())
    guardrails = Guardrails(_org_policies(policies))
    problems = [str(problem) for problem in catalog.problems]
    results = [
        verify_template(template, registry, guardrails, samples=samples, seed=seed)
        for template in catalog
    ]
    if as_json:
        output.print_json(
            {
                "ok": not problems and bool(results) and all(r.ok for r in results),
                "templates": [r.as_dict() for r in results],
                "invalid": problems,
            }
        )
    else:
        for problem in problems:
            output.err.print(f"invalid: {problem}", markup=False, soft_wrap=True)
        for result in results:
            style = "green" if result.ok else "bold red"
            output.out.print(result.summary, style=style, markup=False, soft_wrap=True)
    if not results and not problems:
        output.err.print("no templates found")
        raise typer.Exit(BAD_INPUT)
    if not all(r.ok for r in results):
        raise typer.Exit(POLICY_DENIED)
    if problems:
        raise typer.Exit(BAD_INPUT)
