"""Briefing build speed: build_briefing + renderers on the demo corpus and on a generated
1,000-item / 60-feed corpus (12 sections). Writes bench/results/brief.json.

    python bench/brief_bench.py [--items 1000] [--rounds 3] [--quick]
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from common import summary, timed, write_result
from gen import write_feeds

from newsdesk.brief.build import build_briefing
from newsdesk.collect.run import collect
from newsdesk.collect.subscriptions import sync_feeds
from newsdesk.config import parse_config
from newsdesk.demo.data import DEMO_DATE, demo_config_text
from newsdesk.render import render_html, render_markdown
from newsdesk.store import SQLiteStore

NOW = datetime(2026, 11, 21, 11, 30, tzinfo=timezone.utc)


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def measure(store: SQLiteStore, cfg, rounds: int, **kw) -> dict:
    builds, renders = [], []
    b = None
    for _ in range(rounds):
        t, b = timed(lambda: build_briefing(store, cfg, now=NOW, **kw))
        builds.append(t)
        t, _ = timed(lambda: (render_markdown(b), render_html(b)))
        renders.append(t)
    s = b["stats"]
    return {"build_s": summary(builds), "render_md_html_s": summary(renders),
            "items_considered": s["items_considered"], "stories": s["stories"], "words": s["words"],
            "duplicates_removed": s["duplicates_removed"], "clusters_merged": s["clusters_merged"],
            "faithfulness": s["faithfulness"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    items, rounds = (200, 1) if a.quick else (a.items, a.rounds)
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_p = Path(tmp)
        cfg = parse_config(demo_config_text())
        with SQLiteStore(tmp_p / "demo.db") as store:
            sync_feeds(cfg, store)
            collect(store, cfg, offline=True)
            out["demo"] = measure(store, cfg, rounds, date=DEMO_DATE)
        feeds = write_feeds(tmp_p / "feeds", feeds=60, items=items)
        sections = sorted({s for _, s, _ in feeds})
        lines = ["[briefing]", 'timezone = "America/Toronto"', 'lookback = "24h"', ""]
        for i, s in enumerate(sections, 1):
            lines += ["[[sections]]", f"name = {_q(s)}", f"order = {i}", ""]
        for name, s, p in feeds:
            lines += ["[[feeds]]", f"url = {_q(p.as_uri())}", f"section = {_q(s)}", f"title = {_q(name)}", ""]
        gcfg = parse_config("\n".join(lines))
        with SQLiteStore(tmp_p / "gen.db") as store:
            sync_feeds(gcfg, store)
            collect(store, gcfg, offline=True)
            out[f"generated_{items}"] = measure(store, gcfg, rounds)
    write_result("brief", out, a.quick)


if __name__ == "__main__":
    main()
