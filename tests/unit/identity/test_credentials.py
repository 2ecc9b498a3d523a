"""API tokens (format, parsing, the constant-time check) and passwords (argon2)."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from typing import Any

import pytest
from argon2 import PasswordHasher

from goldenpath.identity import credentials

TOKEN_FORMAT = re.compile(r"gp_[a-z0-9]{12}_[A-Za-z0-9_-]{43}")
GOOD = "gp_abcdefghij12_" + "A" * 43


class CountingHasher:
    """A fast argon2 hasher that counts the hashes it computes."""

    def __init__(self) -> None:
        self.hashes = 0
        self._real = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)

    def hash(self, password: str) -> str:
        self.hashes += 1
        return self._real.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        return self._real.verify(password_hash, password)


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counting = CountingHasher()
    monkeypatch.setattr(credentials, "_HASHER", counting)
    return counting


# --- tokens -----------------------------------------------------------------------------------


def test_a_new_token_has_the_documented_format_and_only_its_hash_is_kept() -> None:
    made = credentials.new_token()

    assert TOKEN_FORMAT.fullmatch(made.token)
    assert made.token.startswith(f"gp_{made.id}_")
    secret = made.token.removeprefix(f"gp_{made.id}_")
    assert made.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in made.secret_hash


def test_new_tokens_are_unique() -> None:
    tokens = {credentials.new_token().token for _ in range(200)}
    ids = {token.split("_")[1] for token in tokens}

    assert len(tokens) == 200
    assert len(ids) == 200


def test_a_token_parses_back_into_its_id_and_secret() -> None:
    made = credentials.new_token()

    assert credentials.parse_token(made.token) == (made.id, made.token.split("_", 2)[2])
    assert credentials.parse_token(GOOD) == ("abcdefghij12", "A" * 43)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "gp_nope",
        "gp_abcdefghij12",
        GOOD[:-1],
        GOOD + "A",
        GOOD.replace("gp_", "GP_"),
        GOOD.replace("abcdefghij12", "ABCDEFGHIJ12"),
        GOOD.replace("abcdefghij12", "abcdefghij1"),
        " " + GOOD,
        GOOD + " ",
        GOOD + "\n",
        GOOD[:-1] + "=",
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
    ],
    ids=repr,
)
def test_anything_else_is_not_a_token(text: str) -> None:
    assert credentials.parse_token(text) is None


def test_a_chosen_secret_makes_the_same_token_as_it_reads() -> None:
    made = credentials.token_from_parts("abcdefghij12", "A" * 43)

    assert made.token == GOOD
    assert credentials.secret_matches("A" * 43, made.secret_hash)


def test_the_secret_check_compares_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    made = credentials.new_token()
    _, secret = credentials.parse_token(made.token) or ("", "")
    compared: list[tuple[Any, Any]] = []
    real: Callable[[Any, Any], bool] = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(credentials.hmac, "compare_digest", spy)

    assert credentials.secret_matches(secret, made.secret_hash)
    assert not credentials.secret_matches(secret[:-1] + "x", made.secret_hash)
    assert not credentials.secret_matches("", made.secret_hash)
    # Every answer came from the constant-time comparison of the two digests.
    assert len(compared) == 3
    assert all(b == made.secret_hash for _, b in compared)


# --- passwords --------------------------------------------------------------------------------


def test_the_default_password_hash_is_argon2id_and_salted() -> None:
    first = credentials.hash_password("correct horse battery")
    second = credentials.hash_password("correct horse battery")

    assert first.startswith("$argon2id$")
    assert first != second
    assert "correct horse" not in first
    assert credentials.check_password(first, "correct horse battery")


@pytest.mark.usefixtures("hasher")
@pytest.mark.parametrize(
    ("attempt", "expected"),
    [
        ("correct horse battery", True),
        ("correct horse battery ", False),
        ("Correct horse battery", False),
        ("", False),
    ],
)
def test_a_password_checks_against_its_hash(attempt: str, expected: bool) -> None:
    password_hash = credentials.hash_password("correct horse battery")

    assert credentials.check_password(password_hash, attempt) is expected


@pytest.mark.usefixtures("hasher")
@pytest.mark.parametrize("stored", ["not-a-hash", "$argon2id$v=19$broken", "$2b$12$abc"])
def test_a_damaged_hash_refuses_instead_of_failing(stored: str) -> None:
    assert credentials.check_password(stored, "correct horse battery") is False


@pytest.mark.parametrize("stored", [None, ""])
def test_a_missing_user_costs_a_hash_like_a_wrong_password(
    hasher: CountingHasher, stored: str | None
) -> None:
    assert credentials.check_password(stored, "correct horse battery") is False
    assert hasher.hashes == 1
