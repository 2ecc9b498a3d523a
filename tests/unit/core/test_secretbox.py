"""Secrets at rest: AES-GCM sealing, key rotation, tampering."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from goldenpath.errors import ConfigurationError
from goldenpath.secretbox import SecretBox, load_secret_box


def test_seal_and_open_round_trip_without_the_clear_text_in_the_blob() -> None:
    box = SecretBox([os.urandom(32)])
    blob = box.seal({"password": "hunter2-very-secret"})
    assert b"hunter2" not in blob
    assert box.open(blob) == {"password": "hunter2-very-secret"}
    assert box.seal("x") != box.seal("x")  # a fresh nonce every time


def test_rotation_new_key_first_old_secrets_still_open() -> None:
    old, new = os.urandom(32), os.urandom(32)
    sealed_before = SecretBox([old]).seal("before")
    rotated = SecretBox([new, old])
    assert rotated.open(sealed_before) == "before"
    assert SecretBox([new]).open(rotated.seal("after")) == "after"
    with pytest.raises(ConfigurationError, match="not configured"):
        SecretBox([new]).open(sealed_before)


def test_tampering_is_detected() -> None:
    box = SecretBox([os.urandom(32)])
    blob = bytearray(box.seal("value"))
    blob[-1] ^= 1
    with pytest.raises(ConfigurationError, match="integrity"):
        box.open(bytes(blob))


def test_a_key_file_is_generated_once_private_and_reused(tmp_path: Path) -> None:
    first = load_secret_box(None, tmp_path)
    key_file = tmp_path / "secret.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert load_secret_box(None, tmp_path).open(first.seal("v")) == "v"


@pytest.mark.parametrize(
    ("configured", "problem"),
    [("not base64!", "not valid base64"), (base64.b64encode(b"short").decode(), "32 bytes")],
)
def test_bad_configured_keys_are_refused(configured: str, problem: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        load_secret_box(configured, tmp_path)
