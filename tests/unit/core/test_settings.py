"""Settings: environment over goldenpath.yaml, and clear errors for bad configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from goldenpath.errors import ConfigurationError
from goldenpath.settings import load_settings


def test_yaml_file_then_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "goldenpath.yaml"
    config.write_text(
        "port: 9001\n"
        "backends:\n  analytics:\n    kind: postgres\n    dsn: postgresql://a@db/x\n"
        "teams:\n  payments: {monthly_budget_usd: 250}\n"
    )
    monkeypatch.setenv("GOLDENPATH_CONFIG", str(config))
    monkeypatch.setenv("GOLDENPATH_PORT", "9002")
    monkeypatch.setenv("GOLDENPATH_TEMPLATE_DIRS", "/srv/paths:/srv/more")
    settings = load_settings()
    assert settings.port == 9002
    assert settings.backends["analytics"].dsn == "postgresql://a@db/x"
    assert settings.teams["payments"].monthly_budget_usd == 250
    assert settings.template_dirs == [Path("/srv/paths"), Path("/srv/more")]


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"GOLDENPATH_PORT": "eighty"}, "port"),
        ({"GOLDENPATH_WORKER_CONCURRENCY": "0"}, "worker_concurrency"),
        ({"GOLDENPATH_CONFIG": "/no/such/file.yaml"}, "not a file"),
        ({"GOLDENPATH_BACKENDS": "{not json"}, "backends"),
    ],
)
def test_bad_settings_name_the_setting(
    env: dict[str, str], problem: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigurationError, match=problem):
        load_settings()


def test_a_config_file_that_is_not_a_mapping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "goldenpath.yaml"
    config.write_text("- just\n- a list\n")
    monkeypatch.setenv("GOLDENPATH_CONFIG", str(config))
    with pytest.raises(ConfigurationError, match="mapping"):
        load_settings()
