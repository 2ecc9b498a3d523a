from __future__ import annotations

import shutil
from pathlib import Path

from goldenpath.policy import run_rego_tests

STARTER = Path(__file__).resolve().parents[3] / "starter" / "policies"


def test_every_starter_policy_has_passing_tests() -> None:
    report = run_rego_tests([STARTER])
    assert report.passed, [(r.file, r.name, r.error) for r in report.failures]
    tested = {r.file.removesuffix("_test.rego") for r in report.results}
    policies = {p.stem for p in STARTER.glob("*.rego") if not p.name.endswith("_test.rego")}
    assert tested == policies
    assert len(report.results) >= 2 * len(policies)


def test_a_broken_test_is_reported_failed(tmp_path: Path) -> None:
    shutil.copy(STARTER / "instance_types.rego", tmp_path)
    (tmp_path / "instance_types_test.rego").write_text(
        "package goldenpath.instance_types_test\n"
        "import data.goldenpath.instance_types\n"
        "test_large_allowed if {\n"
        '\tcount(instance_types.deny) == 0 with input as {"plan": {"resources": [\n'
        '\t\t{"normalized": {"kind": "compute.instance", "provider": "aws", "address": "a", '
        '"provider_type": "aws:ec2:instance", "change": "create", "sizes": ["m5.large"]}}\n'
        "\t]}}\n"
        "}\n"
        "test_passes if { true }\n"
    )
    report = run_rego_tests([tmp_path])
    assert not report.passed
    assert report.summary == "1 passed, 1 failed"
    [failure] = report.failures
    assert (failure.package, failure.name) == (
        "goldenpath.instance_types_test",
        "test_large_allowed",
    )
    assert failure.error == "expected true, got undefined"


def test_a_test_file_that_does_not_parse_is_a_failure(tmp_path: Path) -> None:
    (tmp_path / "x_test.rego").write_text("package x_test\ntest_a if {\n")
    report = run_rego_tests([tmp_path])
    assert not report.passed
    [failure] = report.failures
    assert failure.file == "x_test.rego"
    assert failure.error is not None
    assert "expecting" in failure.error


def test_an_empty_folder_does_not_pass(tmp_path: Path) -> None:
    assert not run_rego_tests([tmp_path]).passed
