"""REST API and pages on a demo home: same JSON as the CLI, feeds CRUD, documents, OPML, pages render."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest
from typer.testing import CliRunner

from serve_helpers import client, csrf, demo_home, demo_template

from newsdesk.cli.main import app as cli_app


@pytest.fixture(scope="module")
def ro() -> Any:
    """A client on the shared (read-only) demo home."""
    return client(demo_template())


def cli_json(home: Path, *args: str) -> Any:
    res = CliRunner().invoke(cli_app, ["--home", str(home), *args])
    assert res.exit_code in (0, 1), res.output
    return json.loads(res.stdout)


# --- briefings ------------------------------------------------------------------------

def test_briefings_index_matches_cli(ro: Any) -> None:
    r = ro.get("/api/briefings")
    assert r.status_code == 200
    assert r.json() == cli_json(demo_template().root, "briefings", "--json")
    assert r.json()[0]["date"] == "2026-11-21"


def test_briefing_by_date_and_latest(ro: Any) -> None:
    b = ro.get("/api/briefings/2026-11-21").json()
    assert b["date"] == "2026-11-21"
    assert ro.get("/api/briefings/latest").json() == b
    names = [s["name"] for s in b["sections"]]
    assert "Cybersecurity & Privacy" in names
    story = next(st for s in b["sections"] for st in s["stories"])
    one = ro.get(f"/api/briefings/2026-11-21/stories/{story['id']}").json()
    assert one["title"] == story["title"] and one["sources"] == story["sources"]
    md = ro.get("/api/briefings/2026-11-21?format=markdown").text
    assert md.startswith("---") and story["title"] in md


def test_briefing_errors(ro: Any) -> None:
    assert ro.get("/api/briefings/1999-01-01").status_code == 404
    assert ro.get("/api/briefings/not-a-date").status_code == 422
    assert ro.get("/api/briefings/2026-11-21/stories/nope").status_code == 404


def test_openapi_lists_the_api(ro: Any) -> None:
    spec = ro.get("/openapi.json").json()
    for path in ("/api/briefings", "/api/briefings/{date}", "/api/search", "/api/ask", "/api/feeds",
                 "/api/documents", "/api/documents/{ident}"):
        assert path in spec["paths"], path
    assert set(spec["paths"]["/api/feeds"]) >= {"get", "post", "patch", "delete"}
    assert set(spec["paths"]["/api/ask"]) >= {"get", "post"}
    docs = ro.get("/docs")
    assert docs.status_code == 200 and "/api/feeds" in docs.text and "PATCH" in docs.text


# --- search and ask ----------------------------------------------------------------------

def test_search_matches_cli_and_filters(ro: Any) -> None:
    hits = ro.get("/api/search", params={"q": "rail freight strike", "k": 5}).json()
    assert hits and "rail" in (hits[0]["title"] + hits[0]["text"]).lower()
    cli = cli_json(demo_template().root, "search", "rail freight strike", "-k", "5", "--json")
    assert [h["chunk_id"] for h in hits] == [h["chunk_id"] for h in cli]
    docs_only = ro.get("/api/search", params={"q": "heat pumps", "kind": "document"}).json()
    assert docs_only and all(h["kind"] == "document" for h in docs_only)
    items_only = ro.get("/api/search", params={"q": "heat pumps", "kind": "briefing"}).json()
    assert all(h["kind"] == "briefing" for h in items_only)
    assert ro.get("/api/search", params={"q": "x", "year": "twenty"}).status_code == 422
    assert ro.get("/api/search", params={"q": "x", "kind": "podcast"}).status_code == 422


def test_ask_answers_with_citations_and_abstains(ro: Any) -> None:
    r = ro.post("/api/ask", json={"question": "How many containers were stranded by the rail freight strike?"})
    assert r.status_code == 200
    a = r.json()
    assert set(a) >= {"question", "answer", "abstained", "path", "sentences", "citations", "timings_ms"}
    assert not a["abstained"] and "1,900" in a["answer"]
    assert a["citations"] and all(c["url"] or c["source"] for c in a["citations"])
    g = ro.get("/api/ask", params={"q": "What colour is the royal giraffe of Neptune's moon Triton?"}).json()
    assert g["abstained"] is True
    assert g["citations"], "an abstention still lists the closest sources"


# --- pages --------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/archive", "/briefings/2026-11-21", "/feeds", "/documents",
                                  "/search?q=rail", "/ask", "/login"])
def test_pages_render(ro: Any, path: str) -> None:
    r = ro.get(path)
    assert r.status_code == 200, path
    assert r.headers["content-type"].startswith("text/html")
    assert "<nav" in r.text and "newsdesk" in r.text


def test_today_shows_sections_failures_sources(ro: Any) -> None:
    html = ro.get("/").text
    assert "Saturday 21 November 2026" in html
    assert "Feed unavailable: Vault Threat Notes" in html
    assert "badge-partial" in html
    assert "🌍" in html and "International News" in html
    assert 'href="https://globaldesk.example.org/world/2026/11/21/eu-rail-strike"' in html
    assert "Now -3.4" in html  # weather line
    assert "1 source" in html


def test_story_page_lists_every_source(ro: Any) -> None:
    b = ro.get("/api/briefings/2026-11-21").json()
    story = max((st for s in b["sections"] for st in s["stories"]), key=lambda st: len(st["sources"]))
    html = ro.get(f"/briefings/2026-11-21/stories/{story['id']}").text
    for src in story["sources"]:
        assert src["url"] in html
    for sent in story["sentences"]:
        assert sent["text"].replace("'", "&#39;").replace('"', "&#34;")[:40] in html


def test_search_and_ask_pages(ro: Any) -> None:
    html = ro.get("/search", params={"q": "heat pumps", "kind": "document"}).text
    assert "heat pump" in html.lower() and "result" in html
    html = ro.get("/ask", params={"q": "How many containers were stranded by the rail freight strike?"}).text
    assert "1,900" in html and 'id="cite-1"' in html
    html = ro.get("/ask", params={"q": "What colour is the royal giraffe of Neptune's moon Triton?"}).text
    assert "Not enough evidence to answer" in html and "Closest sources" in html


# --- feeds CRUD -------------------------------------------------------------------------------

FEED_XML = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Local Test Feed</title>
<link>http://127.0.0.1/</link><description>d</description>
<item><title>Hello</title><link>http://127.0.0.1/a</link><guid>a</guid></item></channel></rss>"""


