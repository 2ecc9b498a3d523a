"""What an action is, and all it may see: its `Context`.

An action does one thing to one backend (create a database, a bucket, a repository). It never
sees the API, the store or another action; the runner hands it a context with its validated
inputs, its backend's settings, a log, and a checkpoint helper that makes retries idempotent.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from goldenpath.actions.state_store import StateStore
from goldenpath.errors import ActionError, BackendNotFound, Cancelled
from goldenpath.policy.verdict import Verdict
from goldenpath.settings import BackendSettings


def not_ours(thing: str, left_alone: str) -> ActionError:
    """The refusal to touch ``thing`` (``"role 'app'"``) when its ownership marker is not this
    resource's: ``left_alone`` says what is not done (``"not dropping it"``)."""
    return ActionError(problem=f"{thing} is not the one this resource created; {left_alone}")


class ActionInputs(BaseModel):
    """Base for every action's inputs: unknown inputs are an error, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoInputs(ActionInputs):
    """The inputs of an action that takes none (a password rotation)."""


InputsT = TypeVar("InputsT", bound=ActionInputs)


@dataclass(frozen=True)
class PlannedResource:
    """Something a step would create, as guardrails and the catalog see it."""

    type: str
    name: str
    backend: str
    config: Mapping[str, Any] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    region: str | None = None
    monthly_cost_usd: float | None = None
    # Its description in the resource vocabulary, when the action knows more than its type and
    # config say (a Terraform plan); otherwise it is derived from those (policy.vocabulary).
    normalized: Mapping[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        found = {
            "type": self.type,
            "name": self.name,
            "backend": self.backend,
            "config": dict(self.config),
            "tags": dict(self.tags),
            "region": self.region,
            "monthly_cost_usd": self.monthly_cost_usd,
        }
        if self.normalized is not None:
            found["normalized"] = dict(self.normalized)
        return found


@dataclass(frozen=True)
class ResourceRef:
    """A catalogued resource handed to `destroy` and `observe`."""

    id: str
    type: str
    name: str
    backend: str
    config: Mapping[str, Any]
    outputs: Mapping[str, Any]


@dataclass(frozen=True)
class Drift:
    field: str
    expected: Any
    actual: Any


@dataclass(frozen=True)
class Observation:
    """The live state of a resource compared with what the platform made."""

    exists: bool
    drift: tuple[Drift, ...] = ()

    @property
    def in_sync(self) -> bool:
        return self.exists and not self.drift


@dataclass(frozen=True)
class UpgradeChange:
    """What a new version does to a resource: ``none``, ``update`` (in place) or ``replace``
    (destroyed and made again), with the reasons."""

    outcome: str
    reasons: tuple[str, ...] = ()


# The checkpoint an upgrade that replaces a resource keeps once the old one is destroyed:
# resumed, it makes the new one without destroying anything again.
REPLACED_CHECKPOINT = "replaced:old-destroyed"


class Journal(Protocol):
    """Where a step's log lines and checkpoints are kept durably (the runner's store)."""

    def log(self, message: str, level: str) -> None: ...

    def checkpoint(self, key: str, produce: Callable[[], str]) -> str: ...


@dataclass(frozen=True)
class PlanContext(Generic[InputsT]):
    """What `Action.plan` sees: inputs and configuration, nothing that changes the world."""

    inputs: InputsT
    backends: Mapping[str, BackendSettings]
    owner_team: str
    requested_by: str
    template_name: str
    # The template's own folder, for actions that read files shipped with it (a repository
    # skeleton, a Terraform module). Paths inside it are checked by the action.
    template_dir: Path | None = None
    data_dir: Path | None = None
    # Judges a `terraform show -json` document with the org's and the template's
    # `goldenpath.terraform.*` policies; given by the platform, so actions never load policies.
    plan_guard: Callable[[Mapping[str, Any]], Verdict] | None = None
    # State the action keeps between runs (Terraform's), sealed by the platform; None where
    # nothing is stored (`templates verify`).
    state_store: StateStore | None = None
    # A submission, not a preview: the action may keep what it planned in `state_store` for
    # the run to apply (Terraform's saved plan), so that what was judged is what is applied.
    keep_plan: bool = False

    def backend(self, kind: str, name: str) -> BackendSettings:
        settings = self.backends.get(name)
        if settings is None or settings.kind not in (kind, "*"):
            raise BackendNotFound(backend=name, kind=kind)
        return settings


@dataclass(frozen=True)
class Context(PlanContext[InputsT]):
    """What `apply`, `destroy` and `observe` see."""

    request_id: str = ""
    step_id: str = ""
    resource_id: str | None = None
    journal: Journal | None = None
    # Output names the action decides at run time are secret (Terraform's `sensitive`
    # outputs), besides its class's `secret_outputs`.
    declared_secrets: set[str] = field(default_factory=set)
    # Set when the request is cancelled while this step runs: long actions (Terraform) stop
    # what they are doing; the runner then rolls back.
    cancelled: threading.Event = field(default_factory=threading.Event)

    def declare_secret(self, output: str) -> None:
        self.declared_secrets.add(output)

    @property
    def marker(self) -> str:
        """A tag written on what this step creates, so a retry knows its own work."""
        return f"goldenpath:{self.resource_id or self.request_id + '/' + self.step_id}"

    def log(self, message: str, level: str = "info") -> None:
        if self.journal is not None:
            self.journal.log(message, level)

    def checkpoint(self, key: str, produce: Callable[[], str]) -> str:
        """The value stored under ``key`` for this step, produced and stored on first use.

        Stored before the side effect it guards, so a step retried after a crash reuses it
        (the same generated password, the same name) instead of making a second one.
        """
        if self.journal is None:
            return produce()
        return self.journal.checkpoint(key, produce)


class Action(ABC, Generic[InputsT]):
    """A step type. Subclasses set `id`, `description`, `Inputs`, and implement `apply`."""

    id: ClassVar[str]
    description: ClassVar[str]
    Inputs: ClassVar[type[ActionInputs]]
    secret_outputs: ClassVar[frozenset[str]] = frozenset()
    examples: ClassVar[tuple[Mapping[str, Any], ...]] = ()
    # The kind of backend the action works on (named by its ``backend`` input): the catalog
    # shows a golden path as "needs setup" while no such backend is configured.
    backend_kind: ClassVar[str | None] = None
    # Config fields (of `PlannedResource.config`) `update` can change in place; a change to any
    # other field means destroying the resource and making it again ("replace").
    updatable: ClassVar[frozenset[str]] = frozenset()

    def plan(self, ctx: PlanContext[InputsT]) -> list[PlannedResource]:
        """What `apply` would create; no side effects. Most actions create one resource."""
        return []

    @abstractmethod
    def apply(self, ctx: Context[InputsT]) -> dict[str, Any]:
        """Create (or find, when retried) what the step makes; return its outputs."""

    def upgrade_change(
        self, recorded: Mapping[str, Any], planned: Mapping[str, Any]
    ) -> UpgradeChange:
        """What moving from the ``recorded`` config to the ``planned`` one means: fields that
        differ, each in `updatable` (update) or not (replace)."""
        changed = sorted(k for k in {*recorded, *planned} if recorded.get(k) != planned.get(k))
        if not changed:
            return UpgradeChange("none")
        described = tuple(f"{k}: {recorded.get(k)!r} -> {planned.get(k)!r}" for k in changed)
        fixed = [k for k in changed if k not in self.updatable]
        if fixed:
            return UpgradeChange(
                "replace", (*described, f"{self.id} cannot change {', '.join(fixed)} in place")
            )
        return UpgradeChange("update", described)

    def update(self, ctx: Context[InputsT], resource: ResourceRef) -> dict[str, Any]:
        """Change ``resource`` in place to match the inputs (only `updatable` fields differ);
        return its outputs. Idempotent: running it twice changes nothing more."""
        raise ActionError(problem=f"{self.id} cannot update a resource in place: replace needed")

    def replace(
        self, old: Context[InputsT], new: Context[InputsT], resource: ResourceRef
    ) -> dict[str, Any]:
        """Destroy ``resource`` (made with ``old``'s inputs), then make it again with ``new``'s;
        return its outputs. Resumable: once the old one is gone (a checkpoint says so), a run
        again only makes the new one, which `apply` finds when it exists already."""

        def destroyed() -> str:
            self.destroy(old, resource)
            new.log(f"destroyed {resource.type} '{resource.name}' to make it again")
            return "destroyed"

        new.checkpoint(REPLACED_CHECKPOINT, destroyed)
        if new.cancelled.is_set():
            raise Cancelled(detail=f"after {resource.name} was destroyed, before it was made again")
        return self.apply(new)

    def destroy(self, ctx: Context[InputsT], resource: ResourceRef) -> None:
        """Remove what `apply` made. Must succeed when it is already gone."""

    def observe(self, ctx: Context[InputsT], resource: ResourceRef) -> Observation:
        """The live state compared with what was made; by default, trusted to exist."""
        return Observation(exists=True)


class ResourceOperation(Action[InputsT]):
    """A day-2 step type: it changes, in place, a resource an action of ``operates_on`` made
    (rotates its password, resizes it). It runs only in a template's ``spec.day2``, handed the
    catalogued resource and the inputs it was made with; it never creates a catalog resource.

    Invariant: a config field `changes` sets is also an input of the resource's action, so the
    resource's stored inputs (what observe and destroy read) are changed with its config.
    """

    operates_on: ClassVar[frozenset[str]]

    def apply(self, ctx: Context[InputsT]) -> dict[str, Any]:
        raise ActionError(
            problem=f"{self.id} works on an existing resource: use it in spec.day2 with 'resource'"
        )

    def changes(self, inputs: InputsT) -> dict[str, Any]:
        """The config fields of the resource this operation sets, as guardrails judge them."""
        return {}

    @abstractmethod
    def operate(
        self, ctx: Context[InputsT], resource: ResourceRef, made_with: ActionInputs
    ) -> dict[str, Any]:
        """Change ``resource`` (made with the inputs ``made_with``); return the outputs that
        replace the resource's own of the same name (a new ``password`` and ``dsn``).
        Idempotent: a retry after a crash (its checkpoints reused) changes nothing more."""
