"""Every benchmark, one table (README, "Benchmarks"; targets: DESIGN.md section 7).

    python -m scripts.bench.all                 the sizes of the targets (about an hour on 2 cores)
    python -m scripts.bench.all --quick         small sizes, one run each (a few minutes: does it all work)
    python -m scripts.bench.all --only likes,journal   rerun these; the others' last results stay in the table

Runs each benchmark module in its own process (each pins itself: server on
core 0, load clients on core 1), with these sizes:

- ``fanout``: one event to 1,000 / 5,000 / 10,000 viewers beside the bare
  ``websockets`` floor and the Node ``ws`` peer; memory per idle socket (at
  the largest size)
- ``hold``: viewer sockets held by one process, up to the fd limit (19,000)
- ``likes``: likes ingested per second for 60 s, counts exact
- ``claims``: 10,000 simultaneous claims on stock 100 beside ping→pong
- ``journal``: journal writes on SQLite and PostgreSQL beside the drivers
- ``scaled``: the fan-out and claims with two processes on Redis and
  PostgreSQL, beside one process in the same run

Each module writes its JSON under ``bench-results/all/`` (``all-quick/``); this prints one
table (figure | server.py | floor or peer, same run | ratio | target |
met?) and writes every result and the table's rows to
``bench-results/all.json``. Medians are of 3 runs (``--quick``: 1).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from scripts.bench.harness import ROOT, machine

OUT = Path("bench-results") / "all.json"
PG = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass
class Row:
    figure: str
    server: str  # server.py's figure
    floor: str  # the floor or peer measured in the same run
    ratio: str
    target: str
    met: bool | None  # None: no target


# -- sizes --------------------------------------------------------------------------


def plan(quick: bool, pg: str) -> list[tuple[str, str, list[str]]]:
    """(key, module, arguments) of every benchmark at full or quick size."""
    runs = ["--runs", "1"] if quick else ["--runs", "3"]
    fanout_sizes = [200, 500] if quick else [1_000, 5_000, 10_000]
    out: list[tuple[str, str, list[str]]] = [
        (f"fanout-{n}", "fanout", ["--viewers", str(n), *runs, "--events", "3" if quick else "10"])
        for n in fanout_sizes
    ]
    out += [
        ("hold", "hold", ["--viewers", "1000", "--per-client", "400"] if quick else ["--viewers", "19000"]),
        ("likes", "likes", ["--viewers", "300", "--seconds", "5", *runs] if quick
         else ["--viewers", "5000", "--rate", "11", "--seconds", "60", *runs]),  # 55,000/s offered: above the target
        ("claims", "claims", ["--viewers", "500" if quick else "10000", *runs]),
        ("journal", "journal", ["--pg", pg, "--events", "20000" if quick else "200000", "--single", "0",
                                "--runs", "1" if quick else "3"]),
        ("scaled", "scaled", ["--pg", pg, "--viewers", "300" if quick else "10000", *runs,
                              "--events", "2" if quick else "5"]),
    ]
    return out


def run_one(key: str, module: str, arguments: list[str], folder: Path) -> dict[str, Any] | None:
    """Run ``scripts.bench.<module>``; returns its JSON result, or None when it failed."""
    out = folder / f"{key}.json"
    cmd = [sys.executable, "-m", f"scripts.bench.{module}", *arguments, "--out", str(out)]
    print(f"\n== {key}: {' '.join(cmd[2:])}", flush=True)
    started = time.monotonic()
    done = subprocess.run(cmd, cwd=ROOT, check=False)
    print(f"== {key}: {'ok' if done.returncode == 0 else f'FAILED ({done.returncode})'} "
          f"in {time.monotonic() - started:.0f} s", flush=True)
    if done.returncode != 0 or not out.exists():
        return None
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return result


# -- the table ------------------------------------------------------------------------


def ms(p50: float, p99: float) -> str:
    return f"{p50:.0f} / {p99:.0f} ms"


def fanout_rows(result: dict[str, Any]) -> list[Row]:
    n = result["viewers"]
    t = result["targets"]
    m, fl = t["server.py"]["median"], t["floor: websockets"]["median"]
    peer = t.get("peer: node ws", {}).get("median")
    floor = f"websockets {ms(fl['p50_ms'], fl['p99_ms'])}"
    ratio = f"{m['p50_ms'] / fl['p50_ms']:.2f}× / {m['p99_ms'] / fl['p99_ms']:.2f}×"
    met = max(m["p50_ms"] / fl["p50_ms"], m["p99_ms"] / fl["p99_ms"]) <= result["target"]["ratio"]
    target = f"≤ {result['target']['ratio']}× floor"
    if peer is not None:
        floor += f"; node ws {ms(peer['p50_ms'], peer['p99_ms'])}"
        ratio += f" (node {m['p50_ms'] / peer['p50_ms']:.2f}× / {m['p99_ms'] / peer['p99_ms']:.2f}×)"
        target += ", ≤ 1.0× node"
        met = met and m["p50_ms"] <= peer["p50_ms"] and m["p99_ms"] <= peer["p99_ms"]
    if n >= 10_000:
        target += f", ≤ {result['target']['p50_ms']:.0f} / {result['target']['p99_ms']:.0f} ms"
        met = met and m["p50_ms"] <= result["target"]["p50_ms"] and m["p99_ms"] <= result["target"]["p99_ms"]
    return [Row(f"one event to {n:,} viewers, p50 / p99", ms(m["p50_ms"], m["p99_ms"]), floor, ratio, target, met)]


def memory_row(result: dict[str, Any]) -> Row:
    t = result["targets"]
    kib = t["server.py"]["kib_per_socket"]
    fl = t["floor: websockets"]["kib_per_socket"]
    peer = t.get("peer: node ws", {}).get("kib_per_socket")
    floor = f"websockets {fl:.1f} KiB" + (f"; node ws {peer:.1f} KiB" if peer is not None else "")
    return Row(f"memory per idle viewer socket ({result['viewers']:,} open)", f"{kib:.1f} KiB", floor,
               f"{kib / fl:.2f}×", f"≤ {result['target']['kib_per_viewer']:.0f} KiB",
               kib <= result["target"]["kib_per_viewer"])


def hold_row(result: dict[str, Any]) -> Row:
    t = result["targets"]
    s = t["server.py"]
    floor = "; ".join(f"{name.split(': ')[-1]} {v['held']:,}" for name, v in t.items() if name != "server.py")
    server = f"{s['held']:,} of {result['viewers']:,} (viewers.now {s['viewers_now']:,}, event to {s['event_reached']:,})"
    return Row("viewers held by one process", server, floor, f"{s['held'] / result['viewers']:.2f}",
               f"{result['target']:,} (stretch {result['stretch']:,})", bool(result["meets_target"]))


def likes_row(result: dict[str, Any]) -> Row:
    s, f = result["median"]["server.py"], result["median"]["floor: websockets sink"]
    closed = max(r.get("closed", 0) for r in result["runs"]["server.py"])
    exact = "exact" if result["counts_exact"] else "NOT exact" + (
        f" (up to {closed:,.0f} sockets cut off by the server)" if closed else "")
    return Row(f"likes ingested for {result['seconds']:.0f} s ({result['offered_per_s']:,}/s offered)",
               f"{s['per_s']:,.0f}/s, counts {exact}; {s['server_us_per_like']:.1f} µs CPU each",
               f"websockets sink {f['per_s']:,.0f}/s; {f['server_us_per_like']:.1f} µs CPU each",
               f"{result['cpu_ratio_to_floor']:.2f}× CPU", f"≥ {result['target_per_s']:,}/s, exact",
               bool(result["meets_target"]))


def claims_row(result: dict[str, Any]) -> Row:
    m = result["median"]
    orders = ", ".join(str(r["orders_journaled"]) for r in result["runs"])
    return Row(f"{result['viewers']:,} simultaneous claims on stock {result['stock']}, p50 / p99",
               f"{ms(m['claim_p50_ms'], m['claim_p99_ms'])}; orders {orders}"
               + ("" if result["exactly_stock_orders_and_all_answered"] else " (NOT exact)"),
               f"ping→pong {ms(m['floor_p50_ms'], m['floor_p99_ms'])}",
               f"{m['claim_p99_ms'] / m['floor_p99_ms']:.2f}× p99",
               f"exactly {result['stock']}, all answered, p99 ≤ {result['target_p99_ms']:.0f} ms",
               bool(result["meets_target"]))


def journal_rows(result: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    batch = result["batch"]
    for backend in ("sqlite", "postgresql"):
        mine = [r for r in result["results"] if r["backend"] == backend and r["batch"] == batch]
        floor = next((r for r in mine if r["floor"]), None)
        paths = [r for r in mine if not r["floor"]]
        if floor is None or not paths:
            continue
        main = next((r for r in paths if r["path"] in ("journal", "journal (copy)")), paths[0])
        others = "; ".join(f"{r['path'].removeprefix('journal ')} {r['median_events_per_s'] / 1000:.0f}k/s"
                           for r in paths if r is not main)
        server = f"{main['median_events_per_s'] / 1000:.0f}k events/s" + (f" ({others})" if others else "")
        rows.append(Row(f"journal writes, {backend} ({batch} a transaction){' by COPY' if backend == 'postgresql' else ''}",
                        server, f"{floor['path'].removeprefix('floor: ')} {floor['median_events_per_s'] / 1000:.0f}k/s",
                        f"{main['median_events_per_s'] / floor['median_events_per_s']:.2f}×",
                        f"≥ {main['target_events_per_s'] / 1000:.0f}k/s", bool(main["meets_target"])))
    return rows


def scaled_rows(result: dict[str, Any]) -> list[Row]:
    two, one = result["modes"]["server.py ×2 on Redis"]["median"], result["modes"]["server.py ×1"]["median"]
    n = result["viewers"]
    r = result["ratio_to_one_process"]
    orders = ", ".join(f"{x['orders_journaled']:.0f}" for x in result["modes"]["server.py ×2 on Redis"]["runs"])
    return [
        Row(f"×2 processes on Redis: one event to {n:,} viewers, p50 / p99",
            f"{ms(two['p50_ms'], two['p99_ms'])} (owner's sockets {ms(two['p50_ms_A'], two['p99_ms_A'])}, "
            f"other's {ms(two['p50_ms_B'], two['p99_ms_B'])})",
            f"×1 process {ms(one['p50_ms'], one['p99_ms'])}", f"{r['fanout_p50']:.2f}× / {r['fanout_p99']:.2f}×",
            "—", None),
        Row(f"×2 processes on Redis: {n:,} simultaneous claims on stock {result['stock']}, p50 / p99",
            f"{ms(two['claim_p50_ms'], two['claim_p99_ms'])}; orders {orders}"
            + ("" if result["claims_exact"] else " (NOT exact: " + ", ".join(
                f"{code} {n}" for code, n in result["modes"]["server.py ×2 on Redis"].get("losers", [{}])[-1].items()
                if not code.startswith("claim.result")) + ")"),
            f"×1 process {ms(one['claim_p50_ms'], one['claim_p99_ms'])}; ping→pong ×2 "
            f"{ms(two['ping_p50_ms'], two['ping_p99_ms'])}",
            f"{r['claim_p99']:.2f}× p99", f"exactly {result['stock']}, p99 ≤ {result['target_claim_p99_ms']:.0f} ms",
            bool(result["meets_target"])),
    ]


def rows_of(results: dict[str, dict[str, Any] | None]) -> list[Row]:
    """The table's rows from the benchmarks' results (keys as ``plan`` names
    them; None: the benchmark failed, a row says so)."""
    rows: list[Row] = []
    fanouts = sorted((k for k in results if k.startswith("fanout-")), key=lambda k: int(k.split("-")[1]))
    for key in fanouts:
        if (r := results[key]) is not None:
            rows += fanout_rows(r)
    if fanouts and (largest := results[fanouts[-1]]) is not None:
        rows.append(memory_row(largest))
    makers = {"hold": lambda r: [hold_row(r)], "likes": lambda r: [likes_row(r)],
              "claims": lambda r: [claims_row(r)], "journal": journal_rows, "scaled": scaled_rows}
    for key, make in makers.items():
        if key in results and (r := results[key]) is not None:
            rows += make(r)
    rows += [Row(f"{key}: the benchmark failed", "—", "—", "—", "—", False) for key, r in results.items() if r is None]
    return rows


def render(rows: list[Row]) -> str:
    """The rows as a Markdown table (what the README's "Benchmarks" shows)."""
    mark = {True: "✓", False: "✗", None: "—"}
    lines = ["| figure | server.py | floor / peer, same run | ratio | target | met? |", "|---|---|---|---|---|---|"]
    lines += [f"| {r.figure} | {r.server} | {r.floor} | {r.ratio} | {r.target} | {mark[r.met]} |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, one run each")
    parser.add_argument("--only", type=lambda v: v.split(","), help="benchmark keys, e.g. fanout,likes,journal")
    parser.add_argument("--pg", default=PG, help=f"PostgreSQL server for journal and scaled (default {PG})")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    folder = args.out.parent / ("all-quick" if args.quick else "all")
    folder.mkdir(parents=True, exist_ok=True)
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    results: dict[str, dict[str, Any] | None] = {}
    for key, module, arguments in plan(args.quick, args.pg):
        if args.only and not any(key == o or key.startswith(o + "-") for o in args.only):
            # Not rerun: the table keeps its last result, if there is one.
            if (kept := folder / f"{key}.json").exists():
                results[key] = json.loads(kept.read_text(encoding="utf-8"))
            continue
        results[key] = run_one(key, module, arguments, folder)
    rows = rows_of(results)
    table = render(rows)
    print("\n" + table)
    report = {"bench": "all", "quick": args.quick, "started": started,
              "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine(),
              "rows": [asdict(r) for r in rows], "results": results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0 if all(r is not None for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
