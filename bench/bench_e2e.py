"""End to end: 1,000 generated items in 60 feeds -> fetch (file://) + briefing.

Measures a cold run (fresh home) and a warm re-run (same home, nothing new),
median over repeats. No peer: the tool newsdesk replaces is not available here.
Knowledge-base indexing (embedding every item) is excluded (``index=False``)
and measured by bench_embed instead.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from common import summary, write_result
from gen import SECTIONS, write_feeds


def config_text(feeds: list[tuple[str, str, Path]]) -> str:
    lines = ["[briefing]", 'timezone = "America/Toronto"', 'lookback = "3650d"', "per_section_cap = 5",
             "word_budget = 1500", "", "[fetch]", "concurrency = 8", "", "[llm]", 'backend = "none"', ""]
    for i, s in enumerate(SECTIONS, 1):
        lines += ["[[sections]]", f'name = "{s}"', f"order = {i}", ""]
    for title, section, path in feeds:
        lines += ["[[feeds]]", f'url = "{path.resolve().as_uri()}"', f'section = "{section}"', f'title = "{title}"', ""]
    return "\n".join(lines)


def run(quick: bool) -> dict:
    from newsdesk.brief.run import run_brief
    from newsdesk.config import load_config
    from newsdesk.home import Home
    from newsdesk.store import open_store

    repeats = 1 if quick else 3
    cold, warm, info = [], [], {}
    with tempfile.TemporaryDirectory(prefix="nd-bench-e2e-") as tmp:
        feeds = write_feeds(Path(tmp) / "feeds", feeds=60, items=1000)
        for r in range(repeats):
            home = Home(Path(tmp) / f"home{r}").ensure()
            home.config_path.write_text(config_text(feeds), encoding="utf-8")
            cfg = load_config(home.config_path)
            store = open_store(home.db_path)
            try:
                t0 = time.perf_counter()
                res = run_brief(store, cfg, home, date=date(2026, 11, 21), fetch=True, offline=True, index=False)
                cold.append(time.perf_counter() - t0)
                s = res.briefing["stats"]
                info = {"items_stored": store.count_items(), "stories": s["stories"], "words": s["words"],
                        "faithfulness": s["faithfulness"], "feeds_ok": s["feeds_ok"], "feeds_failed": s["feeds_failed"],
                        "duplicates_removed": s["duplicates_removed"]}
                t0 = time.perf_counter()
                run_brief(store, cfg, home, date=date(2026, 11, 21), fetch=True, offline=True, index=False)
                warm.append(time.perf_counter() - t0)
            finally:
                store.close()
    return {
        "workload": "60 generated RSS files, 1000 items, file:// fetch + parse + clean + store + briefing (md/html/json)",
        "cold_seconds": summary(cold), "warm_rerun_seconds": summary(warm),
        "items_per_second_cold": round(1000 / statistics.median(cold), 1), "result": info,
    }


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    write_result("e2e", run(a.quick), a.quick)
