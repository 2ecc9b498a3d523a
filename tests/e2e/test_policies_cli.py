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
        assert "terraform_s3_public.rego" in result.stdout


def test_check_plan_refuses_a_file_that_is_not_a_plan(tmp_path: Path) -> None:
    path = tmp_path / "not-a-plan.json"
    path.write_text('{"hello": "world"}')
    result = run_goldenpath("policies", "check-plan", str(path))
    assert result.returncode == 2
    assert "terraform show -json" in result.stderr