@pytest.fixture
def feed_server() -> Iterator[str]:
    class H(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/feed.xml":
                body, ctype = FEED_XML, "application/rss+xml"
            else:
                body = b'<html><head><link rel="alternate" type="application/rss+xml" href="/feed.xml"></head></html>'
                ctype = "text/html"
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a: Any) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


def test_feeds_list_matches_cli(ro: Any) -> None:
    api = ro.get("/api/feeds").json()
    cli = cli_json(demo_template().root, "feeds", "list", "--json")
    assert api == cli
    bad = next(f for f in api if f["title"] == "Vault Threat Notes")
    assert bad["consecutive_failures"] >= 1 and bad["last_error"]


def test_feed_add_patch_delete(tmp_path: Path, feed_server: str) -> None:
    home = demo_home(tmp_path, extra_toml="")
    text = home.config_path.read_text()
    home.config_path.write_text(text.replace("[fetch]\n", "[fetch]\nallow_private = true\n", 1)
                                if "[fetch]\n" in text else text + "\n[fetch]\nallow_private = true\n")
    c = client(home)
    r = c.post("/api/feeds", json={"url": feed_server + "/", "section": "Science"})
    assert r.status_code == 201, r.text
    feed = r.json()
    assert feed["url"] == feed_server + "/feed.xml"  # autodiscovered from the page
    assert feed["title"] == "Local Test Feed" and feed["section"] == "Science"
    assert feed_server + "/feed.xml" in home.config_path.read_text()

    r = c.patch("/api/feeds", json={"url": feed["url"], "enabled": False, "section": "Canadian News"})
    assert r.status_code == 200, r.text
    assert r.json()["enabled"] is False and r.json()["section"] == "Canadian News"
    from newsdesk.config import load_config

    cfg = next(f for f in load_config(home.config_path).feeds if f.url == feed["url"])
    assert cfg.enabled is False and cfg.section == "Canadian News"

    assert c.delete("/api/feeds", params={"url": feed["url"]}).status_code == 200
    assert feed["url"] not in home.config_path.read_text()
    assert all(f["url"] != feed["url"] for f in c.get("/api/feeds").json())
    assert c.delete("/api/feeds", params={"url": feed["url"]}).status_code == 404
    assert c.post("/api/feeds", json={"url": feed_server + "/", "section": "Nope"}).status_code == 422


def test_feeds_page_forms_and_opml(tmp_path: Path) -> None:
    home = demo_home(tmp_path)
    c = client(home)
    tok = csrf(c)
    opml = c.get("/feeds/export.opml")
    assert opml.status_code == 200 and b"<opml" in opml.content and b"Global Desk" in opml.content
    url = next(f["url"] for f in c.get("/api/feeds").json() if f["title"] == "SecureBeat")
    r = c.post("/feeds/remove", data={"url": url, "csrf_token": tok}, follow_redirects=False)
    assert r.status_code == 303 and "notice=" in r.headers["location"]
    assert url not in home.config_path.read_text()
    # importing the exported OPML brings it back
    r = c.post("/feeds/import", data={"csrf_token": tok}, files={"file": ("subs.opml", opml.content, "text/xml")},
               follow_redirects=False)
    assert r.status_code == 303, r.text
    assert url in home.config_path.read_text()
    r = c.post("/feeds/toggle", data={"url": url, "enabled": "0", "csrf_token": tok}, follow_redirects=False)
    assert r.status_code == 303
    assert next(f for f in c.get("/api/feeds").json() if f["url"] == url)["enabled"] is False


