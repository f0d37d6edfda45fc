"""Fixtures for the web-app tests: a temporary home seeded with the demo feeds and a real briefing.

The home is built with the real pipeline: demo config -> ``collect`` (offline,
file:// feeds) -> ``build_briefing`` + ``save_briefing`` (through the schedule's
``_build_and_save``, i.e. the same functions ``newsdesk brief`` uses). One extra
feed carries script/onerror payloads, and one stored item gets a raw payload
written straight into the store, to prove the pages render them inert.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from newsdesk.home import Home

XSS_TITLE = 'Council vote <script>alert("xss-title")</script> passes'
XSS_HTML = ('<p>Budget approved.</p><script>alert("xss-body")</script>'
            '<img src=x onerror=alert(1)><a href="javascript:alert(2)">link</a>'
            '<p onclick="alert(3)">Clinics open late.</p>')

XSS_FEED = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel>
<title>Hostile Example Feed</title><link>https://hostile.example.org/</link><description>test</description>
<item>
  <title>{XSS_TITLE.replace('<', '&lt;').replace('>', '&gt;')}</title>
  <link>https://hostile.example.org/2026/11/21/council-vote</link>
  <guid>hostile-1</guid>
  <pubDate>Sat, 21 Nov 2026 09:00:00 +0000</pubDate>
  <description><![CDATA[{XSS_HTML} The city council approved the winter budget on Friday after a long debate about transit.
  Councillors agreed to keep three clinics open late through February. The vote passed nine to four.]]></description>
</item>
</channel></rss>
"""


def build_demo_home(root: Path, *, extra_toml: str = "") -> Home:
    """Create ``root`` as a newsdesk home with the demo data collected and one briefing archived."""
    from newsdesk.collect.run import collect
    from newsdesk.collect.subscriptions import sync_feeds
    from newsdesk.config import load_config
    from newsdesk.demo.data import demo_config_text
    from newsdesk.store.sqlite import open_store

    home = Home(root)
    home.ensure()
    feed_file = root / "hostile-feed.xml"
    feed_file.write_text(XSS_FEED, encoding="utf-8")
    text = demo_config_text()
    text += (f'\n[[feeds]]\nurl = "{feed_file.as_uri()}"\nsection = "Enterprise Architecture & IT Governance"\n'
             'title = "Hostile <b>Feed</b>"\n')
    home.config_path.write_text(text + extra_toml, encoding="utf-8")
    config = load_config(home.config_path)
    store = open_store(home.db_path)
    try:
        sync_feeds(config, store)
        report = collect(store, config, config_path=home.config_path, offline=True)
        # A raw payload in stored HTML, as if a collector bug had let it through.
        for item in store.list_items():
            if item.guid == "hostile-1":
                store.execute("UPDATE items SET content_html = ?, title = ? WHERE id = ?",
                              (XSS_HTML, XSS_TITLE, item.id))
        b = build_briefing_for_demo(home, store, config, report)
        index_demo(store, config, b)
    finally:
        store.close()
    return home


def build_briefing_for_demo(home: Home, store: Any, config: Any, report: Any = None) -> dict[str, Any]:
    from newsdesk.brief.build import build_briefing
    from newsdesk.brief.run import run_metrics
    from newsdesk.demo.data import demo_date
    from newsdesk.store.briefings import save_briefing

    run_id = store.start_run("brief")
    b = build_briefing(store, config, date=demo_date(), report=report)
    save_briefing(store, b, run_id=run_id)
    store.finish_run(run_id, run_metrics(b))
    return b


def index_demo(store: Any, config: Any, b: dict[str, Any]) -> None:
    """Index the briefed items and the demo documents for Search/Ask (as ``newsdesk brief``/``add`` do)."""
    from newsdesk.ask.kb import index_documents, index_items
    from newsdesk.collect.documents import expand_inputs, load_one
    from newsdesk.demo.data import DATA_DIR

    ids = [src["item_id"] for sec in b["sections"] for st in sec["stories"] for src in st["sources"]]
    index_items(store, config, store.get_items(list(dict.fromkeys(ids))))
    docs = [load_one(ref) for ref in expand_inputs([str(DATA_DIR / "docs")])]
    index_documents(store, config, docs)


def copy_home(src: Home, dst: Path) -> Home:
    """A private copy of a seeded home (tests that write get their own)."""
    shutil.copytree(src.root, dst)
    return Home(dst)


_TEMPLATE: Home | None = None


def demo_template() -> Home:
    """The seeded demo home, built once per test process (copy it before writing to it)."""
    global _TEMPLATE
    if _TEMPLATE is None:
        import atexit
        import tempfile

        root = Path(tempfile.mkdtemp(prefix="newsdesk-serve-demo-"))
        atexit.register(shutil.rmtree, root, True)
        _TEMPLATE = build_demo_home(root / "home")
    return _TEMPLATE


def demo_home(tmp_path: Path, *, extra_toml: str = "") -> Home:
    """A private copy of the seeded demo home under ``tmp_path`` (optionally with more config)."""
    home = copy_home(demo_template(), tmp_path / "home")
    if extra_toml:
        with home.config_path.open("a", encoding="utf-8") as f:
            f.write("\n" + extra_toml + "\n")
    return home


def client(home: Home, *, token: str | None = None, base_url: str = "http://testserver") -> Any:
    """A FastAPI TestClient for ``create_app(home)`` (use :func:`csrf` to get its CSRF token)."""
    from fastapi.testclient import TestClient

    from newsdesk.serve.app import create_app

    return TestClient(create_app(home, token=token), base_url=base_url)


def csrf(c: Any) -> str:
    """The CSRF token of a TestClient session (fetched from a page when it has none yet)."""
    tok = c.cookies.get("newsdesk_csrf")
    if not tok:
        c.get("/login")
        tok = c.cookies.get("newsdesk_csrf")
    assert tok, "the app did not set a CSRF cookie"
    return tok
