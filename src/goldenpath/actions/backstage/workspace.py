"""The files a Backstage template's steps build up, kept as a list of operations.

Backstage's steps share a working directory: ``fetch:template`` writes into it, ``fs:rename``
moves files, ``publish:github`` pushes it. Here each of those steps returns the operation it
stands for as its ``workspace`` output, stored with the step like any output, and the steps that
need the files (``publish:*``, ``catalog:register``) receive the earlier operations as an input
and replay them in memory. The files are thus a pure function of stored data: a request resumed
by another worker, on another machine, publishes exactly the same files, and nothing is left on
any disk.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from goldenpath.actions.git.skeleton import SkeletonFile, render_skeleton, skeleton_folder
from goldenpath.errors import ActionError
from goldenpath.templates.backstage.filters import FILTERS

Files = dict[str, SkeletonFile]

# Backstage's skeletons are Nunjucks with ``${{ }}`` for values and the usual ``{% %}`` blocks.
_SKELETON_ENV = SandboxedEnvironment(
    variable_start_string="${{",
    variable_end_string="}}",
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,
)
_SKELETON_ENV.filters.update(FILTERS)


def is_pending(operations: Sequence[Any]) -> bool:
    """Whether the operations are still placeholders (a plan, before the steps ran)."""
    return any(isinstance(op, str) for op in _flat(operations))


def relative_path(url: str, field: str) -> str:
    """A ``url``/``targetPath`` as a plain relative path; only the template's own folder is read."""
    text = url.strip()
    if "://" in text:
        raise ActionError(
            problem=f"{field} '{text}': only folders shipped beside the template can be fetched"
        )
    parts = [p for p in PurePosixPath(text).parts if p not in (".", "/")]
    if text.startswith("/") or ".." in parts:
        raise ActionError(problem=f"{field} '{text}' must stay inside its folder (no '..')")
    return "/".join(parts)


def fetch(
    template_dir: Path | None,
    url: str,
    values: Mapping[str, Any] | None,
    verbatim: Sequence[str] = (),
) -> Files:
    """The files of the folder ``url`` of the template; rendered when ``values`` is given."""
    folder = skeleton_folder(template_dir, relative_path(url, "url") or ".")
    if values is None:  # fetch:plain copies, paths and contents as they are
        return {
            f.path: f
            for f in render_skeleton(folder, {}, environment=_SKELETON_ENV, verbatim=["*"])
        }
    files = render_skeleton(
        folder, {"values": dict(values)}, environment=_SKELETON_ENV, verbatim=verbatim
    )
    return {f.path: f for f in files}


def replay(template_dir: Path | None, operations: Sequence[Any]) -> Files:
    """The workspace after every operation, in order."""
    files: Files = {}
    for op in _flat(operations):
        if not isinstance(op, Mapping):
            raise ActionError(problem=f"workspace operation {op!r} is not an operation")
        _apply(files, template_dir, op)
    return files


def below(files: Files, source_path: str) -> Files:
    """The files under ``source_path`` (``publish:*`` inputs), with paths relative to it."""
    prefix = relative_path(source_path, "sourcePath")
    if not prefix:
        return dict(files)
    return {
        path[len(prefix) + 1 :]: SkeletonFile(path[len(prefix) + 1 :], f.content, f.executable)
        for path, f in files.items()
        if path.startswith(prefix + "/")
    }


def _apply(files: Files, template_dir: Path | None, op: Mapping[str, Any]) -> None:
    kind = op.get("op")
    if kind in ("fetch:template", "fetch:plain"):
        target = relative_path(str(op.get("targetPath") or "."), "targetPath")
        values = dict(op.get("values") or {}) if kind == "fetch:template" else None
        verbatim = list(op.get("copyWithoutTemplating") or ())
        fetched = fetch(template_dir, str(op["url"]), values, verbatim)
        for path, file in fetched.items():
            full = f"{target}/{path}" if target else path
            if full in files and not op.get("replace", kind == "fetch:plain"):
                continue
            files[full] = SkeletonFile(full, file.content, file.executable)
    elif kind == "fs:rename":
        for item in op.get("files") or ():
            _rename(files, item)
    elif kind == "fs:delete":
        for glob in op.get("files") or ():
            pattern = relative_path(str(glob), "files")
            for path in [p for p in files if _matches(p, pattern)]:
                del files[path]
    elif kind == "catalog:write":
        path = relative_path(str(op.get("filePath") or "catalog-info.yaml"), "filePath")
        text = yaml.safe_dump(op.get("entity"), sort_keys=False)
        files[path] = SkeletonFile(path, text.encode("utf-8"))
    else:
        raise ActionError(problem=f"unknown workspace operation {kind!r}")


def _rename(files: Files, item: Mapping[str, Any]) -> None:
    source = relative_path(str(item.get("from", "")), "files.from")
    target = relative_path(str(item.get("to", "")), "files.to")
    moved = {p: f for p, f in files.items() if p == source or p.startswith(source + "/")}
    if not moved:
        raise ActionError(problem=f"fs:rename: '{source}' is not in the workspace")
    for path, file in moved.items():
        new = target + path[len(source) :]
        if new in files and new not in moved and not item.get("overwrite"):
            raise ActionError(problem=f"fs:rename: '{new}' exists (set overwrite: true)")
        del files[path]
        files[new] = SkeletonFile(new, file.content, file.executable)


def _matches(path: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(path, pattern) or path.startswith(pattern.rstrip("/") + "/")


def _flat(operations: Iterable[Any]) -> list[Any]:
    flat: list[Any] = []
    for op in operations:
        if op is None:
            continue  # a step that was skipped by its ``if``
        if isinstance(op, list):
            flat.extend(_flat(op))  # a step run with ``each``
        else:
            flat.append(op)
    return flat
