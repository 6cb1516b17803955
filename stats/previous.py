"""The review's comparisons that read other shows: the same host's earlier
shows (their metrics, from their stored reviews) and the benchmark the show picks
(I/O: the journal and the staff accounts)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from live.adapters.accounts import Accounts
from live.adapters.journal import Journal
from live.adapters.tallies import Tallies
from live.core.show import ShowState
from stats import compare
from stats.benchmarks import Benchmarks
from stats.entry import read_entry
from stats.metrics import metrics

PREVIOUS = 10  # the most recent earlier shows a review compares with
PAST_KEEP = 256  # earlier shows' metrics kept, each until its journal grows


async def show_metrics(journal: Journal, row: Any) -> dict[str, Any] | None:
    """An ended show's ``{id, title, started_at, metrics}`` (None if it never
    started): the one place that reads a previous show's numbers, from its
    stored review and the journal after it (``read_entry``; the whole journal
    when none is stored)."""
    tally = (await read_entry(Tallies(journal.engine), journal, row.id, row.last_seq)).tally
    if tally.start is None:
        return None
    return {"id": row.id, "title": row.title, "started_at": tally.start, "metrics": metrics(tally)}


async def earlier_shows(journal: Journal, accounts: Accounts, show_id: str,
                        cache: OrderedDict[str, tuple[int, dict[str, Any] | None]] | None = None,
                        ) -> tuple[str, list[str], list[dict[str, Any]]]:
    """``(basis, hosts, shows)``: the show's hosts (the names of its staff with
    the host role) and the metrics of the same host's earlier shows, newest
    first, at most PREVIOUS: ended shows created before this one with a host of
    the same name (basis ``host``). A show with no named host compares with
    every earlier ended show in the database, all made by its one admin
    account (basis ``account``). ``cache`` keeps each show's metrics until its
    journal grows (a late order or return)."""
    rows = await journal.list_shows()  # newest first
    this = next((r for r in rows if r.id == show_id), None)
    if this is None:
        return "account", [], []
    hosts = await accounts.hosts()
    mine = hosts.get(show_id, [])
    earlier = [r for r in rows if r.id != show_id and r.status == "ended" and r.created_at < this.created_at]
    if mine:
        earlier = [r for r in earlier if set(hosts.get(r.id, ())) & set(mine)]
    found = []
    for row in earlier[:PREVIOUS]:
        hit = None if cache is None else cache.get(row.id)
        if hit is None or hit[0] != row.last_seq:
            hit = (row.last_seq, await show_metrics(journal, row))
        if cache is not None:
            cache[row.id] = hit
            cache.move_to_end(row.id)
        if hit[1] is not None:
            found.append(hit[1])
    return ("host" if mine else "account"), mine, found


async def compared(journal: Journal, accounts: Accounts, benchmarks: Benchmarks, state: ShowState,
                   body: dict[str, Any],
                   cache: OrderedDict[str, tuple[int, dict[str, Any] | None]] | None = None) -> dict[str, Any]:
    """The review ``body`` with ``benchmark`` (the one the show's ``benchmark``
    field picks) and ``previous`` (the same host's earlier shows)."""
    figures = body["metrics"]
    basis, hosts, earlier = await earlier_shows(journal, accounts, state.id, cache)
    return {
        **body,
        "benchmark": compare.benchmark(benchmarks.pick(state.benchmark), figures, state.benchmark),
        "previous": compare.previous(figures, earlier, basis, hosts),
    }
