"""Every setting is an environment variable documented in the README."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from live.settings import SETTINGS, Settings
from server import create_app
from tests.conftest import FakeClock, make_settings, new_show

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = {m.group(1) for m in re.finditer(r"^\| `([A-Z_]+)` \|", readme, re.MULTILINE)}
    declared = {s.name for s in SETTINGS}
    assert declared - table == set(), "settings missing from the README's table"
    assert table - declared == set(), "README documents settings the server does not declare"


def code_files() -> list[Path]:
    """Every Python file of the server, its scripts and its tests (server.py included)."""
    files = [*ROOT.glob("*.py")]
    for folder in ("live", "overlays", "stats", "tests", "scripts"):
        files += ROOT.glob(f"{folder}/**/*.py")
    return files


def test_every_environment_variable_read_in_code_is_declared() -> None:
    files = code_files()
    assert ROOT / "server.py" in files and ROOT / "live" / "core" / "auth.py" in files  # the subpackages too
    names: set[str] = set()
    for path in files:
        text = path.read_text(encoding="utf-8")
        names |= set(re.findall(r"(?:environ(?:\.get)?\(?\[?|getenv\()\s*\"((?:LIVE|DATABASE|REDIS)_[A-Z_]+)\"", text))
        names |= set(re.findall(r"Setting\(\"([A-Z_]+)\"", text))
    declared = {s.name for s in SETTINGS}
    assert names - declared == set()


def test_every_declared_setting_is_read_somewhere() -> None:
    # A name quoted anywhere but in its own declaration: Settings.from_env's
    # get("…"), or a test's os.environ.get("…").
    used: set[str] = set()
    for path in code_files():
        text = re.sub(r"Setting\(\"[A-Z_]+\"", "", path.read_text(encoding="utf-8"))
        used |= set(re.findall(r"[\"']((?:LIVE|DATABASE|REDIS)_[A-Z_]+)[\"']", text))
    assert {s.name for s in SETTINGS} - used == set(), "declared settings that nothing reads"


def test_settings_come_from_the_environment() -> None:
    s = Settings.from_env({"LIVE_PORT": "9001", "LIVE_HOST": "0.0.0.0", "DATABASE_URL": "sqlite:////tmp/x.db",
                           "LIVE_ALLOWED_ORIGINS": "https://a.example, https://b.example/", "LIVE_DEMO": "0"})
    assert (s.port, s.host, s.database_url, s.demo) == (9001, "0.0.0.0", "sqlite:////tmp/x.db", False)
    assert s.allowed_origins == frozenset({"https://a.example", "https://b.example"})


def test_defaults_serve_on_localhost_with_sqlite_under_data() -> None:
    s = Settings.from_env({})
    assert (s.host, s.port, s.redis_url) == ("127.0.0.1", 8000, None)
    assert s.database_url.startswith("sqlite:///") and s.database_url.endswith("data/live.db")


@pytest.mark.parametrize("port", ["0", "70000", "http", "-1"])
def test_a_bad_port_stops_the_server_with_a_message(port: str) -> None:
    with pytest.raises(SystemExit, match="LIVE_PORT"):
        Settings.from_env({"LIVE_PORT": port})


def test_proxies_and_rate_limits_come_from_the_environment() -> None:
    s = Settings.from_env({"LIVE_TRUSTED_PROXIES": "10.0.0.1, 10.1.0.0/16 ,::1", "LIVE_REGISTRATIONS_PER_MINUTE": "30",
                           "LIVE_CLAIMS_PER_MINUTE": "90", "LIVE_COMMENT_INTERVAL_MS": "0"})
    assert s.trusted_proxies == ("10.0.0.1", "10.1.0.0/16", "::1")
    assert (s.registrations_per_minute, s.claims_per_minute, s.comment_interval_ms) == (30, 90, 0)
    assert Settings.from_env({"LIVE_TRUSTED_PROXIES": "*"}).trusted_proxies == ("*",)


def test_by_default_no_proxy_is_trusted() -> None:
    s = Settings.from_env({})
    assert s.trusted_proxies == ()
    assert (s.registrations_per_minute, s.claims_per_minute, s.comment_interval_ms) == (120, 600, 1000)
    assert s.interactions_per_minute == 120


@pytest.mark.parametrize(("name", "value"), [
    ("LIVE_TRUSTED_PROXIES", "proxy.internal"),
    ("LIVE_TRUSTED_PROXIES", "10.0.0.1,10.0.0.300"),
    ("LIVE_REGISTRATIONS_PER_MINUTE", "0"),
    ("LIVE_REGISTRATIONS_PER_MINUTE", "fast"),
    ("LIVE_CLAIMS_PER_MINUTE", "-5"),
    ("LIVE_INTERACTIONS_PER_MINUTE", "0"),
    ("LIVE_COMMENT_INTERVAL_MS", "1.5"),
    ("LIVE_COMMENT_INTERVAL_MS", "99999999"),
])
def test_a_bad_proxy_or_rate_stops_the_server_naming_the_setting(name: str, value: str) -> None:
    with pytest.raises(SystemExit, match=name):
        Settings.from_env({name: value})


def test_the_comment_interval_reaches_every_engine_also_when_rebuilt(sqlite_url: str, clock: FakeClock) -> None:
    with TestClient(create_app(make_settings(sqlite_url, comment_interval_ms=2500), clock=clock)) as c:
        sid = new_show(c)["id"]
        shows = c.app.state.hub.shows  # type: ignore[attr-defined]
        assert c.portal.call(shows.get, sid).state.ledger.comment_interval_ms == 2500  # type: ignore[union-attr]
        rebuilt = c.portal.call(shows.rebuild, sid)  # type: ignore[union-attr]
        c.portal.call(rebuilt.stop)  # type: ignore[union-attr]
        assert rebuilt.state.ledger.comment_interval_ms == 2500
