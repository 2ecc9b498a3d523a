"""Policies written for conftest and OPA-based Terraform runners run unchanged (policies.yaml),
and files that would never be evaluated are refused instead of silently ignored (fail closed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from goldenpath.policy import PolicySet, check_plan
from goldenpath.policy.groups import PolicyConfigError, read_groups
from tests.unit.policy.test_terraform_plan_document import change, show_json

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "policies"

OWNED = {"owner": "a"}
PLAN = show_json(
    change("aws_instance", "web", ["create"], {"instance_type": "m5.4xlarge", "tags": OWNED}),
    change("aws_instance", "tiny", ["create"], {"instance_type": "t3.small", "tags": None}),
    change("aws_s3_bucket_acl", "logs", ["create"], {"acl": "public-read"}),
    change("aws_s3_bucket", "old", ["delete"], None),
)
SMALL_PLAN = show_json(
    change("aws_instance", "tiny", ["create"], {"instance_type": "t3.small", "tags": OWNED})
)


def messages(folder: str, plan: dict[str, object] = PLAN) -> dict[str, list[str]]:
    policies = PolicySet.from_paths([FIXTURES / folder])
    assert policies.problems == ()
    verdict = check_plan(policies, plan)
    return {
        "deny": sorted(v.message for v in verdict.violations),
        "warn": sorted(v.message for v in verdict.warnings),
    }


def test_a_conftest_v0_policy_in_package_main_judges_as_conftest_would() -> None:
    # conftest test plan.json: 3 failures (deny, violation, deny_destroy), 1 warning.
    assert messages("conftest") == {
        "deny": [
            "aws_instance.web: instance type m5.4xlarge is not allowed",
            "aws_s3_bucket.old would be destroyed",
            "aws_s3_bucket_acl.logs makes a bucket public",
        ],
        "warn": ["aws_instance.tiny has no owner tag"],
    }
    assert messages("conftest", SMALL_PLAN) == {"deny": [], "warn": []}


def test_the_conftest_files_are_read_as_rego_v0() -> None:
    files = PolicySet.from_paths([FIXTURES / "conftest"]).files
    assert {(f.name, f.dialect) for f in files} == {
        ("buckets.rego", "v0"),
        ("instances.rego", "v0"),
    }
    assert {f.name: f.rules for f in files} == {
        "buckets.rego": ("deny_destroy", "violation"),
        "instances.rego": ("deny", "warn"),
    }


def test_an_opa_policy_reading_input_tfplan_judges_the_wrapped_plan() -> None:
    assert messages("opa") == {"deny": ["aws_instance.web: m5.4xlarge is too big"], "warn": []}
    assert messages("opa", SMALL_PLAN) == {"deny": [], "warn": []}


def test_files_sharing_a_package_may_each_declare_the_same_helper() -> None:
    assert messages("shared") == {
        "deny": ["aws_instance.web: m5.4xlarge needs a reservation"],
        "warn": [],
    }
    helpers = {f.name: f.helper for f in PolicySet.from_paths([FIXTURES / "shared"]).files}
    assert helpers == {"helpers.rego": False, "instances.rego": False}


def test_all_styles_load_side_by_side_with_the_native_library() -> None:
    starter = Path(__file__).resolve().parents[3] / "starter" / "policies"
    folders = [starter, FIXTURES / "conftest", FIXTURES / "opa", FIXTURES / "shared"]
    policies = PolicySet.from_paths(folders)
    assert policies.problems == ()
    denied = {v.message for v in check_plan(policies, PLAN).violations}
    assert {
        "aws_instance.web: instance type m5.4xlarge is not allowed",
        "aws_instance.web: m5.4xlarge is too big",
        "aws_instance.web: m5.4xlarge needs a reservation",
    } <= denied


def test_conflicting_values_of_one_rule_in_two_files_name_both_files(tmp_path: Path) -> None:
    (tmp_path / "policies.yaml").write_text("namespaces: [main]\n")
    (tmp_path / "a.rego").write_text("package main\n\nimport rego.v1\n\nlimit := 2\n")
    (tmp_path / "b.rego").write_text(
        "package main\n\nimport rego.v1\n\nlimit := 3\n\n"
        'deny contains "too many" if count(input.resource_changes) > limit\n'
    )
    verdict = check_plan(PolicySet.from_paths([tmp_path]), PLAN)
    [error] = verdict.violations
    assert error.rule == "error"
    assert "a.rego" in error.message and "b.rego" in error.message


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"typo.rego": "package goldenpathh.naming\n\nimport rego.v1\n\ndeny contains 1 if 1\n"},
            "typo.rego: declares package goldenpathh.naming, which no evaluation reads",
        ),
        (
            {"main.rego": 'package main\n\ndeny[msg] { msg := "conftest, no policies.yaml" }\n'},
            "main.rego: declares package main, which no evaluation reads",
        ),
        (
            {"norules.rego": "package goldenpath.org\n\nimport rego.v1\n\ndenied if true\n"},
            "package goldenpath.org declares none of the rules native request policies evaluates",
        ),
        (
            {
                "policies.yaml": "namespaces: [main]\n",
                "other.rego": "package checks\n\nimport rego.v1\n\ndeny contains 1 if 1\n",
            },
            "other.rego: declares package checks, but its group 'group 1' evaluates only main",
        ),
    ],
    ids=["package-typo", "conftest-without-config", "no-counted-rule", "outside-the-group"],
)
def test_a_file_no_evaluation_reads_is_a_problem_and_denies(
    tmp_path: Path, files: dict[str, str], expected: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    policies = PolicySet.from_paths([tmp_path])
    [problem] = policies.problems
    assert expected in problem
    for verdict in (policies.evaluate({}), check_plan(policies, SMALL_PLAN)):
        assert verdict.decision == "deny"
        assert [v.rule for v in verdict.violations] == ["error"]


def test_a_helper_library_another_policy_imports_is_not_dead(tmp_path: Path) -> None:
    (tmp_path / "lib.rego").write_text(
        'package lib.sizes\n\nimport rego.v1\n\nbig(t) if t == "m5.4xlarge"\n'
    )
    (tmp_path / "rule.rego").write_text(
        "package goldenpath.terraform.sizes\n\nimport rego.v1\n\nimport data.lib.sizes\n\n"
        "deny contains rc.address if {\n  some rc in input.resource_changes\n"
        "  sizes.big(rc.change.after.instance_type)\n}\n"
    )
    policies = PolicySet.from_paths([tmp_path])
    assert policies.problems == ()
    assert {f.name: f.helper for f in policies.files} == {"lib.rego": True, "rule.rego": False}
    assert [v.message for v in check_plan(policies, PLAN).violations] == ["aws_instance.web"]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("namespaces: []\n", "namespaces"),
        ("namespaces: [main]\nrego: v2\n", "rego"),
        ("namespaces: [main]\ninput_key: 'a b'\n", "input_key"),
        ("namespaces: ['main; drop']\n", "not a Rego package"),
        ("groups: []\n", "groups"),
        ("namespace: [main]\n", "namespace"),
        ("[unclosed\n", "cannot be read"),
    ],
)
def test_a_bad_policies_yaml_is_refused_naming_the_field(
    tmp_path: Path, config: str, expected: str
) -> None:
    (tmp_path / "policies.yaml").write_text(config)
    with pytest.raises(PolicyConfigError, match=expected):
        read_groups(tmp_path)
    policies = PolicySet.from_paths([tmp_path])
    [problem] = policies.problems
    assert "policies.yaml" in problem
