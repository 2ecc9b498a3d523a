"""A workspace's working directory: a fresh copy of the template's module, never a stale one.

Paths the template gives (the module, var files) must stay inside the template's folder:
absolute paths, ``..`` and symlinks that lead out are refused. The copy leaves out anything a
module author's own runs may have left (``.terraform``, local state, saved plans), and gets an
override file that points state at the ``pg`` backend with a *partial* configuration: the
schema comes in as ``-backend-config``, the connection string as ``PG_CONN_STR``, so no
credential is ever written to disk.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from goldenpath.errors import ConfigurationError, InvalidInput

BACKEND_OVERRIDE = "goldenpath_backend_override.tf"
VARIABLES_FILE = "goldenpath.tfvars.json"
_LEFT_OUT = shutil.ignore_patterns(
    ".terraform", "terraform.tfstate", "terraform.tfstate.*", "*.tfplan", "tfplan", ".git"
)


def inside_template(template_dir: Path | None, relative: str, field: str) -> Path:
    """``relative`` resolved inside the template folder, or `InvalidInput` naming ``field``."""
    if template_dir is None:
        raise ConfigurationError(problem="terraform:apply needs the template's folder")
    path = Path(relative)
    if path.is_absolute() or ".." in path.parts:
        raise InvalidInput(field=field, rule="must be a relative path inside the template folder")
    root = template_dir.resolve()
    resolved = (root / path).resolve()
    if not resolved.is_relative_to(root):
        raise InvalidInput(field=field, rule="leads outside the template folder (symlink)")
    if not resolved.exists():
        raise InvalidInput(field=field, rule=f"'{relative}' does not exist in the template folder")
    return resolved


def module_source(template_dir: Path | None, module: str) -> Path:
    """The module folder, checked: inside the template, with ``.tf`` files, no escaping links."""
    folder = inside_template(template_dir, module, "module")
    assert template_dir is not None
    if not folder.is_dir():
        raise InvalidInput(field="module", rule=f"'{module}' is not a folder")
    if not any(folder.glob("*.tf")) and not any(folder.glob("*.tf.json")):
        raise InvalidInput(field="module", rule=f"'{module}' holds no Terraform (.tf) files")
    _check_links(folder, template_dir.resolve())
    return folder


def var_file_paths(template_dir: Path | None, var_files: Sequence[str]) -> list[Path]:
    paths = []
    for index, relative in enumerate(var_files):
        path = inside_template(template_dir, relative, f"var_files.{index}")
        if not path.is_file():
            raise InvalidInput(field=f"var_files.{index}", rule=f"'{relative}' is not a file")
        paths.append(path)
    return paths


def prepare(
    source: Path,
    destination: Path,
    variables: Mapping[str, Any],
    *,
    state_backend: str | None,
) -> Path:
    """Copy ``source`` to ``destination`` afresh and write the variables and backend files.

    ``state_backend`` (``pg``, ``local``) replaces whatever backend the module declares, with
    an empty block: its settings come from ``-backend-config`` and the environment.
    """
    if destination.exists():
        shutil.rmtree(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    # Links were checked to stay inside the template; the copy holds their targets.
    shutil.copytree(source, destination, symlinks=False, ignore=_LEFT_OUT)
    if state_backend is not None:
        block = f'terraform {{\n  backend "{state_backend}" {{}}\n}}\n'
        (destination / BACKEND_OVERRIDE).write_text(block, encoding="utf-8")
    # Keys sorted: the same variables make the same file (a saved plan's digest reads it).
    document = json.dumps(dict(variables), sort_keys=True)
    (destination / VARIABLES_FILE).write_text(document, encoding="utf-8")
    return destination


def fingerprint(
    workdir: Path, binary: Path, parts: Iterable[str], *, leave_out: frozenset[str] = frozenset()
) -> str:
    """A digest of a prepared copy's files (but the top-level names in ``leave_out``), the
    Terraform binary (path, size, time) and ``parts``: what a run's result depends on."""
    digest = hashlib.sha256()
    stat = binary.stat()
    digest.update(f"{binary.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    for part in parts:
        digest.update(f"{part}\0".encode())
    files = (p for p in workdir.rglob("*") if p.relative_to(workdir).parts[0] not in leave_out)
    for path in sorted(p for p in files if p.is_file()):
        digest.update(f"{path.relative_to(workdir).as_posix()}\0{path.stat().st_size}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _check_links(folder: Path, root: Path) -> None:
    """Every symlink under ``folder`` (followed, as the copy follows them) stays in ``root``."""
    for current, directories, files in os.walk(folder, followlinks=True):
        here = Path(current).resolve()
        for name in [*directories, *files]:
            path = Path(current) / name
            if not path.is_symlink():
                continue
            target = path.resolve()
            relative = path.relative_to(folder)
            if not target.is_relative_to(root):
                raise InvalidInput(
                    field="module",
                    rule=f"'{relative}' is a symlink leading outside the template folder",
                )
            if path.is_dir() and here.is_relative_to(target):
                raise InvalidInput(field="module", rule=f"'{relative}' is a symlink loop")
