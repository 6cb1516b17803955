#!/usr/bin/env python3
"""Write a show's review to files, read straight from the server's database.

    .venv/bin/python scripts/review.py --show ID --out DIR [--lang en|zh-CN]

writes ``DIR/review.json`` (what ``GET /api/shows/{id}/review`` answers),
``DIR/review.csv`` (``…/review.csv``: the minute series) and
``DIR/review.html`` (the page ``/shows/{id}/review`` shows, in the show's
language unless ``--lang``), from the same code as the server: an ended
show's stored review (the ``tallies`` table) and the journal after it, the
whole journal when none is stored. Reads
DATABASE_URL and LIVE_BENCHMARKS_DIR like ``server.py``; it only reads. A
live show's review is the review so far, up to now.
Exit status: 0 written, 1 no database yet, 2 bad arguments, an unknown show
or a bad benchmark file, 3 a show that has not started.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a file: make live/ and stats/ importable
    sys.path.insert(0, str(ROOT))

from live.adapters.accounts import Accounts
from live.adapters.db import open_database
from live.adapters.journal import Journal
from live.adapters.tallies import Tallies
from live.settings import Settings
from scripts.login import Refused, database_missing
from stats import report
from stats.benchmarks import BenchmarkError
from stats.benchmarks import load as load_benchmarks
from stats.entry import read_entry
from stats.previous import compared
from stats.review import minutes_csv, numbers, review

FILES = ("review.json", "review.csv", "review.html")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=".venv/bin/python scripts/review.py",
        description="Write a show's review as review.json, review.csv and review.html.",
        epilog="Reads DATABASE_URL and LIVE_BENCHMARKS_DIR like server.py.",
    )
    parser.add_argument("--show", required=True, help="the show's id")
    parser.add_argument("--out", required=True, type=Path, help="the folder to write the three files in (made if missing)")
    parser.add_argument("--lang", choices=("en", "zh-CN"), help="the page's language (default: the show's)")
    return parser.parse_args(argv)


async def export(settings: Settings, show_id: str, out: Path, lang: str | None,
                 now: int | None = None) -> list[Path]:
    """Write the three files; returns their paths. Raises Refused."""
    why = database_missing(settings.database_url)
    if why is not None:
        raise Refused(why, 1)
    try:
        benchmarks = load_benchmarks(settings.benchmarks_dir)
    except BenchmarkError as exc:
        raise Refused(f"benchmark file: {exc}", 2) from None
    engine = await open_database(settings.database_url)
    try:
        journal = Journal(engine)
        row = await journal.show_row(show_id) if len(show_id) <= 32 else None
        if row is None:
            raise Refused(f"no show {show_id!r} in the {settings.database_url.split('://')[0]} database", 2)
        # the stored review (an ended show's) and the journal after it, as the server reads it
        entry = await read_entry(Tallies(engine), journal, show_id, row.last_seq)
        state = entry.state
        if state is None or state.status == "draft":
            raise Refused(f"show {show_id!r} has not started: there is nothing to review yet", 3)
        now = int(time.time() * 1000) if now is None else now
        minutes, figures = numbers(entry.tally, now)
        accounts = Accounts(engine, lambda: now, admin_hash="")  # reads the hosts only
        body: dict[str, Any] = await compared(journal, accounts, benchmarks, state, review(state, minutes, figures))
    finally:
        await engine.dispose()
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / name for name in FILES]
    paths[0].write_text(json.dumps(body, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    paths[1].write_bytes(minutes_csv(state, body["minutes"]).encode("utf-8"))
    html = report.page(body, lang or state.language, titles=[s.title for s in state.segments], links=False,
                       generated_at=now)
    paths[2].write_text(html, encoding="utf-8")
    return paths


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        paths = asyncio.run(export(Settings.from_env(), args.show, args.out, args.lang))
    except Refused as refused:
        print(refused, file=sys.stderr)
        return refused.status
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
