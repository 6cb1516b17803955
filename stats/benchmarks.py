"""Benchmarks: versioned data files the review compares a show with.

A benchmark is one JSON file (docs/stats.md, "Benchmarks"): ``name``,
``version``, ``source``, ``date``, ``category``, ``confidence``, optional
``currency`` and ``notes``, and ``metrics``: for each metric the ``median``
and the ``top_quartile`` where known (as 抖音电商罗盘 shows 同行同级中位值 and
优秀值), with an optional ``note`` and ``source`` of its own.

The shipped files are ``stats/benchmarks/*.json``; a directory of the
user's own (``LIVE_BENCHMARKS_DIR``) adds files, and one with the ``name`` of
a shipped file replaces it. Every file is checked when the server starts
(``load``): a bad one stops it with an error naming the file and the field,
so a review never meets a bad benchmark. ``Benchmarks.pick`` chooses the
show's (its ``benchmark`` field: a benchmark's name, else a category, else
``default``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from live.core import values as v
from live.core.errors import Invalid

SHIPPED = Path(__file__).parent / "benchmarks"
DEFAULT = "default"

# Every metric a benchmark may give: its kind (how it is compared and shown)
# and which way is better. The names are the review's metrics (DESIGN.md 6.2).
HIGHER, LOWER = "higher", "lower"
METRICS: dict[str, tuple[str, str]] = {
    "unique_viewers": ("count", HIGHER),
    "peak_concurrent": ("count", HIGHER),
    "avg_dwell_seconds": ("seconds", HIGHER),
    "median_dwell_seconds": ("seconds", HIGHER),
    "likes": ("count", HIGHER),
    "comments": ("count", HIGHER),
    "shares": ("count", HIGHER),
    "clicks": ("count", HIGHER),
    "interaction_rate": ("ratio", HIGHER),
    "orders": ("count", HIGHER),
    "buyers": ("count", HIGHER),
    "units": ("count", HIGHER),
    "gmv": ("money", HIGHER),
    "conversion_rate": ("ratio", HIGHER),
    "gmv_per_buyer": ("money", HIGHER),
    "avg_order_value": ("money", HIGHER),
    "gpm": ("money", HIGHER),
    "uv_value": ("money", HIGHER),
    "returned_units": ("count", LOWER),
    "return_rate": ("ratio", LOWER),
}
CONFIDENCE = ("low", "medium", "high")
FIELDS = {"name", "version", "source", "date", "category", "confidence", "currency", "notes", "metrics"}
METRIC_FIELDS = {"median", "top_quartile", "note", "source"}
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
DATE_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
MAX_FILE = 256 * 1024


class BenchmarkError(ValueError):
    """A benchmark file that cannot be used; the message names the file and the field."""


Text = str | dict[str, str]  # plain, or by language: {"en": …, "zh-CN": …}


@dataclass(frozen=True)
class Figure:
    """One metric of a benchmark: ``median``, ``top_quartile`` (either may be
    unknown), and where it comes from."""

    median: float | None
    top_quartile: float | None
    note: Text | None = None
    source: str | None = None


@dataclass(frozen=True)
class Benchmark:
    name: str
    version: str
    source: str
    date: str
    category: str
    confidence: str
    metrics: dict[str, Figure]
    currency: str | None = None
    notes: Text | None = None
    path: str = ""

    def header(self) -> dict[str, Any]:
        """What the review says of the benchmark itself."""
        return {
            "name": self.name,
            "version": self.version,
            "source": self.source,
            "date": self.date,
            "category": self.category,
            "confidence": self.confidence,
            "currency": self.currency,
            "notes": self.notes,
        }


def _text(value: Any, field: str, max_len: int) -> Text:
    if isinstance(value, dict):
        v.no_unknown_keys(value, {"en", "zh-CN"}, field)
        if not value:
            raise Invalid("give the text in English (en) or Chinese (zh-CN)", field)
        return {lang: v.text(value[lang], f"{field}.{lang}", max_len=max_len) for lang in sorted(value)}
    return v.text(value, field, max_len=max_len)


def _number(value: Any, field: str, kind: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise Invalid("must be a number", field)
    if value < 0:
        raise Invalid("must not be negative", field)
    if kind == "ratio" and value > 1:
        raise Invalid("is a ratio: write 3 % as 0.03", field)
    return float(value)


def parse(data: Any) -> Benchmark:
    """A benchmark from a file's parsed JSON; raises Invalid naming the field."""
    data = v.obj(data, "")
    v.no_unknown_keys(data, FIELDS, "")
    name = v.text(data.get("name"), "name", max_len=64)
    if not NAME_RE.match(name):
        raise Invalid("must be lower-case letters, digits, '.', '_' or '-'", "name")
    date = v.text(data.get("date"), "date", max_len=10)
    if not DATE_RE.match(date):
        raise Invalid("must be a date YYYY-MM-DD", "date")
    confidence = data.get("confidence")
    if confidence not in CONFIDENCE:
        raise Invalid(f"must be one of {', '.join(CONFIDENCE)}", "confidence")
    currency = None if data.get("currency") is None else v.currency(data["currency"], "currency")
    raw_metrics = v.obj(data.get("metrics"), "metrics")
    figures: dict[str, Figure] = {}
    for metric, raw in raw_metrics.items():
        f = f"metrics.{metric}"
        if metric not in METRICS:
            raise Invalid(f"unknown metric {metric!r}", f)
        kind, better = METRICS[metric]
        raw = v.obj(raw, f)
        v.no_unknown_keys(raw, METRIC_FIELDS, f)
        median = _number(raw.get("median"), f"{f}.median", kind)
        top = _number(raw.get("top_quartile"), f"{f}.top_quartile", kind)
        if median is None and top is None:
            raise Invalid("give a median, a top_quartile or both", f)
        if median is not None and top is not None and (top < median if better == HIGHER else top > median):
            raise Invalid(f"the top quartile of a metric where {better} is better cannot be "
                          f"{'below' if better == HIGHER else 'above'} the median", f"{f}.top_quartile")
        if kind == "money" and currency is None:
            raise Invalid("a money metric needs the benchmark's currency", "currency")
        figures[metric] = Figure(
            median=median,
            top_quartile=top,
            note=None if raw.get("note") is None else _text(raw["note"], f"{f}.note", 1000),
            source=None if raw.get("source") is None else v.text(raw["source"], f"{f}.source", max_len=500),
        )
    if not figures:
        raise Invalid("give at least one metric", "metrics")
    return Benchmark(
        name=name,
        version=v.text(data.get("version"), "version", max_len=32),
        source=v.text(data.get("source"), "source", max_len=1000),
        date=date,
        category=v.text(data.get("category"), "category", max_len=64),
        confidence=confidence,
        metrics=figures,
        currency=currency,
        notes=None if data.get("notes") is None else _text(data["notes"], "notes", 2000),
    )


