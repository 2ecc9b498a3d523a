"""OIDC logins: JWTs checked against the issuer's keys (JWKS, served here over real HTTP), users
created just in time with memberships from the ``groups`` claim, every forgery refused — in the
directory and through the real API (uvicorn on a free port)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from goldenpath.api.app import create_api
from goldenpath.app import Platform
from goldenpath.errors import NotAuthenticated
from tests.conftest import ADMIN

ISSUER = "https://idp.example.test/realms/acme"
AUDIENCE = "goldenpath"
KID = "key-1"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return new_key()


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return new_key()


def jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    public: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    return public | {"kid": kid, "alg": "RS256", "use": "sig"}


class Jwks:
    """The identity provider's key set, served at ``url``; tests change ``keys`` to rotate."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.fetches = 0
        jwks = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                jwks.fetches += 1
                body = json.dumps({"keys": jwks.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = (
            f"http://127.0.0.1:{self._server.server_address[1]}/protocol/openid-connect/certs"
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture
def jwks(signing_key: rsa.RSAPrivateKey) -> Iterator[Jwks]:
    served = Jwks()
    served.keys = [jwk(signing_key, KID)]
    yield served
    served.close()


@pytest.fixture
def oidc_platform(make_platform: Callable[..., Platform], jwks: Jwks) -> Platform:
    return make_platform(oidc_issuer=ISSUER, oidc_audience=AUDIENCE, oidc_jwks_url=jwks.url)


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    values: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "0f1e2d3c",
        "preferred_username": "Carol",
        "name": "Carol Jones",
        "groups": ["payments:approver", "payments"],
        "iat": now,
        "exp": now + 300,
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def mint(key: rsa.RSAPrivateKey, *, kid: str = KID, **overrides: Any) -> str:
    return jwt.encode(claims(**overrides), key, algorithm="RS256", headers={"kid": kid})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(alg: str = "none") -> str:
    header = _b64(json.dumps({"alg": alg, "typ": "JWT", "kid": KID}).encode())
    return f"{header}.{_b64(json.dumps(claims()).encode())}."


def hmac_with_public_key(key: rsa.RSAPrivateKey) -> str:
    """The algorithm-confusion attack: HS256 keyed with the (public) RSA key's PEM."""
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": KID}).encode())
    payload = _b64(json.dumps(claims()).encode())
    signature = hmac.new(pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


# --- the directory ----------------------------------------------------------------------------


def test_a_valid_token_signs_in_a_user_created_just_in_time(
    oidc_platform: Platform, signing_key: rsa.RSAPrivateKey
) -> None:
    directory = oidc_platform.directory
    assert "carol" not in {u.name for u in directory.users(ADMIN)}

    actor = directory.authenticate(mint(signing_key))

    assert actor.user == "carol"
    assert actor.memberships == {("payments", "approver"), ("payments", "developer")}
    assert not actor.is_admin
    created = {u.name: u for u in directory.users(ADMIN)}["carol"]
    assert created.display_name == "Carol Jones"
    assert {t.name for t in directory.teams(ADMIN)} >= {"payments"}
    events = oidc_platform.audit.events(ADMIN, action="user.created", target="carol")
    assert [e["details"] for e in events] == [{"via": "oidc"}]
    # The second sign-in finds the same user.
    assert directory.authenticate(mint(signing_key)).user == "carol"
    assert len(oidc_platform.audit.events(ADMIN, action="user.created", target="carol")) == 1


def test_groups_that_name_no_usable_team_or_role_grant_nothing(
    oidc_platform: Platform, signing_key: rsa.RSAPrivateKey
) -> None:
    token = mint(
        signing_key,
        preferred_username="mallory",
        groups=["payments:platform-admin", "Not A Team", "x:approver", 42, "search:approver"],
    )

    actor = oidc_platform.directory.authenticate(token)

    assert actor.memberships == {("search", "approver")}
    assert not actor.is_admin


def forgeries() -> list[Any]:
    hour_ago = int(time.time()) - 3600
    return [
        pytest.param(
            lambda k, o: mint(k, exp=hour_ago, iat=hour_ago - 60), "expired", id="expired"
        ),
        pytest.param(lambda k, o: mint(k, nbf=int(time.time()) + 3600), "not yet valid", id="nbf"),
        pytest.param(lambda k, o: mint(k, exp=None), "exp", id="no expiry"),
        pytest.param(lambda k, o: mint(k, aud="another-app"), "audience", id="wrong audience"),
        pytest.param(lambda k, o: mint(k, aud=None), "aud", id="no audience"),
        pytest.param(lambda k, o: mint(k, iss="https://evil.test/"), "issuer", id="wrong issuer"),
        pytest.param(lambda k, o: mint(o), "Signature verification failed", id="wrong key"),
        pytest.param(lambda k, o: mint(o, kid="key-9"), "unknown key 'key-9'", id="unknown kid"),
        pytest.param(lambda k, o: unsigned("none"), "alg value is not allowed", id="alg none"),
        pytest.param(lambda k, o: unsigned("RS256"), "", id="signature stripped"),
        pytest.param(
            lambda k, o: hmac_with_public_key(k),
            "alg value is not allowed",
            id="HS256 with public key",
        ),
        pytest.param(
            lambda k, o: mint(k, preferred_username=None, sub=None), "claim", id="no user"
        ),
        pytest.param(
            lambda k, o: mint(k, preferred_username="../admin"), "not usable", id="odd name"
        ),
        pytest.param(lambda k, o: mint(k)[:-4] + "AAAA", "", id="tampered signature"),
        pytest.param(lambda k, o: "a.b.c", "", id="garbage"),
    ]


@pytest.mark.parametrize(("forge", "message"), forgeries())
def test_forged_or_stale_tokens_are_refused(
    oidc_platform: Platform,
    signing_key: rsa.RSAPrivateKey,
    other_key: rsa.RSAPrivateKey,
    forge: Callable[[rsa.RSAPrivateKey, rsa.RSAPrivateKey], str],
    message: str,
) -> None:
    token = forge(signing_key, other_key)

    with pytest.raises(NotAuthenticated, match=f"(?i){message}"):
        oidc_platform.directory.authenticate(token)
    assert not {"carol", "admin"} & {u.name for u in oidc_platform.directory.users(ADMIN)}


def test_key_rotation_is_picked_up_by_refetching_the_key_set(
    oidc_platform: Platform, jwks: Jwks, signing_key: rsa.RSAPrivateKey
) -> None:
    directory = oidc_platform.directory
    assert directory.authenticate(mint(signing_key)).user == "carol"
    fetched = jwks.fetches
    assert directory.authenticate(mint(signing_key)).user == "carol"
    assert jwks.fetches == fetched, "a known key must come from the cache"

    rotated = new_key()
    jwks.keys = [jwk(rotated, "key-2")]

    assert directory.authenticate(mint(rotated, kid="key-2")).user == "carol"
    assert jwks.fetches == fetched + 1
    with pytest.raises(NotAuthenticated, match="unknown key 'key-1'"):
        directory.authenticate(mint(signing_key))


def test_an_unreachable_identity_provider_refuses_instead_of_failing(
    make_platform: Callable[..., Platform], signing_key: rsa.RSAPrivateKey
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    platform = make_platform(
        oidc_issuer=ISSUER, oidc_audience=AUDIENCE, oidc_jwks_url=f"http://127.0.0.1:{closed}/"
    )

    with pytest.raises(NotAuthenticated, match="keys are unavailable"):
        platform.directory.authenticate(mint(signing_key))


def test_without_oidc_settings_a_jwt_is_not_a_credential(
    make_platform: Callable[..., Platform], signing_key: rsa.RSAPrivateKey
) -> None:
    with pytest.raises(NotAuthenticated, match="not a Golden Path token"):
        make_platform().directory.authenticate(mint(signing_key))


# --- through the API --------------------------------------------------------------------------


@pytest.fixture
def api_url(oidc_platform: Platform) -> Iterator[str]:
    """`create_api` served by uvicorn in a thread on a free port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        create_api(oidc_platform), host="127.0.0.1", port=port, log_level="warning", ws="none"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


def test_the_api_takes_an_oidc_token(api_url: str, signing_key: rsa.RSAPrivateKey) -> None:
    headers = {"Authorization": f"Bearer {mint(signing_key)}"}
    with httpx.Client(base_url=api_url, headers=headers, timeout=30) as api:
        me = api.get("/api/v1/me")
        templates = api.get("/api/v1/templates")

    assert me.status_code == 200, me.text
    assert me.json()["user"] == "carol"
    assert me.json()["memberships"] == [
        {"team": "payments", "role": "approver"},
        {"team": "payments", "role": "developer"},
    ]
    assert me.json()["is_admin"] is False
    assert templates.status_code == 200 and templates.json()["items"]


@pytest.mark.parametrize(
    "forge",
    [
        lambda k, o: mint(k, exp=int(time.time()) - 60, iat=int(time.time()) - 600),
        lambda k, o: mint(o),
        lambda k, o: unsigned("none"),
        lambda k, o: hmac_with_public_key(k),
    ],
    ids=["expired", "wrong key", "alg none", "HS256 with public key"],
)
def test_the_api_answers_401_to_a_bad_oidc_token(
    api_url: str,
    signing_key: rsa.RSAPrivateKey,
    other_key: rsa.RSAPrivateKey,
    forge: Callable[[rsa.RSAPrivateKey, rsa.RSAPrivateKey], str],
) -> None:
    headers = {"Authorization": f"Bearer {forge(signing_key, other_key)}"}
    response = httpx.get(f"{api_url}/api/v1/me", headers=headers, timeout=30)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_an_oidc_user_has_no_more_rights_than_their_groups(
    api_url: str, signing_key: rsa.RSAPrivateKey
) -> None:
    headers = {"Authorization": f"Bearer {mint(signing_key)}"}
    response = httpx.post(
        f"{api_url}/api/v1/users", json={"name": "eve"}, headers=headers, timeout=30
    )

    assert response.status_code == 403
    assert response.json()["code"] == "access_denied"


def test_a_provider_cannot_claim_a_local_account_by_name(
    oidc_platform: Platform, signing_key: rsa.RSAPrivateKey
) -> None:
    """`preferred_username` is the provider's to choose: it must not open the local admin."""
    oidc_platform.directory.bootstrap(team="default")
    with pytest.raises(NotAuthenticated, match="belongs to another account"):
        oidc_platform.directory.authenticate(
            mint(signing_key, sub="attacker-1", preferred_username="admin")
        )
    # And a second subject cannot take the name of the first one either.
    oidc_platform.directory.authenticate(mint(signing_key))
    with pytest.raises(NotAuthenticated, match="belongs to another account"):
        oidc_platform.directory.authenticate(mint(signing_key, sub="someone-else"))


def test_memberships_follow_the_providers_groups(
    oidc_platform: Platform, signing_key: rsa.RSAPrivateKey
) -> None:
    directory = oidc_platform.directory
    assert directory.authenticate(mint(signing_key)).has_role("payments", "approver")
    demoted = directory.authenticate(mint(signing_key, groups=["payments"]))
    assert demoted.memberships == {("payments", "developer")}
