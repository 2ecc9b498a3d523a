"""``terraform init`` once per module, not once per run.

Every run starts from a fresh copy of the module (see `workspace.prepare`), so every run would
initialize it again: about 70 ms for a module without providers, seconds with them. What
``init`` leaves (``.terraform/`` and ``.terraform.lock.hcl``) depends only on the files of the
copy, the backend configuration and the binary, so the first run keeps it under a key made of
those, and later runs with the same key restore it instead of running ``init``.

Only for the state the platform serves (the ``http`` backend, its address and credential in
the environment, never in ``.terraform/``) and the empty local state of a first plan: there
``.terraform/`` holds nothing of any one workspace. ``pg`` and ``remote`` backends always run
``init``. An entry is written to a folder of its own, then renamed into place, and never
changed after; provider binaries are hard-linked into the run's copy, not copied.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from goldenpath.actions.terraform.workspace import VARIABLES_FILE, fingerprint

INIT_CACHE = ".init"  # under <data_dir>/terraform
KEPT = (".terraform", ".terraform.lock.hcl")
# The variables do not change what init installs; every run writes its own. (The key is made
# before init, so a lock file in it is the module's own.)
_NOT_HASHED = frozenset({VARIABLES_FILE})


class InitCache:
    def __init__(self, root: Path) -> None:
        self.root = root

    def key(self, workdir: Path, binary: Path, backend_config: Mapping[str, str]) -> str:
        """What init's result depends on: the copy's files, the backend config, the binary."""
        config = (f"{name}={value}" for name, value in sorted(backend_config.items()))
        return fingerprint(workdir, binary, config, leave_out=_NOT_HASHED)

    def restore(self, key: str, workdir: Path) -> bool:
        """Put the kept result of init into ``workdir``; False when there is none yet."""
        entry = self.root / key
        if not entry.is_dir():
            return False
        for name in KEPT:
            kept = entry / name
            if kept.is_dir():
                shutil.copytree(kept, workdir / name, symlinks=True, copy_function=_link_or_copy)
            elif kept.is_file():
                shutil.copy2(kept, workdir / name)
        return True

    def keep(self, key: str, workdir: Path) -> None:
        """Keep what init left in ``workdir`` under ``key`` (the first run to finish wins)."""
        entry = self.root / key
        if entry.exists():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(prefix=".building-", dir=self.root))
        try:
            for name in KEPT:
                made = workdir / name
                if made.is_dir():
                    shutil.copytree(made, building / name, symlinks=True)
                elif made.is_file():
                    shutil.copy2(made, building / name)
            os.rename(building, entry)
        except OSError:
            pass  # another run kept this key first, or the copy failed: a later run inits again
        finally:
            shutil.rmtree(building, ignore_errors=True)


def _link_or_copy(source: str, destination: str) -> object:
    """Provider binaries (large, never written to) are hard-linked; anything else copied, so
    that a run cannot change the kept entry."""
    if f"{os.sep}providers{os.sep}" in source:
        try:
            os.link(source, destination)
            return destination
        except OSError:
            pass
    return shutil.copy2(source, destination)