def read(path: Path) -> Benchmark:
    """The benchmark in one file; raises BenchmarkError naming the file and the field."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BenchmarkError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if len(raw) > MAX_FILE:
        raise BenchmarkError(f"{path}: larger than {MAX_FILE // 1024} KiB")
    try:
        found = parse(v.parse_json(raw, "file"))
    except Invalid as exc:
        where = f" {exc.field}:" if exc.field and exc.field != "file" else ""
        raise BenchmarkError(f"{path}:{where} {exc.message}") from None
    return replace(found, path=str(path))


class Benchmarks:
    """The benchmarks by name (see the module's docstring)."""

    def __init__(self, found: dict[str, Benchmark]) -> None:
        self.by_name = found

    def pick(self, wanted: str | None) -> Benchmark | None:
        """The benchmark named ``wanted``; else the latest of category ``wanted``
        (by date, then name); else ``default``; else None."""
        if wanted:
            if wanted in self.by_name:
                return self.by_name[wanted]
            same = [b for b in self.by_name.values() if b.category == wanted]
            if same:
                return max(same, key=lambda b: (b.date, b.name))
        return self.by_name.get(DEFAULT)


def _folder(folder: Path) -> dict[str, Benchmark]:
    found: dict[str, Benchmark] = {}
    for path in sorted(folder.glob("*.json")):
        b = read(path)
        if b.name in found:
            raise BenchmarkError(f"{path}: name: {b.name!r} is also the name of {found[b.name].path}")
        found[b.name] = b
    return found


def load(user_dir: str | None = None, shipped: Path = SHIPPED) -> Benchmarks:
    """The shipped benchmarks, then the user's (``LIVE_BENCHMARKS_DIR``): a user
    file replaces the shipped one of the same name. Raises BenchmarkError."""
    found = _folder(shipped)
    if user_dir:
        folder = Path(user_dir)
        if not folder.is_dir():
            raise BenchmarkError(f"{folder}: no such directory (LIVE_BENCHMARKS_DIR)")
        found.update(_folder(folder))
    return Benchmarks(found)
