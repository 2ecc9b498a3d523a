"""A queued request runs the files it was judged with, or nothing at all."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from goldenpath.app import Platform
from tests.conftest import BackgroundWorker, member, wait_for_request

TEMPLATE = """\
apiVersion: goldenpath.dev/v1
kind: GoldenPath
metadata: {name: bundled, version: "1.0.0"}
spec:
  steps:
    - id: hello
      action: debug:log
      input: {message: hello}
"""


def test_changed_files_under_the_same_version_stop_a_queued_request(
    make_platform: Callable[..., Platform], tmp_path: Path
) -> None:
    folder = tmp_path / "paths" / "bundled"
    (folder / "module").mkdir(parents=True)
    (folder / "template.yaml").write_text(TEMPLATE)
    (folder / "module" / "main.tf").write_text('resource "terraform_data" "a" {}\n')
    platform = make_platform(template_dirs=[tmp_path / "paths"])
    alice = member("alice", "payments")
    queued = platform.service.submit("bundled", {}, alice)
    (folder / "module" / "main.tf").write_text('resource "terraform_data" "b" {}\n')
    with BackgroundWorker(platform):
        stopped = wait_for_request(platform, queued.id)
    assert stopped.status == "failed"
    assert stopped.error is not None and "changed since this request" in stopped.error
    assert [s.status for s in stopped.steps] == ["pending"]

    reloaded = make_platform(template_dirs=[tmp_path / "paths"])  # a restart loads the new files
    with BackgroundWorker(reloaded):
        fresh = reloaded.service.submit("bundled", {}, alice)
        assert wait_for_request(reloaded, fresh.id).status == "succeeded"
