"""Ingest throughput: newsdesk parse + clean + screen + store vs ``feedparser.parse`` alone, same files.

feedparser is the floor: newsdesk calls it, then sanitises and converts HTML to
text, fixes encoding damage, screens for injection/hidden text, hashes and
upserts into SQLite. The ratio shows what that work costs.

Two views, both timed interleaved with the same peer in one run:

* per core: parse + clean + screen (+ store) called in one process, one thread,
  like the peer;
* pipeline: the real ``collect(store, config, offline=True)`` over the same
  files as ``file://`` feeds (one section, all 60 feeds, fresh store per
  repeat), which parses in worker processes (one per core) while the calling
  thread stores. The peer stays single-threaded, so this ratio includes the
  second core.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from common import ratio, summary, write_result
from gen import write_feeds


def run(quick: bool) -> dict:
    import feedparser

    import newsdesk.collect.run as collect_run
    from newsdesk.collect.parse import parse_feed
    from newsdesk.collect.run import collect
    from newsdesk.collect.subscriptions import sync_feeds
    from newsdesk.config import parse_config
    from newsdesk.guard.screen import screen_record
    from newsdesk.store import SQLiteStore

    repeats = 3 if quick else 7
    with tempfile.TemporaryDirectory(prefix="nd-bench-ingest-") as tmp:
        feeds = write_feeds(Path(tmp) / "feeds", feeds=60, items=1000)
        bodies = [(p.resolve().as_uri(), p.read_bytes()) for _, _, p in feeds]
        config = parse_config('[[sections]]\nname = "Bench"\norder = 1\n\n'
                              + "".join(f'[[feeds]]\nurl = "{u}"\nsection = "Bench"\n\n' for u, _ in bodies))
        workers = collect_run._parse_workers(len(bodies), config.fetch.concurrency)
        peer, nd_parse, nd_full, peer_pipe, nd_pipe = [], [], [], [], []
        n_items = n_pipe = 0
        for r in range(repeats):
            # pipeline, interleaved with its own peer timing
            store = SQLiteStore(Path(tmp) / f"pipeline{r}.db")
            sync_feeds(config, store)
            t0 = time.perf_counter()
            rep = collect(store, config, offline=True)
            nd_pipe.append(time.perf_counter() - t0)
            assert not rep.failed, [x.error for x in rep.failed]
            n_pipe = store.count_items()
            store.close()
            t0 = time.perf_counter()
            sum(len(feedparser.parse(b).entries) for _, b in bodies)
            peer_pipe.append(time.perf_counter() - t0)

            t0 = time.perf_counter()
            n_peer = sum(len(feedparser.parse(b).entries) for _, b in bodies)
            peer.append(time.perf_counter() - t0)

            t0 = time.perf_counter()
            parsed = [(u, parse_feed(b, u, "application/rss+xml")) for u, b in bodies]
            for _, pf in parsed:
                for rec in pf.entries:
                    screen_record(rec)
            nd_parse.append(time.perf_counter() - t0)

            store = SQLiteStore(Path(tmp) / f"ingest{r}.db")
            t0 = time.perf_counter()
            for u, pf in parsed:
                feed = store.upsert_feed(u, title=u, section="Bench")
                store.upsert_items(feed.id, pf.entries)
            nd_full.append(nd_parse[-1] + time.perf_counter() - t0)
            n_items = store.count_items()
            store.close()
    assert n_items == n_peer == n_pipe == 1000, (n_items, n_peer, n_pipe)
    med = {k: statistics.median(v) for k, v in (("peer", peer), ("parse", nd_parse), ("full", nd_full),
                                                 ("peer_pipe", peer_pipe), ("pipe", nd_pipe))}
    return {
        "workload": "60 generated RSS files, 1000 items with escaped HTML bodies",
        "peer": "feedparser.parse(bytes) only",
        "feedparser_seconds": summary(peer), "newsdesk_parse_clean_screen_seconds": summary(nd_parse),
        "newsdesk_parse_clean_screen_store_seconds": summary(nd_full),
        "items_per_second": {"feedparser": round(1000 / med["peer"], 1), "newsdesk_parse_clean_screen": round(1000 / med["parse"], 1),
                             "newsdesk_with_store": round(1000 / med["full"], 1)},
        "ratio_newsdesk_full_over_feedparser": ratio(med["full"], med["peer"]),
        "pipeline": {
            "what": "collect(store, config, offline=True): 60 file:// feeds, fetch threads + parse worker "
                    "processes + store on the calling thread; fresh store per repeat; peer timed right after each run",
            "parse_worker_processes": workers,
            "peer_threads": 1,
            "newsdesk_collect_seconds": summary(nd_pipe),
            "feedparser_seconds": summary(peer_pipe),
            "items_per_second": {"feedparser": round(1000 / med["peer_pipe"], 1),
                                 "newsdesk_collect": round(1000 / med["pipe"], 1)},
            "ratio_newsdesk_collect_over_feedparser": ratio(med["pipe"], med["peer_pipe"]),
        },
    }


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    write_result("ingest", run(a.quick), a.quick)
