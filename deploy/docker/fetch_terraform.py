"""Download terraform VERSION for ARCH into DEST, checked against HashiCorp's SHA256SUMS.

    python3 fetch_terraform.py VERSION ARCH DEST [RELEASES_URL]

Used by the Dockerfile when the build argument TERRAFORM_VERSION is set; plain standard library,
so the slim image needs neither curl nor unzip. RELEASES_URL (a mirror) defaults to HashiCorp's.
Nothing is written unless the archive matches its published checksum.
"""

from __future__ import annotations

import hashlib
import io
import sys
import urllib.request
import zipfile
from pathlib import Path

RELEASES = "https://releases.hashicorp.com/terraform"


def main(version: str, arch: str, dest: str, releases: str = RELEASES) -> None:
    name = f"terraform_{version}_linux_{arch}.zip"
    with urllib.request.urlopen(f"{releases}/{version}/terraform_{version}_SHA256SUMS") as got:
        sums = got.read().decode()
    expected = next((ln.split()[0] for ln in sums.splitlines() if ln.endswith(f" {name}")), None)
    if expected is None:
        sys.exit(f"{name} is not in the release's SHA256SUMS")
    with urllib.request.urlopen(f"{releases}/{version}/{name}") as got:
        archive = got.read()
    if hashlib.sha256(archive).hexdigest() != expected:
        sys.exit(f"{name}: checksum mismatch")
    with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
        target = Path(dest) / "terraform"
        target.write_bytes(bundle.read("terraform"))
        target.chmod(0o755)


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    main(*sys.argv[1:])
