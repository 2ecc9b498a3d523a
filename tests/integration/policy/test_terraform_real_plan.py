from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from goldenpath.policy import PolicySet, check_plan, plan_document

STARTER = Path(__file__).resolve().parents[3] / "starter" / "policies"

pytestmark = pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is missing")

MODULE = """
resource "terraform_data" "bucket" {
  input = {
    bucket = "logs"
    acl    = "public-read"
  }
}

resource "terraform_data" "marker" {
  input = "v1"
}
"""


def terraform(workdir: Path, *args: str) -> str:
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    done = subprocess.run(
        ["terraform", *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def real_plan(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    workdir = tmp_path_factory.mktemp("tf")
    (workdir / "main.tf").write_text(MODULE)
    terraform(workdir, "init", "-input=false", "-no-color")
    terraform(workdir, "plan", "-input=false", "-no-color", "-out=plan.out")
    document: dict[str, Any] = json.loads(terraform(workdir, "show", "-json", "plan.out"))
    return document


def test_plan_document_reads_a_real_terraform_plan(real_plan: dict[str, Any]) -> None:
    document = plan_document(real_plan)
    assert document["format_version"] == real_plan["format_version"]
    assert document["resource_changes"] == real_plan["resource_changes"]
    assert sorted(document["goldenpath"]["creates"]) == [
        "terraform_data.bucket",
        "terraform_data.marker",
    ]
    assert document["goldenpath"]["deletes"] == []


def test_terraform_data_does_not_fire_the_s3_policy(real_plan: dict[str, Any]) -> None:
    policies = PolicySet.from_paths([STARTER])
    verdict = check_plan(policies, real_plan)
    assert verdict.decision == "allow", verdict.as_dict()


def test_a_policy_over_the_real_plan_can_deny(real_plan: dict[str, Any]) -> None:
    policies = PolicySet.from_sources(
        {
            "no_data.rego": (
                "package goldenpath.terraform.no_data\n"
                "deny contains msg if {\n"
                "\tsome address in input.goldenpath.creates\n"
                '\tstartswith(address, "terraform_data.")\n'
                '\tmsg := sprintf("%s creates a terraform_data resource", [address])\n'
                "}\n"
            )
        }
    )
    verdict = check_plan(policies, real_plan)
    assert [v.message for v in verdict.violations] == [
        "terraform_data.bucket creates a terraform_data resource",
        "terraform_data.marker creates a terraform_data resource",
    ]
