"""Benchmark files: the shipped default is honest and loads; a user's folder
adds to it or replaces it; a bad file is an error naming the file and the
field, at start (never at review time); the show's field picks one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from live.settings import Settings
from server import create_app
from stats.benchmarks import METRICS, SHIPPED, BenchmarkError, Benchmarks, load, read
from tests.conftest import make_settings


def write(folder: Path, name: str, data: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def good(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "beauty-l3", "version": "2026.11", "source": "our own 罗盘 export", "date": "2026-11-30",
        "category": "beauty", "confidence": "high", "currency": "CNY",
        "metrics": {"conversion_rate": {"median": 0.021, "top_quartile": 0.048},
                    "gpm": {"median": 380, "top_quartile": 1200},
                    "return_rate": {"median": 0.2, "top_quartile": 0.12}},
    }
    body.update(over)
    return body


def test_the_shipped_default_loads_and_says_how_sure_it_is() -> None:
    shipped = load()
    default = shipped.by_name["default"]
    assert default.confidence == "low" and default.date == "2026-12-01" and default.version
    assert "practitioner" in default.source.lower()
    assert default.metrics, "it gives some figure"
    for name, figure in default.metrics.items():
        assert name in METRICS
        assert figure.source, f"{name} names its source"
        assert figure.note, f"{name} says how the figure was read"
    # no figure it has no source for: money per view depends on the category
    assert {"gpm", "uv_value", "return_rate", "interaction_rate"}.isdisjoint(default.metrics)


def test_a_users_folder_adds_benchmarks_and_replaces_a_shipped_one_by_name(tmp_path: Path) -> None:
    write(tmp_path, "beauty.json", good())
    write(tmp_path, "mine.json", good(name="default", source="our shop's median of 2026", confidence="medium"))
    found = load(str(tmp_path))
    assert set(found.by_name) == {"default", "beauty-l3"}
    assert found.by_name["default"].source == "our shop's median of 2026"  # the user's wins
    assert found.by_name["beauty-l3"].metrics["gpm"].median == 380
    assert load().by_name["default"].confidence == "low"  # the shipped one is untouched


def test_the_show_picks_by_name_then_by_category_then_the_default(tmp_path: Path) -> None:
    write(tmp_path, "a.json", good(name="beauty-2025", date="2025-06-01"))
    write(tmp_path, "b.json", good(name="beauty-2026", date="2026-06-01"))
    found = load(str(tmp_path))
    assert found.pick("beauty-2025").name == "beauty-2025"  # type: ignore[union-attr]
    assert found.pick("beauty").name == "beauty-2026"  # type: ignore[union-attr]  # the latest of the category
    assert found.pick("food").name == "default"  # type: ignore[union-attr]
    assert found.pick(None).name == "default"  # type: ignore[union-attr]
    assert Benchmarks({}).pick("default") is None


@pytest.mark.parametrize(("data", "field", "says"), [
    ("{not json", None, "not valid JSON"),
    (good(colour="red"), "colour", "unknown field"),
    (good(confidence="very"), "confidence", "one of low, medium, high"),
    (good(date="30/11/2026"), "date", "YYYY-MM-DD"),
    (good(name="Beauty L3"), "name", "lower-case"),
    (good(metrics={"conversion_rate": {"median": 3}}), "metrics.conversion_rate.median", "0.03"),
    (good(metrics={"conversion_rate": {"median": "3 %"}}), "metrics.conversion_rate.median", "a number"),
    (good(metrics={"conversion_rate": {"median": 0.05, "top_quartile": 0.03}}),
     "metrics.conversion_rate.top_quartile", "below the median"),
    (good(metrics={"return_rate": {"median": 0.1, "top_quartile": 0.2}}),
     "metrics.return_rate.top_quartile", "above the median"),
    (good(metrics={"gpm": {"median": 300}}, currency=None), "currency", "currency"),
    (good(metrics={"watch_hours": {"median": 1}}), "metrics.watch_hours", "unknown metric"),
    (good(metrics={"likes": {}}), "metrics.likes", "median, a top_quartile or both"),
    (good(metrics={}), "metrics", "at least one"),
    (good(source=""), "source", "empty"),
])
def test_a_bad_file_is_an_error_naming_the_file_and_the_field(tmp_path: Path, data: Any, field: str | None,
                                                              says: str) -> None:
    path = write(tmp_path, "bad.json", data)
    with pytest.raises(BenchmarkError) as caught:
        read(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:") and says in message
    if field is not None:
        assert f": {field}:" in message


def test_two_files_of_one_name_are_an_error(tmp_path: Path) -> None:
    write(tmp_path, "a.json", good())
    write(tmp_path, "b.json", good())
    with pytest.raises(BenchmarkError, match=r"b\.json: name: 'beauty-l3' is also the name of .*a\.json"):
        load(str(tmp_path))


def test_a_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(BenchmarkError, match="no such directory"):
        load(str(tmp_path / "nope"))


def test_a_bad_file_stops_the_server_at_start_naming_it(tmp_path: Path, sqlite_url: str) -> None:
    folder = tmp_path / "benchmarks"
    write(folder, "broken.json", good(metrics={"conversion_rate": {"median": 5}}))
    with pytest.raises(SystemExit, match=r"broken\.json: metrics\.conversion_rate\.median"):
        create_app(make_settings(sqlite_url, benchmarks_dir=str(folder)))


def test_the_folder_is_a_setting(tmp_path: Path) -> None:
    assert Settings.from_env({"LIVE_BENCHMARKS_DIR": str(tmp_path)}).benchmarks_dir == str(tmp_path)
    assert Settings.from_env({}).benchmarks_dir is None


def test_every_shipped_file_is_valid() -> None:
    files = sorted(SHIPPED.glob("*.json"))
    assert files
    for path in files:
        assert read(path).path == str(path)
