"""Where the CLI finds the gateway and its key."""

from pathlib import Path

import pytest

from tuneloop.client import ClientConfigError, ClientSettings, resolve_config

pytestmark = pytest.mark.unit


def settings(tmp_path: Path, **values: object) -> ClientSettings:
    config = tmp_path / "config.toml"
    return ClientSettings(config=values.pop("config", config), home=tmp_path, **values)  # type: ignore[arg-type]


def test_defaults_and_the_admin_key_tuneloop_up_wrote(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("")
    (tmp_path / "admin.key").write_text("tl_first001_secret\n")
    config = resolve_config(settings(tmp_path))
    assert config.url == "http://127.0.0.1:8000"
    assert config.api_key == "tl_first001_secret"
    assert config.key_source == str(tmp_path / "admin.key")


def test_the_config_file_beats_the_defaults_and_the_environment_beats_both(
    tmp_path: Path,
) -> None:
    (tmp_path / "config.toml").write_text(
        'url = "https://tuneloop.example.com/"\napi_key = "tl_file0001_x"\ntimeout_seconds = 5\n'
    )
    (tmp_path / "admin.key").write_text("tl_first001_secret")
    from_file = resolve_config(settings(tmp_path))
    assert (from_file.url, from_file.api_key, from_file.timeout_seconds) == (
        "https://tuneloop.example.com",
        "tl_file0001_x",
        5.0,
    )
    from_env = resolve_config(settings(tmp_path, url="http://gw:9000", api_key="tl_env00001_y"))
    assert (from_env.url, from_env.api_key) == ("http://gw:9000", "tl_env00001_y")


def test_no_key_anywhere_sends_none(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("")
    assert resolve_config(settings(tmp_path)).api_key is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("url = ", "cannot read the config file"), ('token = "x"', "unknown key(s) token")],
)
def test_a_broken_config_file_is_named(tmp_path: Path, text: str, expected: str) -> None:
    (tmp_path / "config.toml").write_text(text)
    with pytest.raises(ClientConfigError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        resolve_config(settings(tmp_path))


def test_a_missing_explicit_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ClientConfigError, match="does not exist"):
        resolve_config(settings(tmp_path, config=tmp_path / "missing.toml"))
