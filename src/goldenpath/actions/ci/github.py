"""GitHub Actions repository secrets, through GitHub's REST API.

The value is encrypted here, with a libsodium sealed box to the repository's public key, so only
GitHub can read it; what we send is ``{encrypted_value, key_id}``.

Ownership. A GitHub secret has no description or tag to carry our marker, so a retry cannot ask
the secret whose it is. Instead the name is *claimed*: the first attempt checks that no secret
of that name exists and records the claim in a checkpoint before it writes anything. A retry
finds the claim and writes again; the PUT is idempotent by nature, and the value is the same.
A name taken before our first attempt is refused (`ResourceTaken`) and left untouched.
We chose this over a marker kept in a repository variable (``GOLDENPATH_<NAME>_OWNER``): that
would be a second object to create, keep in step and delete, visible to every workflow, and it
needs a token that may also write variables.
What the claim cannot prove is that the secret is still ours later: `observe` reports a secret
updated after the time we recorded as drift, and `destroy` deletes the name the catalog holds
for this resource even then (logging it), since the developer asked for it to be gone.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from nacl.exceptions import CryptoError
from nacl.public import PublicKey, SealedBox
from pydantic import SecretStr

from goldenpath.actions.base import Context, Drift, Observation
from goldenpath.actions.ci.api import CiApi, base_url, token
from goldenpath.actions.ci.store import SecretTarget
from goldenpath.errors import ActionError, ResourceTaken
from goldenpath.settings import BackendSettings

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
NAME_CLAIMED = "github_secret_name_claimed_at"


class GitHubSecrets:
    """`SecretStore` for GitHub Actions repository secrets."""

    provider = "github"

    def __init__(self, settings: BackendSettings, backend: str) -> None:
        self._settings = settings
        self._backend = backend
        self._url = base_url(settings, backend, DEFAULT_API_URL)

    def check(self, target: SecretTarget, value: SecretStr) -> None:
        # GitHub takes any value the inputs model accepts (1 byte to 48 KiB, no NUL).
        return None

    def put(self, ctx: Context[Any], target: SecretTarget, value: SecretStr) -> str:
        with self._api(target, value) as api:
            key = api.call("GET", f"{_repo(target)}/actions/secrets/public-key")
            key_id, public_key = _public_key(key)
            ctx.checkpoint(NAME_CLAIMED, lambda: _claim(api, target, self._backend))
            api.call(
                "PUT",
                _secret(target),
                json={"encrypted_value": _seal(public_key, value), "key_id": key_id},
            )
            ctx.log(
                f"stored GitHub Actions secret {target.name} in {target.repository}, "
                f"sealed to the repository's public key {key_id}"
            )
            live = api.call("GET", _secret(target), absent_ok=True)
        if isinstance(live, Mapping) and live.get("updated_at"):
            return str(live["updated_at"])
        return _now()

    def delete(self, ctx: Context[Any], target: SecretTarget) -> None:
        with self._api(target) as api:
            deleted = api.call("DELETE", _secret(target), absent_ok=True)
        if deleted is None:
            ctx.log(f"secret {target.name} is already gone from {target.repository}")
        else:
            ctx.log(f"deleted GitHub Actions secret {target.name} from {target.repository}")

    def observe(
        self, ctx: Context[Any], target: SecretTarget, outputs: Mapping[str, Any]
    ) -> Observation:
        with self._api(target) as api:
            live = api.call("GET", _secret(target), absent_ok=True)
        if not isinstance(live, Mapping):
            return Observation(exists=False)
        recorded = outputs.get("updated_at")
        actual = live.get("updated_at")
        if recorded and actual and _later(str(actual), str(recorded)):
            # The value is unreadable through the API; a newer timestamp is all that shows
            # someone set it out of band.
            return Observation(exists=True, drift=(Drift("updated_at", recorded, actual),))
        return Observation(exists=True)

    def _api(self, target: SecretTarget, value: SecretStr | None = None) -> CiApi:
        return CiApi(
            backend=self._backend,
            provider=self.provider,
            repository=target.repository,
            url=self._url,
            headers={
                "Authorization": f"Bearer {token(self._settings, self._backend)}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
            },
            hidden=[value.get_secret_value()] if value else [],
        )


def _repo(target: SecretTarget) -> str:
    # Both parts match [A-Za-z0-9_.-] and are never '.' or '..' (the inputs model checks), so
    # they are safe in a URL path as they are.
    return f"/repos/{target.repository}"


def _secret(target: SecretTarget) -> str:
    return f"{_repo(target)}/actions/secrets/{target.name}"


def _claim(api: CiApi, target: SecretTarget, backend: str) -> str:
    """The time the name was found free; refuses a name someone else's secret holds."""
    if api.call("GET", _secret(target), absent_ok=True) is not None:
        raise ResourceTaken(
            kind="GitHub Actions secret",
            name=f"{target.repository}/{target.name}",
            backend=backend,
        )
    return _now()


def _public_key(body: Any) -> tuple[str, bytes]:
    try:
        key_id = str(body["key_id"])
        key = base64.b64decode(str(body["key"]), validate=True)
    except (KeyError, TypeError, binascii.Error) as exc:
        raise ActionError(problem="GitHub returned a malformed repository public key") from exc
    if len(key) != PublicKey.SIZE:
        raise ActionError(problem="GitHub returned a repository public key of the wrong size")
    return key_id, key


def _seal(public_key: bytes, value: SecretStr) -> str:
    try:
        sealed = SealedBox(PublicKey(public_key)).encrypt(value.get_secret_value().encode())
    except CryptoError as exc:
        raise ActionError(problem="could not encrypt the secret to the repository key") from exc
    return base64.b64encode(sealed).decode("ascii")


def _later(actual: str, recorded: str) -> bool:
    try:
        return _parse(actual) > _parse(recorded)
    except ValueError:
        return actual != recorded


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
