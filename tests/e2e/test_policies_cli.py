"""`goldenpath policies test` and `check-plan`, as a platform team's CI runs them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_goldenpath
from tests.unit.policy.test_terraform_plan_document import PRIVATE_BLOCK, change, show_json

PUBLIC_BLOCK = {key: False for key in PRIVATE_BLOCK}


def write_plan(tmp_path: Path, *changes: dict[str, Any]) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(show_json(*changes)))
    return path


def test_policies_test_runs_every_starter_rego_test() -> None:
    result = run_goldenpath("policies", "test")
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 failed" in result.stdout


def test_policies_test_fails_on_a_failing_rego_test(tmp_path: Path) -> None:
    (tmp_path / "always.rego").write_text(
        "package goldenpath.always\n\ndeny contains 'no' if true\n"
    )
    (tmp_path / "always_test.rego").write_text(
        "package goldenpath.always_test\n\nimport data.goldenpath.always\n\n"
        "test_allows_everything if { count(always.deny) == 0 }\n"
    )
    result = run_goldenpath("policies", "test", str(tmp_path))
    assert result.returncode == 1
    assert "FAIL" in result.stdout and "test_allows_everything" in result.stdout


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ([change("aws_s3_bucket_acl", "logs", ["create"], {"acl": "public-read"})], 5),
        ([change("aws_s3_bucket_public_access_block", "logs", ["update"], PUBLIC_BLOCK)], 5),
        ([change("aws_s3_bucket_acl", "logs", ["delete", "create"], {"acl": "public-read"})], 5),
        ([change("aws_s3_bucket_acl", "logs", ["create"], {"acl": "private"})], 0),
        ([change("aws_s3_bucket_public_access_block", "logs", ["create"], PRIVATE_BLOCK)], 0),
        ([change("aws_s3_bucket_acl", "logs", ["delete"], {"acl": "public-read"})], 0),
        ([change("aws_s3_bucket_acl", "logs", ["no-op"], {"acl": "public-read"})], 0),
    ],
    ids=[
        "create-public",
        "update-public-block",
        "replace-public",
        "private",
        "private-block",
        "delete-public",
        "no-op-public",
    ],
)
def test_check_plan_flags_public_buckets_only_when_created_or_changed(
    tmp_path: Path, changes: list[dict[str, Any]], code: int
) -> None:
    result = run_goldenpath("policies", "check-plan", str(write_plan(tmp_path, *changes)))
    assert result.returncode == code, result.stdout + result.stderr
    if code:
        assert "s3_private.rego" in result.stdout


def test_check_plan_refuses_a_file_that_is_not_a_plan(tmp_path: Path) -> None:
    path = tmp_path / "not-a-plan.json"
    path.write_text('{"hello": "world"}')
    result = run_goldenpath("policies", "check-plan", str(path))
    assert result.returncode == 2
    assert "terraform show -json" in result.stderr


FOREIGN = Path(__file__).resolve().parents[1] / "fixtures" / "policies"


def test_lint_shows_what_each_file_contributes_and_passes_a_sound_library() -> None:
    result = run_goldenpath("policies", "lint", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["problems"] == []
    assert {f["file"] for f in report["files"]} >= {"naming.rego", "budget.rego"}


def test_lint_exits_12_naming_a_dead_or_broken_file(tmp_path: Path) -> None:
    (tmp_path / "typo.rego").write_text(
        'package goldenpathh.naming\n\nimport rego.v1\n\ndeny contains "x" if input.x\n'
    )
    (tmp_path / "broken.rego").write_text("package goldenpath.broken\n\ndeny contains msg if {\n")
    result = run_goldenpath("policies", "lint", str(tmp_path))
    assert result.returncode == 12, result.stdout + result.stderr
    assert "typo.rego: declares package goldenpathh.naming" in result.stderr
    assert "broken.rego" in result.stderr
    assert "2 problem(s)" in result.stdout


def test_check_plan_runs_conftest_policies_through_their_policies_yaml(tmp_path: Path) -> None:
    plan = write_plan(
        tmp_path, change("aws_instance", "web", ["create"], {"instance_type": "m5.4xlarge"})
    )
    result = run_goldenpath(
        "policies", "check-plan", str(plan), "--policies", str(FOREIGN / "conftest"), "--json"
    )
    assert result.returncode == 5, result.stdout + result.stderr
    verdict = json.loads(result.stdout)
    assert [v["message"] for v in verdict["violations"]] == [
        "aws_instance.web: instance type m5.4xlarge is not allowed"
    ]


def test_check_plan_flags_describe_foreign_policies_without_a_policies_yaml(
    tmp_path: Path,
) -> None:
    """The same conventions on the command line: conftest's v0 `package main`, and OPA's
    plan under `input.tfplan`, each copied without its policies.yaml."""
    plan = write_plan(
        tmp_path, change("aws_instance", "web", ["create"], {"instance_type": "m5.4xlarge"})
    )
    conftest, opa = tmp_path / "conftest", tmp_path / "opa"
    conftest.mkdir()
    opa.mkdir()
    (conftest / "instances.rego").write_text((FOREIGN / "conftest" / "instances.rego").read_text())
    (opa / "instances.rego").write_text((FOREIGN / "opa" / "instances.rego").read_text())

    plain = run_goldenpath("policies", "check-plan", str(plan), "--policies", str(conftest))
    assert plain.returncode == 12, plain.stdout + plain.stderr
    assert "declares package main, which no evaluation reads" in plain.stdout

    for folder, flags, expected in (
        (conftest, ["--namespace", "main", "--rego-v0"], "instance type m5.4xlarge"),
        (opa, ["--namespace", "terraform.guardrails", "--input-key", "tfplan"], "too big"),
    ):
        result = run_goldenpath(
            "policies", "check-plan", str(plan), "--policies", str(folder), *flags
        )
        assert result.returncode == 5, result.stdout + result.stderr
        assert expected in result.stdout

    bad = run_goldenpath("policies", "check-plan", str(plan), "--input-key", "tfplan")
    assert bad.returncode == 2
    assert "--input-key" in bad.stderr
