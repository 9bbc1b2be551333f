"""Configuration: defaults, every problem reported at once with its key, paths, environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from flightwatch.settings import ConfigError, load_settings, parse_duration


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "flightwatch.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_need_no_file() -> None:
    settings = load_settings(None, env={})
    assert settings["alerts"]["cooldown"] == 6 * 3600
    assert settings.geofences[0]["name"] == "belarus"
    assert settings.geofences[0]["file"].is_file()
    assert all(p.is_file() for p in settings["watchlist"]["files"])
    assert settings.database_url.startswith("sqlite:///")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15s", 15.0),
        ("5m", 300.0),
        ("6h", 21600.0),
        ("7d", 604800.0),
        (90, 90.0),
        ("250ms", 0.25),
    ],
)
def test_durations(text: object, expected: float) -> None:
    assert parse_duration(text) == expected


def test_every_problem_is_reported_at_once_naming_the_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[database]
batch_rows = "many"
colour = "blue"

[tracker]
expire_after = "soon"

[alerts]
events = ["enter", "teleported"]

[[sources]]
type = "beast"
port = 99999

[[sources]]
type = "carrier-pigeon"

[bogus]
x = 1
""",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    text = "\n".join(caught.value.problems)
    for fragment in (
        "database.batch_rows",
        "database.colour: unknown key",
        "tracker.expire_after",
        "teleported",
        "sources[0].port",
        "sources[1].type",
        "[bogus]: unknown section",
    ):
        assert fragment in text, text
    assert all(p.startswith(str(path)) for p in caught.value.problems)


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    fence = tmp_path / "fences" / "mine.geojson"
    path = write(
        tmp_path,
        """
[database]
url = "sqlite:///data/fw.db"

[[geofences]]
name = "mine"
file = "fences/mine.geojson"
buffer_km = 5
""",
    )
    settings = load_settings(path, env={})
    assert settings.database_url == f"sqlite:///{tmp_path / 'data' / 'fw.db'}"
    assert settings.geofences == [{"name": "mine", "file": fence, "buffer_km": 5.0,
                                   "timezone": None}]


def test_the_environment_overrides_the_database_url(tmp_path: Path) -> None:
    path = write(tmp_path, '[database]\nurl = "sqlite:///a.db"\n')
    settings = load_settings(path, env={"FLIGHTWATCH_DATABASE_URL": "postgresql+psycopg://x/y"})
    assert settings.database_url == "postgresql+psycopg://x/y"


def test_local_sources_get_default_ports_and_names(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[sources]]\ntype = "avr"\n\n[[sources]]\ntype = "sbs"\n'
        'host = "10.0.0.2"\nenabled = false\n',
    )
    settings = load_settings(path, env={})
    assert [s["name"] for s in settings.sources] == ["avr:127.0.0.1:30002", "sbs:10.0.0.2:30003"]
    assert [s["name"] for s in settings.enabled_sources()] == ["avr:127.0.0.1:30002"]


def test_unreadable_toml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[database\nurl=")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(path, env={})


@pytest.mark.parametrize("name", ["flightwatch.example.toml", "demo.toml", "live.toml"])
def test_the_shipped_configs_are_valid(name: str) -> None:
    path = Path(__file__).resolve().parents[1] / "config" / name
    settings = load_settings(path, env={})
    assert settings.geofences and settings["alerts"]["cooldown"] == 6 * 3600
