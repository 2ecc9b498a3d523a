"""What the AWS action tests share besides fixtures: the moto region, credentials, a journal."""

from __future__ import annotations

REGION = "eu-west-1"
ACCESS_KEY_ID = "testing"
SECRET_ACCESS_KEY = "testing"
