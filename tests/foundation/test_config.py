"""Settings: defaults, the commented file, environment overrides and clear errors."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from assistant import config

ROOT = Path(__file__).resolve().parents[2]


def test_the_settings_file_documents_every_key_with_its_default() -> None:
    # Given the commented settings.toml of the repository
    text = (ROOT / "settings.toml").read_text(encoding="utf-8")
    parsed = tomllib.loads(text)
    # Then it names exactly the sections and keys of the schema, with the defaults
    assert set(parsed) == set(config.SCHEMA)
    for section, keys in config.SCHEMA.items():
        assert set(parsed[section]) == set(keys), section
        for key, spec in keys.items():
            assert parsed[section][key] == spec.default, f"[{section}] {key}"
    # And it loads cleanly
    loaded = config.load(ROOT / "settings.toml", environ={})
    assert loaded.get("community", "timezone") == "Asia/Shanghai"


def test_readme_settings_table_matches_the_schema() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for section, keys in config.SCHEMA.items():
        for key in keys:
            assert re.search(rf"`\[{section}\] {key}`", readme), f"README lacks [{section}] {key}"


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    file = tmp_path / "s.toml"
    file.write_text('[telegram]\ntoken = "from-file"\n[workers]\nprocesses = 3\n')
    settings = config.load(
        file,
        environ={
            "ASSISTANT_TELEGRAM__TOKEN": "from-env",
            "ASSISTANT_ROLES__ADMINS": "telegram:1, console:boss",
            "ASSISTANT_DISPATCH__WAVE_MINUTES": "2.5",
        },
    )
    assert settings.get("telegram", "token") == "from-env"
    assert settings.get("workers", "processes") == 3
    assert settings.admins == ("telegram:1", "console:boss")
    assert settings.get("dispatch", "wave_minutes") == 2.5


def test_settings_variable_selects_another_file(tmp_path: Path) -> None:
    file = tmp_path / "other.toml"
    file.write_text('[community]\nlanguage = "en"\n')
    settings = config.load(environ={"ASSISTANT_SETTINGS": str(file)})
    assert settings.get("community", "language") == "en"


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ("[telegram]\ntokn = 'x'\n", "[telegram] tokn"),
        ("[nonsense]\na = 1\n", "[nonsense]"),
        ("[workers]\nprocesses = 'two'\n", "[workers] processes"),
        ("[workers]\nprocesses = -1\n", "[workers] processes"),
        ("[community]\ntimezone = 'Mars/Base'\n", "[community] timezone"),
        ("[community]\nlanguage = 'fr'\n", "[community] language"),
        ("[roles]\nadmins = ['lin']\n", "[roles] admins"),
        ("[services.x]\nname_zh = 'x'\n", "[services.x]"),
        ("[storage\n", "s.toml"),
    ],
)
def test_a_bad_setting_stops_with_its_name(tmp_path: Path, body: str, named: str) -> None:
    file = tmp_path / "s.toml"
    file.write_text(body)
    with pytest.raises(config.SettingsError) as error:
        config.load(file, environ={})
    assert named in str(error.value)


def test_an_unknown_environment_setting_is_named() -> None:
    with pytest.raises(config.SettingsError, match="ASSISTANT_TELEGRAM__TOKN"):
        config.load(environ={"ASSISTANT_TELEGRAM__TOKN": "1"})


def test_secrets_are_hidden_when_printed() -> None:
    settings = config.load(
        environ={"ASSISTANT_TELEGRAM__TOKEN": "123:secret", "ASSISTANT_MATRIX__PASSWORD": "pw"}
    )
    shown = repr(settings.redacted())
    assert "123:secret" not in shown and "pw'" not in shown
    assert settings.redacted()["telegram"]["token"] == "***"
