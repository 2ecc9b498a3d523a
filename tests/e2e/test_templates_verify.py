"""`goldenpath templates verify` as a template repository's CI runs it: never a pass for nothing."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_goldenpath

TEMPLATE = """\
apiVersion: goldenpath.dev/v1
kind: GoldenPath
metadata:
  name: {name}
spec:
  parameters:
    required: [answer]
    properties:
{properties}
  steps:
    - id: say
      action: debug:log
      input:
        message: ${{{{ parameters.answer }}}}
"""


def write(folder: Path, name: str, properties: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(TEMPLATE.format(name=name, properties=properties))
    return path


def test_an_enum_of_yes_and_no_is_verified_for_both_strings(tmp_path: Path) -> None:
    write(tmp_path, "yes-no", "      answer: {type: string, enum: [yes, no]}")
    result = run_goldenpath("templates", "verify", str(tmp_path), "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    [checked] = json.loads(result.stdout)["templates"]
    assert (checked["ok"], checked["inputs"], checked["exhaustive"]) == (True, 2, True)


def test_a_form_that_accepts_no_generated_input_is_never_a_pass(tmp_path: Path) -> None:
    # Every string the sampler can make is refused: 0 inputs tried, which proves nothing.
    write(tmp_path, "nothing", '      answer: {type: string, pattern: "^a$", minLength: 2}')
    result = run_goldenpath("templates", "verify", str(tmp_path), "--samples", "5")
    assert result.returncode == 5, result.stdout + result.stderr
    assert "verified nothing" in result.stdout

    as_json = run_goldenpath("templates", "verify", str(tmp_path), "--samples", "5", "--json")
    assert as_json.returncode == 5
    report = json.loads(as_json.stdout)
    assert report["ok"] is False
    assert report["templates"][0]["inputs"] == 0


def test_an_invalid_template_exits_2_and_is_listed(tmp_path: Path) -> None:
    write(tmp_path, "fine", "      answer: {type: string, enum: [a, b]}")
    (tmp_path / "broken.yaml").write_text("apiVersion: goldenpath.dev/v1\nkind: Nope\n")
    result = run_goldenpath("templates", "verify", str(tmp_path), "--json")
    assert result.returncode == 2, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert [t["template"] for t in report["templates"]] == ["fine"]
    assert "broken.yaml" in report["invalid"][0]
