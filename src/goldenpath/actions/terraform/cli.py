"""The Terraform commands the action runs, in one working directory, within one deadline.

Each command's output goes to the step log as it comes (``-no-color``; ``-json`` runs are
logged by their messages). A command that meets a locked state is retried with backoff: the
holder may be finishing. A lock left by a Terraform that was killed is dropped by the state
server as soon as the command is over, and one left by a dead worker lapses with its lease.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from goldenpath.actions.terraform import diagnostics
from goldenpath.actions.terraform.init_cache import InitCache
from goldenpath.actions.terraform.process import Completed, Deadline, run
from goldenpath.actions.terraform.workspace import VARIABLES_FILE
from goldenpath.errors import ActionError

LOCK_RETRIES = 4
NO_STATE = "No state file was found"
_FIRST_BACKOFF = 1.0
# Inherited variables that would change what Terraform does behind the action's back.
_SCRUBBED = ("TF_WORKSPACE", "TF_DATA_DIR", "TF_CLI_ARGS", "TF_LOG", "TF_LOG_PATH")
_OUTPUT_TAIL = 2000


class StateLocked(ActionError):
    """the state of workspace '{workspace}' is locked by another Terraform run ({details_text});
    gave up after {attempts} attempts. A lock left by a worker that died lapses once its lease
    is no longer renewed."""


@dataclass
class TerraformCli:
    binary: Path
    cwd: Path
    workspace: str
    deadline: Deadline
    log: Callable[[str, str], None]
    env: Mapping[str, str] = field(default_factory=dict)
    var_files: Sequence[Path] = ()
    cancel: threading.Event | None = None
    backend_config: Mapping[str, str] = field(default_factory=dict)
    # Called after every command, however it ended (the state server drops a killed
    # Terraform's lock).
    after_command: Callable[[], None] | None = None
    # Where the outputs can be read without a Terraform run (the platform's state server).
    state_outputs: Callable[[], dict[str, Any]] | None = None
    # Where init's result is kept for the next run of the same module (None: always init).
    init_cache: InitCache | None = None

    # --- commands ---------------------------------------------------------------------------

    def init(self) -> None:
        cache = self.init_cache
        kept_as = cache.key(self.cwd, self.binary, self.backend_config) if cache else ""
        if cache is not None and cache.restore(kept_as, self.cwd):
            return
        args = ["init", "-input=false", "-no-color"]
        args += [f"-backend-config={key}={value}" for key, value in self.backend_config.items()]
        self._run(args)
        if cache is not None:
            cache.keep(kept_as, self.cwd)

    def plan(self, *extra: str, out: str | None = None, ok: tuple[int, ...] = (0,)) -> Completed:
        """``plan -json``: machine-readable diagnostics, logged message by message."""
        args = ["plan", "-input=false", "-json", *self._var_args(), *extra]
        if out is not None:
            args.append(f"-out={out}")
        return self._run(args, json_ui=True, ok=ok)

    def show_json(self, plan_file: str) -> dict[str, Any]:
        return _json_object(self._run(["show", "-json", "-no-color", plan_file], echo=False))

    def apply(self, plan_file: str) -> None:
        self._run(["apply", "-input=false", "-no-color", "-auto-approve", plan_file])

    def destroy(self) -> None:
        self._run(["destroy", "-input=false", "-no-color", "-auto-approve", *self._var_args()])

    def outputs(self) -> dict[str, Any]:
        if self.state_outputs is not None:
            return self.state_outputs()
        return _json_object(self._run(["output", "-json", "-no-color"], echo=False))

    def state_list(self) -> list[str]:
        """Addresses in the state; none when the workspace has no state at all yet."""
        args = ["state", "list", "-no-color"]
        completed = self._run(args, echo=False, ok=(0, 1))
        if completed.exit_code == 1:
            if NO_STATE in completed.stderr + completed.stdout:
                return []
            raise self._failure("state", completed, json_ui=False)
        return [line.strip() for line in completed.stdout.splitlines() if line.strip()]

    # --- running ----------------------------------------------------------------------------

    def _var_args(self) -> list[str]:
        # The rendered variables come last, so they win over the template's var files.
        return [*(f"-var-file={path}" for path in self.var_files), f"-var-file={VARIABLES_FILE}"]

    def _run(
        self,
        args: list[str],
        *,
        json_ui: bool = False,
        echo: bool = True,
        ok: tuple[int, ...] = (0,),
    ) -> Completed:
        backoff = _FIRST_BACKOFF
        for attempt in range(1, LOCK_RETRIES + 1):
            try:
                completed = run(
                    [str(self.binary), *args],
                    cwd=self.cwd,
                    env=self._environment(),
                    deadline=self.deadline,
                    on_line=self._sink(json_ui=json_ui, echo=echo),
                    cancel=self.cancel,
                )
            finally:
                if self.after_command is not None:
                    self.after_command()
            if completed.exit_code in ok:
                return completed
            output = completed.stdout + completed.stderr
            if not diagnostics.is_lock_error(output):
                raise self._failure(args[0], completed, json_ui=json_ui)
            if attempt == LOCK_RETRIES or self.deadline.remaining <= backoff:
                raise StateLocked(
                    workspace=self.workspace, attempts=attempt, details_text=_lock_holder(output)
                )
            self.log(f"state is locked; retrying in {backoff:g} s", "warning")
            time.sleep(backoff)
            backoff *= 2
        raise AssertionError("unreachable")

    def _failure(self, command: str, completed: Completed, *, json_ui: bool) -> Exception:
        if json_ui:
            errors = [
                d
                for d in diagnostics.diagnostics(diagnostics.ui_messages(completed.stdout))
                if d.severity == "error"
            ]
        else:
            errors = diagnostics.text_errors(completed.stderr or completed.stdout)
        tail = (completed.stderr or completed.stdout)[-_OUTPUT_TAIL:]
        return diagnostics.failure(command, errors, tail)

    def _sink(self, *, json_ui: bool, echo: bool) -> Callable[[str, str], None]:
        def sink(line: str, stream: str) -> None:
            if stream == "stdout" and not echo:
                return
            if stream == "stdout" and json_ui:
                message = diagnostics.parse_ui_line(line)
                if message is None:
                    return
                level = str(message.get("@level", "info"))
                self.log(diagnostics.log_text(message), "error" if level == "error" else "info")
                return
            if line.strip():
                self.log(line, "info" if stream == "stdout" else "warning")

        return sink

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED)}
        env.update(
            {
                "TF_IN_AUTOMATION": "1",
                "TF_INPUT": "0",
                "CHECKPOINT_DISABLE": "1",
            }
        )
        env.update(self.env)
        return env


def _json_object(completed: Completed) -> dict[str, Any]:
    try:
        document = json.loads(completed.stdout)
    except json.JSONDecodeError as exc:
        raise ActionError(problem=f"terraform printed something that is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise ActionError(problem="terraform printed JSON that is not an object")
    return document


def _lock_holder(output: str) -> str:
    """``ID`` and ``Who`` of the lock from Terraform's "Lock Info" block, if it printed one."""
    details = (d.detail for d in diagnostics.diagnostics(diagnostics.ui_messages(output)))
    facts = []
    for line in "\n".join([output, *details]).splitlines():
        stripped = line.strip(" │")
        for key in ("ID:", "Who:", "Operation:", "Created:"):
            if stripped.startswith(key):
                facts.append(stripped)
    return ", ".join(facts) or "no lock details"