# --- documents -------------------------------------------------------------------------------

def test_document_upload_list_remove(tmp_path: Path) -> None:
    home = demo_home(tmp_path)
    c = client(home)
    tok = csrf(c)
    body = b"# Snow clearing\n\nThe township clears priority roads within four hours of a snowfall of 5 cm or more.\n"
    r = c.post("/api/documents", files={"file": ("snow-policy.md", body, "text/markdown")},
               data={"tags": "township, winter"}, headers={"X-CSRF-Token": tok})
    assert r.status_code == 201, r.text
    doc = r.json()["documents"][0]
    assert doc["status"] == "new" and set(doc["tags"]) >= {"township", "winter"}
    listed = c.get("/api/documents").json()
    assert any(d["id"] == doc["id"] and d["n_chunks"] >= 1 for d in listed)
    hits = c.get("/api/search", params={"q": "priority roads snowfall", "kind": "document"}).json()
    assert hits[0]["doc_id"] == doc["id"]
    assert c.delete(f"/api/documents/{doc['id']}", headers={"X-CSRF-Token": tok}).status_code == 200
    assert all(d["id"] != doc["id"] for d in c.get("/api/documents").json())
    assert c.delete(f"/api/documents/{doc['id']}", headers={"X-CSRF-Token": tok}).status_code == 404
    bad = c.post("/api/documents", files={"file": ("evil.exe", b"MZ", "application/octet-stream")},
                 headers={"X-CSRF-Token": tok})
    assert bad.status_code == 415


def test_documents_page_upload_form(tmp_path: Path) -> None:
    home = demo_home(tmp_path)
    c = client(home)
    tok = csrf(c)
    r = c.post("/documents/upload", data={"csrf_token": tok, "tags": "notes"},
               files={"file": ("ferry.txt", b"The ferry to the island runs every 40 minutes in winter.", "text/plain")},
               follow_redirects=False)
    assert r.status_code == 303 and "notice=" in r.headers["location"], r.headers.get("location")
    page = c.get(r.headers["location"]).text
    assert "Added ferry.txt" in page and "ferry" in page


def test_fresh_home_without_briefings(tmp_path: Path) -> None:
    """A new install: pages explain what to do, the API answers with empty lists, the Atom feed is valid."""
    import feedparser

    from newsdesk.home import Home

    home = Home(tmp_path / "fresh")
    home.ensure()
    home.config_path.write_text('[[sections]]\nname = "Science"\nemoji = "🔬"\n', encoding="utf-8")
    c = client(home)
    assert "No briefing yet" in c.get("/").text
    assert c.get("/api/briefings").json() == []
    assert c.get("/api/briefings/latest").status_code == 404
    assert c.get("/api/feeds").json() == []
    assert c.get("/api/documents").json() == []
    assert "No feeds yet" in c.get("/feeds").text
    parsed = feedparser.parse(c.get("/briefings.xml").content)
    assert parsed.bozo == 0 and parsed.entries == []


def test_failed_section_rising_topics_and_archive(tmp_path: Path) -> None:
    """A fully failed section is shown as failed (never 'no updates'); rising topics link to Search."""
    import copy

    from newsdesk.store.briefings import latest_briefing, save_briefing
    from newsdesk.store.sqlite import open_store

    home = demo_home(tmp_path)
    store = open_store(home.db_path)
    try:
        b = copy.deepcopy(latest_briefing(store))
        b["date"] = "2026-11-22"
        b["rising_topics"] = [{"term": "measles", "count": 5, "baseline_median": 0.0, "score": 4.2}]
        sec = next(s for s in b["sections"] if s["name"] == "Science")
        sec.update(status="failed", stories=[], errors=["Feed unavailable: LabNotes Science Daily — HTTP 503"])
        save_briefing(store, b)
    finally:
        store.close()
    c = client(home)
    html = c.get("/").text
    assert "Sunday 22 November 2026" in html
    assert 'href="/search?q=measles"' in html and "measles (5)" in html
    tree_part = next(p for p in html.split('<section class="section')[1:] if "</span> Science" in p[:300])
    assert "badge-failed" in tree_part and "Feed unavailable: LabNotes Science Daily — HTTP 503" in tree_part
    assert "nothing new since the last briefing" not in tree_part
    archive = c.get("/archive").text
    assert "/briefings/2026-11-22?seq=1" in archive and "/briefings/2026-11-21?seq=1" in archive
    assert "Saturday 21 November 2026" in c.get("/briefings/2026-11-21").text
    atom = c.get("/briefings.xml").text
    assert atom.count("<entry>") == 2
