"""Document loaders, the document store (idempotent re-adds, re-indexing) and the add/docs CLI."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ask_helpers import LIBRARY_2021_PAGES, bm25_corpus, build_corpus, make_config, make_pdf  # noqa: F401
from newsdesk.ask.kb import index_documents, index_items
from newsdesk.collect import documents as D
from newsdesk.errors import DocumentError
from newsdesk.store.documents import DocumentStore
from newsdesk.store.sqlite import SQLiteStore


def _cfg():
    cfg = make_config()
    cfg.embeddings.backend = "none"
    return cfg


def test_pdf_keeps_pages_and_title_year(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "report.pdf", LIBRARY_2021_PAGES, title="Riverbend Public Library Annual Report 2021")
    doc = D.load_path(path)
    assert doc.title == "Riverbend Public Library Annual Report 2021"
    assert [s.page for s in doc.segments] == [1, 2]
    assert "48,200 visitors" in doc.segments[0].text
    assert "3.1 million dollars" in doc.segments[1].text
    # fpdf2 stamps today's creation date; the year stated in the title wins
    assert doc.year == 2021 and doc.metadata["date_source"] == "title"


def test_broken_pdf_is_one_line_error_naming_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage without xref")
    with pytest.raises(DocumentError) as e:
        D.load_path(bad)
    msg = str(e.value)
    assert str(bad) in msg and "\n" not in msg


def test_markdown_front_matter_transcript(tmp_path: Path) -> None:
    root = build_corpus(tmp_path / "c")
    doc = D.load_path(root / "compost-talk.md")
    assert doc.title == "Home Composting Basics (talk transcript)"
    assert doc.url == "https://www.youtube.com/watch?v=cmpst000001"  # video_url becomes the link
    assert doc.metadata["video_id"] == "cmpst000001"
    assert doc.metadata["is_generated"] is True
    assert doc.metadata["channel"] == "Green Thumb Evenings"
    assert doc.tags == ["garden", "transcript"]
    assert doc.published.startswith("2024-04-20") and doc.year == 2024


def test_markdown_headings_become_provenance(tmp_path: Path) -> None:
    root = build_corpus(tmp_path / "c")
    doc = D.load_path(root / "library-2023.md")
    headings = [s.heading for s in doc.segments]
    assert "Visitors" in headings and "Collections" in headings
    coll = next(s for s in doc.segments if s.heading == "Collections")
    assert "29,900 e-books" in coll.text


def test_html_main_text_without_boilerplate(tmp_path: Path) -> None:
    root = build_corpus(tmp_path / "c")
    doc = D.load_path(root / "edge-cache.html")
    assert doc.title == "Why we moved our edge cache to SQLite"
    assert "1,200 requests per second" in doc.text
    assert "Subscribe to our newsletter" not in doc.text
    assert doc.published.startswith("2024-06-02")


def test_bad_front_matter_names_file(tmp_path: Path) -> None:
    p = tmp_path / "bad.md"
    p.write_text("---\ntitle: [unclosed\n---\nbody text here.\n", encoding="utf-8")
    with pytest.raises(DocumentError, match="bad.md"):
        D.load_path(p)


def test_date_fallbacks(tmp_path: Path) -> None:
    a = tmp_path / "minutes-2019.txt"
    a.write_text("The committee met and agreed on the plan.", encoding="utf-8")
    assert D.load_path(a).year == 2019
    b = tmp_path / "notes.txt"
    b.write_text("Nothing dated here at all.", encoding="utf-8")
    t = time.mktime((2020, 5, 17, 12, 0, 0, 0, 0, -1))
    os.utime(b, (t, t))
    doc = D.load_path(b)
    assert doc.year == 2020 and doc.metadata["date_source"] == "mtime"


def test_youtube_ids_and_offline_error(monkeypatch: pytest.MonkeyPatch) -> None:
    assert D.youtube_id("youtube:dQw4w9WgXcQ") == "dQw4w9WgXcQ"
    assert D.youtube_id("https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=4") == "dQw4w9WgXcQ"
    assert D.youtube_id("https://youtu.be/dQw4w9WgXcQ") == "dQw4w9WgXcQ"
    assert D.youtube_id("https://example.com/watch?v=dQw4w9WgXcQ") is None

    class Failing:
        def fetch(self, vid: str) -> None:
            raise ConnectionError("Failed to resolve 'www.youtube.com'\nsecond line")

    monkeypatch.setattr(D, "_transcript_api", lambda: Failing)
    with pytest.raises(DocumentError) as e:
        D.load_one("youtube:dQw4w9WgXcQ")
    assert "youtube:dQw4w9WgXcQ" in str(e.value) and "\n" not in str(e.value)
    assert "network" in str(e.value)


def test_readd_is_idempotent_and_change_reindexes(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "db.sqlite")
    cfg = _cfg()
    root = build_corpus(tmp_path / "c")
    r1 = index_documents(store, cfg, D.load_paths([str(root)]))
    assert r1.new == 5
    before = store.query("SELECT id, text FROM chunks ORDER BY id")
    r2 = index_documents(store, cfg, D.load_paths([str(root)]))
    assert (r2.new, r2.updated, r2.unchanged) == (0, 0, 5)
    assert [tuple(r) for r in store.query("SELECT id, text FROM chunks ORDER BY id")] == [tuple(r) for r in before]

    p = root / "cycling-survey.md"
    p.write_text(p.read_text().replace("7.4 kilometres", "9.1 kilometres"), encoding="utf-8")
    r3 = index_documents(store, cfg, D.load_paths([str(root)]))
    assert (r3.updated, r3.unchanged) == (1, 4)
    texts = " ".join(r[0] for r in store.query("SELECT text FROM chunks"))
    assert "9.1 kilometres" in texts and "7.4 kilometres" not in texts
    # FTS follows the chunks (old text gone, new text searchable)
    ds = DocumentStore(store)
    assert ds.bm25('"7.4"', "chunk", None, 5) == []
    assert ds.bm25('"9.1"', "chunk", None, 5)
    store.close()


def test_remove_document(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "db.sqlite")
    root = build_corpus(tmp_path / "c")
    index_documents(store, _cfg(), D.load_paths([str(root)]))
    ds = DocumentStore(store)
    doc = ds.get_by_source(str((root / "edge-cache.html").resolve()))
    assert ds.remove(str(doc["id"]))["id"] == doc["id"]
    assert ds.get(doc["id"]) is None
    assert store.query("SELECT COUNT(*) FROM chunks WHERE doc_id = ?", (doc["id"],))[0][0] == 0
    assert ds.bm25('"redis"', "chunk", None, 5) == []
    assert ds.remove("no-such-thing") is None
    store.close()


def test_index_items_as_briefing_documents(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "db.sqlite")
    items = [{"id": 7, "title": "Council approves river path", "text": "The council approved a new river path on Monday.",
              "url": "https://news.example/river", "published": "2025-10-12T08:00:00Z",
              "feed_title": "Example Local News", "section": "Canadian News", "flags": []}]
    r = index_items(store, _cfg(), items)
    assert r.new == 1
    doc = DocumentStore(store).list("briefing")[0]
    assert (doc["kind"], doc["feed"], doc["section"], doc["item_id"], doc["year"]) == (
        "briefing", "Example Local News", "Canadian News", 7, 2025)
    assert index_items(store, _cfg(), items).unchanged == 1
    store.close()


def test_cli_add_list_remove_with_broken_pdf(home: Path, tmp_path: Path) -> None:
    from newsdesk.cli.main import app

    (home / "newsdesk.toml").write_text('[embeddings]\nbackend = "none"\n', encoding="utf-8")
    root = build_corpus(tmp_path / "c")
    (root / "broken.pdf").write_bytes(b"%PDF-1.7 this is not really a pdf")
    runner = CliRunner()
    res = runner.invoke(app, ["--home", str(home), "add", str(root), "--tag", "desk", "--json"])
    assert res.exit_code == 1, res.output  # one source failed, the others loaded
    out = json.loads(res.stdout)
    assert out["new"] == 5 and len(out["errors"]) == 1 and "broken.pdf" in out["errors"][0]
    res = runner.invoke(app, ["--home", str(home), "docs", "list", "--json"])
    rows = json.loads(res.stdout)
    assert len(rows) == 5 and all("desk" in r["tags"] for r in rows)
    res = runner.invoke(app, ["--home", str(home), "search", "edge cache redis", "--json", "--mode", "bm25"])
    hits = json.loads(res.stdout)
    assert hits[0]["source"].endswith("edge-cache.html")
    res = runner.invoke(app, ["--home", str(home), "docs", "remove", str(root / "edge-cache.html")])
    assert res.exit_code == 0
    res = runner.invoke(app, ["--home", str(home), "docs", "list", "--json"])
    assert len(json.loads(res.stdout)) == 4
    res = runner.invoke(app, ["--home", str(home), "docs", "remove", "999"])
    assert res.exit_code == 2


def test_web_page_url_is_fetched_and_extracted(tmp_path: Path) -> None:
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    root = build_corpus(tmp_path / "site")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/edge-cache.html"
        doc = D.load_one(url)
        assert doc.source == url and doc.url == url
        assert doc.title == "Why we moved our edge cache to SQLite"
        assert "1,200 requests per second" in doc.text
        pdf = D.load_one(f"http://127.0.0.1:{srv.server_address[1]}/library-2021.pdf")
        assert [s.page for s in pdf.segments] == [1, 2]
        with pytest.raises(DocumentError) as e:
            D.load_one(f"http://127.0.0.1:{srv.server_address[1]}/missing.html")
        assert "missing.html" in str(e.value) and "\n" not in str(e.value)
    finally:
        srv.shutdown()
        srv.server_close()


def test_cli_ask_json_and_abstention(home: Path, tmp_path: Path) -> None:
    from newsdesk.cli.main import app

    (home / "newsdesk.toml").write_text('[embeddings]\nbackend = "none"\n', encoding="utf-8")
    root = build_corpus(tmp_path / "c")
    runner = CliRunner()
    assert runner.invoke(app, ["--home", str(home), "add", str(root)]).exit_code == 0
    res = runner.invoke(app, ["--home", str(home), "ask", "How often should a compost pile be turned?", "--json"])
    out = json.loads(res.stdout)
    assert set(out) == {"question", "answer", "abstained", "path", "sentences", "citations", "timings_ms", "flags"}
    assert not out["abstained"] and "every two weeks" in out["answer"]
    assert out["citations"][0]["url"] == "https://www.youtube.com/watch?v=cmpst000001"
    res = runner.invoke(app, ["--home", str(home), "ask", "Who won the football world cup in 2022?"])
    assert res.exit_code == 0 and "I don't know based on your documents." in res.stdout
    res = runner.invoke(app, ["--home", str(home), "search", "library", "--kind", "nonsense"])
    assert res.exit_code == 2


def test_ensure_index_without_embeddings_returns_notice(bm25_corpus) -> None:
    from newsdesk.ask.kb import ensure_index

    store, cfg, _ = bm25_corpus
    notice = ensure_index(store, cfg)
    assert notice and "BM25" in notice
