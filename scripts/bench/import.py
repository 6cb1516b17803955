"""Importing a recording (lines/s), beside two floors measured in the same run.

    python -m scripts.bench.import                      SQLite, 200,000 lines
    python -m scripts.bench.import --pg postgresql://postgres@127.0.0.1:5432/test --lines 200000

The recording is the simulator's (``scripts/simulate.py``, a fixed seed), cut
to ``--lines`` inputs. The import is what ``POST /api/shows/import`` does
after reading the body: parse and check every line, then replay it into a new
show through the engine on the recording's clock (``live.runtime.replay``).
The floors: parsing and checking the same NDJSON alone (``parse_recording``),
and appending as many events as the import wrote with the journal alone
(``Journal.append``, in the import's transaction size). Each run starts from
an empty database; the median of ``--runs`` is reported. Prints a table and
writes ``bench-results/import.json``. PostgreSQL runs in a scratch database
(``live_bench_…``) created on the given server and dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from live.adapters.db import open_database
from live.adapters.journal import Journal
from live.core.recording import parse_recording
from live.runtime.replay import FLUSH_EVENTS, replay
from scripts.simulate import ndjson, simulate

OUT = Path("bench-results") / "import.json"


def recording(lines: int, seed: int = 42) -> bytes:
    """A simulated recording of at least ``lines`` inputs, cut to exactly that many."""
    minutes, viewers = 180, 2_000
    while True:
        generated, _ = simulate(seed, minutes, viewers)
        if len(generated) - 1 >= lines:
            return ndjson(generated[: lines + 1])
        viewers = int(viewers * 1.5 * lines / max(1, len(generated)))


async def scratch_url(pg: str | None) -> tuple[str, Any]:
    """A fresh database URL and a function that drops it."""
    if pg is None:
        folder = tempfile.mkdtemp(prefix="live-bench-")
        return f"sqlite:///{folder}/import.db", None
    import asyncpg

    name = f"live_bench_{secrets.token_hex(4)}"
    base = pg.rsplit("/", 1)[0]
    conn = await asyncpg.connect(base.replace("postgresql://", "postgres://") + "/postgres")
    await conn.execute(f"CREATE DATABASE {name}")
    await conn.close()

    async def drop() -> None:
        c = await asyncpg.connect(base.replace("postgresql://", "postgres://") + "/postgres")
        await c.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await c.close()

    return f"{base}/{name}", drop


async def one_run(raw: bytes, pg: str | None) -> dict[str, float]:
    url, drop = await scratch_url(pg)
    db = await open_database(url)
    try:
        journal = Journal(db)
        began = time.perf_counter()
        parsed = parse_recording(raw)
        parse_s = time.perf_counter() - began
        began = time.perf_counter()
        engine = await replay(journal, parse_recording(raw), "bench", "ov_b", "wh_b", secret=b"bench")
        import_s = time.perf_counter() - began
        events = await journal.load("bench")
        # the journal floor: the same events appended again, under another id, in the import's batch size
        first = {**events[0]}
        await journal.create_show("floor", "floor", "ov_f", first)
        rest = events[1:]
        began = time.perf_counter()
        for i in range(0, len(rest), FLUSH_EVENTS):
            await journal.append("floor", rest[i:i + FLUSH_EVENTS])
        append_s = time.perf_counter() - began
        lines = len(parsed.inputs) + 1
        return {"lines": lines, "events": engine.state.seq, "import_s": import_s,
                "import_lines_per_s": lines / import_s, "parse_lines_per_s": lines / parse_s,
                "append_events_per_s": len(rest) / append_s}
    finally:
        await db.dispose()
        if drop is not None:
            await drop()


async def main_async(args: argparse.Namespace) -> None:
    raw = recording(args.lines)
    runs = [await one_run(raw, args.pg) for _ in range(args.runs)]

    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    backend = "postgresql" if args.pg else "sqlite"
    rows = [
        ("import (parse + replay + journal)", med("import_lines_per_s"), "lines/s"),
        ("floor: parse and check only", med("parse_lines_per_s"), "lines/s"),
        ("floor: journal append of the same events", med("append_events_per_s"), "events/s"),
    ]
    print(f"\nrecording import, {backend}: {runs[0]['lines']:,} lines → {runs[0]['events']:,} events, "
          f"median of {args.runs}; import took {med('import_s'):.1f} s")
    print(f"{'what':<44}{'median':>14}  unit")
    for name, value, unit in rows:
        print(f"{name:<44}{value:>14,.0f}  {unit}")
    print(f"import ÷ parse floor: {med('import_lines_per_s') / med('parse_lines_per_s'):.2f}")
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps({"backend": backend, "machine": platform.platform(), "runs": runs,
                               "median": {k: med(k) for k in runs[0]}}, indent=1))
    print(f"wrote {OUT}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pg", default=None, help="a PostgreSQL URL (a scratch database is made on that server)")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
