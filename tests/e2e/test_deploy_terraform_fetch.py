"""The image's optional terraform (Dockerfile, TERRAFORM_VERSION): deploy/docker/fetch_terraform.py
installs a release only when it matches the release's SHA256SUMS. Served by a local HTTP server
with HashiCorp's release layout (<version>/terraform_<version>_SHA256SUMS and the zip)."""

from __future__ import annotations

import hashlib
import http.server
import io
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from tests.unit.deploy.artifacts import ROOT

SCRIPT = ROOT / "deploy" / "docker" / "fetch_terraform.py"
VERSION = "9.9.9"
FAKE_TERRAFORM = "#!/bin/sh\necho 'Terraform v9.9.9'\n"


def _release(root: Path, *, tamper: bool) -> None:
    name = f"terraform_{VERSION}_linux_amd64.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr("terraform", FAKE_TERRAFORM)
    archive = buffer.getvalue()
    digest = hashlib.sha256(archive + (b"x" if tamper else b"")).hexdigest()
    folder = root / VERSION
    folder.mkdir(parents=True)
    (folder / name).write_bytes(archive)
    (folder / f"terraform_{VERSION}_SHA256SUMS").write_text(
        f"{'0' * 64}  terraform_{VERSION}_darwin_arm64.zip\n{digest}  {name}\n"
    )


@pytest.fixture
def releases(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    served = tmp_path / "releases"
    served.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", served
    finally:
        server.shutdown()
        server.server_close()


def _fetch(url: str, dest: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), VERSION, "amd64", str(dest), url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_release_matching_its_checksum_is_installed_and_runs(
    releases: tuple[str, Path], tmp_path: Path
) -> None:
    url, served = releases
    _release(served, tamper=False)
    dest = tmp_path / "bin"
    dest.mkdir()

    result = _fetch(url, dest)

    assert result.returncode == 0, result.stderr
    version = subprocess.run(
        [str(dest / "terraform"), "version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.strip() == "Terraform v9.9.9"


def test_a_release_that_does_not_match_its_checksum_is_refused(
    releases: tuple[str, Path], tmp_path: Path
) -> None:
    url, served = releases
    _release(served, tamper=True)
    dest = tmp_path / "bin"
    dest.mkdir()

    result = _fetch(url, dest)

    assert result.returncode != 0
    assert "checksum mismatch" in result.stderr
    assert list(dest.iterdir()) == []


def test_the_dockerfile_runs_the_fetch_only_when_asked() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert 'if [ -n "$TERRAFORM_VERSION" ]; then' in text
    assert "fetch_terraform.py" in text
