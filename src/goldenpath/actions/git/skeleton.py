"""A repository skeleton: the files shipped in a template's folder, rendered for one repository.

The skeleton is the only part of the template folder an action reads, so its path is checked
twice: as text (relative, no ``..``) and after resolving symlinks (still inside the template
folder). Files are rendered by a sandboxed Jinja2 environment; the developer's values are data in
the render context and are never rendered themselves.
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from jinja2 import Environment, StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from goldenpath.errors import ActionError

# Generous for a starter repository, small enough that a mistaken skeleton (a vendored tree,
# a build folder) is refused instead of being pushed to a hosting API one file at a time.
MAX_FILES = 200
MAX_FILE_BYTES = 1_000_000
MAX_TOTAL_BYTES = 5_000_000
SKELETON_PATH = r"[A-Za-z0-9_.][A-Za-z0-9_./-]{0,199}"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class SkeletonFile:
    """One rendered file: a relative POSIX path, its bytes, and whether it is executable."""

    path: str
    content: bytes
    executable: bool = False


def check_skeleton_path(skeleton: str) -> str:
    """The textual check, used by the action's inputs: relative, no ``..``, plain characters."""
    if not re.fullmatch(SKELETON_PATH, skeleton):
        raise ValueError("must be a relative folder path of letters, digits, '_', '-', '.', '/'")
    parts = PurePosixPath(skeleton).parts
    if skeleton.startswith("/") or ".." in parts:
        raise ValueError("must stay inside the template's folder (no '..', no absolute path)")
    return skeleton


def skeleton_folder(template_dir: Path | None, skeleton: str) -> Path:
    """The skeleton folder, resolved; refused when it (or a symlink on the way) leaves the
    template folder."""
    if template_dir is None:
        raise ActionError(problem="git:repo needs the template's folder to read its skeleton")
    try:
        check_skeleton_path(skeleton)
    except ValueError as exc:
        raise ActionError(problem=f"skeleton '{skeleton}' {exc}") from None
    base = template_dir.resolve()
    folder = (base / skeleton).resolve()
    if not folder.is_relative_to(base):
        raise ActionError(problem=f"skeleton '{skeleton}' leaves the template's folder")
    if not folder.is_dir():
        raise ActionError(problem=f"skeleton '{skeleton}' is not a folder of the template")
    return folder


def render_skeleton(
    folder: Path,
    context: Mapping[str, Any],
    *,
    environment: Environment | None = None,
    verbatim: Sequence[str] = (),
) -> tuple[SkeletonFile, ...]:
    """Every file under ``folder`` with its name and text rendered against ``context``.

    ``environment`` is a sandboxed Jinja2 environment (Backstage skeletons use ``${{ }}``);
    files matching a ``verbatim`` glob keep their content as it is (their names still render).
    All files are read and rendered before anything is created, so a bad skeleton leaves
    nothing half-made.
    """
    folder = folder.resolve()
    env = environment or SandboxedEnvironment(
        undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False
    )
    files: dict[str, SkeletonFile] = {}
    total = 0
    for source in _walk(folder):
        relative = source.relative_to(folder)
        path = "/".join(_render_name(env, part, context, relative) for part in relative.parts)
        if path in files:
            raise ActionError(problem=f"skeleton files render to the same path '{path}'")
        info = source.stat()
        if info.st_size > MAX_FILE_BYTES:
            raise ActionError(problem=f"skeleton file '{relative}' is larger than 1 MB")
        total += info.st_size
        if total > MAX_TOTAL_BYTES or len(files) >= MAX_FILES:
            raise ActionError(problem="the skeleton is too large (200 files, 5 MB at most)")
        as_is = any(fnmatch.fnmatchcase(relative.as_posix(), glob) for glob in verbatim)
        files[path] = SkeletonFile(
            path=path,
            content=source.read_bytes()
            if as_is
            else _render_content(env, source, relative, context),
            executable=bool(info.st_mode & stat.S_IXUSR),
        )
    if not files:
        raise ActionError(problem="the skeleton folder has no files")
    return tuple(files[p] for p in sorted(files))


def _walk(folder: Path) -> list[Path]:
    """Regular files under ``folder``; symlinks only when they point to a file inside it."""
    found: list[Path] = []
    for directory, subdirs, names in os.walk(folder, followlinks=False):
        here = Path(directory)
        for sub in sorted(subdirs):
            if (here / sub).is_symlink():
                # Followed folders could loop or leave the skeleton; a skeleton has no need.
                raise ActionError(problem=f"skeleton folder '{sub}' is a symlink; not supported")
        for name in sorted(names):
            path = here / name
            if path.is_symlink() and not path.resolve().is_relative_to(folder):
                raise ActionError(
                    problem=f"skeleton file '{path.relative_to(folder)}' is a symlink leaving "
                    "the skeleton"
                )
            if not path.resolve().is_file():
                raise ActionError(
                    problem=f"skeleton entry '{path.relative_to(folder)}' is not a file"
                )
            found.append(path)
    return sorted(found)


def _render_name(env: Environment, part: str, context: Mapping[str, Any], relative: Path) -> str:
    name = _render(env, part, context, relative) if "{" in part else part
    if not name or name in (".", "..", ".git") or "/" in name or "\\" in name:
        raise ActionError(problem=f"skeleton path '{relative}' renders to a bad name '{name}'")
    if _CONTROL.search(name):
        raise ActionError(problem=f"skeleton path '{relative}' renders to a control character")
    return name


def _render_content(
    env: Environment, source: Path, relative: Path, context: Mapping[str, Any]
) -> bytes:
    raw = source.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw  # binary files (images, archives) are copied as they are
    return _render(env, text, context, relative).encode("utf-8")


def _render(env: Environment, text: str, context: Mapping[str, Any], relative: Path) -> str:
    try:
        return env.from_string(text).render(context)
    except TemplateError as exc:
        # SecurityError (sandbox), UndefinedError and syntax errors all derive from it.
        raise ActionError(problem=f"skeleton file '{relative}' does not render: {exc}") from None
