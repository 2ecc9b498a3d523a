"""Settings: environment over goldenpath.yaml, and clear errors for bad configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from goldenpath import settings as settings_module
from goldenpath.errors import ConfigurationError
from goldenpath.settings import config_file, load_settings, use_config_file


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


@pytest.fixture
def search_places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Four settings files, each naming its place in the port, and a working directory that
    holds the local one; the system file is moved into tmp_path (the real /etc is shared)."""
    places = {
        "option": tmp_path / "option.yaml",
        "env": tmp_path / "env.yaml",
        "local": tmp_path / "work" / "goldenpath.yaml",
        "system": tmp_path / "etc" / "goldenpath.yaml",
    }
    for port, path in enumerate(places.values(), start=9001):
        path.parent.mkdir(exist_ok=True)
        path.write_text(f"port: {port}\n")
    monkeypatch.chdir(places["local"].parent)
    monkeypatch.setattr(settings_module, "SYSTEM_CONFIG_FILE", places["system"])
    # Registered so that whatever use_config_file sets is undone after the test.
    monkeypatch.setenv("GOLDENPATH_CONFIG", "")
    return places


def test_config_search_order(
    search_places: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOLDENPATH_CONFIG", str(search_places["env"]))
    use_config_file(search_places["option"])
    assert load_settings().port == 9001  # --config wins over GOLDENPATH_CONFIG

    monkeypatch.setenv("GOLDENPATH_CONFIG", str(search_places["env"]))
    assert load_settings().port == 9002

    monkeypatch.setenv("GOLDENPATH_CONFIG", "")
    assert load_settings().port == 9003  # ./goldenpath.yaml

    search_places["local"].unlink()
    assert load_settings().port == 9004  # /etc/goldenpath/goldenpath.yaml
    assert config_file() == search_places["system"]

    search_places["system"].unlink()
    assert config_file() is None
    assert load_settings().port == 8000


def test_an_explicit_config_file_that_is_missing_is_an_error(
    search_places: dict[str, Path], tmp_path: Path
) -> None:
    missing = tmp_path / "typo.yaml"
    with pytest.raises(ConfigurationError, match=r"--config .*typo\.yaml: no such file"):
        use_config_file(missing)
    # Nothing changed: the next file in the order was not silently taken instead.
    assert load_settings().port == 9003


def test_a_broken_config_option_is_refused_before_it_is_used(
    search_places: dict[str, Path], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("port: [unclosed\n")
    with pytest.raises(ConfigurationError, match="not valid YAML"):
        use_config_file(broken)
    assert load_settings().port == 9003
