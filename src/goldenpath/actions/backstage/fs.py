"""``fs:rename`` and ``fs:delete``: change the files earlier steps put in the workspace."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from goldenpath.actions.base import Action, ActionInputs, Context


class Rename(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    from_: str = Field(alias="from", min_length=1)
    to: str = Field(min_length=1)
    overwrite: bool = False


class FsRenameInputs(ActionInputs):
    files: list[Rename] = Field(min_length=1)


class FsDeleteInputs(ActionInputs):
    files: list[str] = Field(min_length=1, description="Paths or globs in the workspace.")


class FsRename(Action[FsRenameInputs]):
    id = "fs:rename"
    description = "Rename files or folders in the workspace."
    Inputs = FsRenameInputs
    examples = ({"files": [{"from": "README.tmpl", "to": "README.md"}]},)

    def apply(self, ctx: Context[FsRenameInputs]) -> dict[str, Any]:
        files = [f.model_dump(by_alias=True) for f in ctx.inputs.files]
        return {"workspace": {"op": self.id, "files": files}}


class FsDelete(Action[FsDeleteInputs]):
    id = "fs:delete"
    description = "Delete files (paths or globs) from the workspace."
    Inputs = FsDeleteInputs
    examples = ({"files": ["docs/draft.md"]},)

    def apply(self, ctx: Context[FsDeleteInputs]) -> dict[str, Any]:
        return {"workspace": {"op": self.id, "files": list(ctx.inputs.files)}}
