"""Collect throughput: parse+clean of the bundled demo feeds, and a full collect() run
against a local HTTP server (N copies of a 20-entry feed). Writes bench/results/collect.json.

    python bench/collect_bench.py [--feeds 40] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from newsdesk.collect.parse import parse_feed
from newsdesk.collect.run import collect
from newsdesk.collect.subscriptions import sync_feeds
from newsdesk.config import parse_config
from newsdesk.store import SQLiteStore

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "src" / "newsdesk" / "demo" / "data" / "feeds"


def synthetic_feed(n: int, tag: str) -> bytes:
    items = "".join(
        f"<item><title>Story {i} from {tag} &amp; friends</title><link>https://{tag}.example/s/{i}?utm_source=rss</link>"
        f"<guid>{tag}-{i}</guid><pubDate>Mon, 13 Oct 2025 10:{i % 60:02d}:00 GMT</pubDate>"
        f"<description><![CDATA[<p>Paragraph one of story {i} with &#8220;quotes&#8221; and a <a href='/x'>link</a>.</p>"
        f"<p>Paragraph two says more about the subject so the text is not trivially short.</p>"
        f"<script>track({i})</script>]]></description></item>"
        for i in range(n)
    )
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{tag}</title>'
            f"<link>https://{tag}.example/</link>{items}</channel></rss>").encode()


def bench_parse(rounds: int) -> dict:
    files = [p for p in sorted(DEMO.glob("*")) if "truncated" not in p.name]
    bodies = [(p.read_bytes(), p.as_uri()) for p in files]
    entries = 0
    t0 = time.perf_counter()
    for _ in range(rounds):
        for body, url in bodies:
            entries += len(parse_feed(body, url).entries)
    dt = time.perf_counter() - t0
    return {"feeds": len(bodies) * rounds, "entries": entries, "seconds": round(dt, 3),
            "entries_per_s": round(entries / dt, 1)}


def bench_collect(n_feeds: int) -> dict:
    body = {f"/f{i}.xml": synthetic_feed(20, f"site{i}") for i in range(n_feeds)}

    class H(BaseHTTPRequestHandler):
        def log_message(self, *a: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            data = body.get(self.path, b"")
            time.sleep(0.05)  # a little network latency
            self.send_response(200 if data else 404)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    feeds = "".join(f'[[feeds]]\nurl = "{base}{p}"\nsection = "News"\n\n' for p in body)
    cfg = parse_config('[[sections]]\nname = "News"\n\n[fetch]\nconcurrency = 8\n\n' + feeds)
    out = {}
    with tempfile.TemporaryDirectory() as d:
        store = SQLiteStore(Path(d) / "b.db")
        sync_feeds(cfg, store)
        for label in ("first_run", "second_run"):
            t0 = time.perf_counter()
            rep = collect(store, cfg)
            out[label] = {"seconds": round(time.perf_counter() - t0, 3), "new": rep.new, "failed": len(rep.failed)}
        store.close()
    srv.shutdown()
    out["feeds"] = n_feeds
    out["entries_per_feed"] = 20
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--feeds", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    result = {"parse_demo_feeds": bench_parse(a.rounds), "collect_local_http": bench_collect(a.feeds),
              "python": sys.version.split()[0]}
    path = ROOT / "bench" / "results" / "collect.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
