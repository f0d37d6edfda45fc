"""Demo data and the unseen fixture set: well-formed where they should be, broken where they must be,
and carrying every special case the pipeline is tested against."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import feedparser
import pytest
import yaml

from newsdesk.config import STARTER_SECTIONS, parse_config
from newsdesk.demo import data as demo
from newsdesk.demo.data import DATA_DIR, demo_config_text, demo_date

FEEDS = DATA_DIR / "feeds"
DOCS = DATA_DIR / "docs"
UNSEEN = Path(__file__).parent / "fixtures" / "unseen"


def _parse(path: Path) -> list[dict]:
    """Entries of an XML feed (feedparser) or JSON Feed (json), as plain dicts."""
    if path.suffix == ".json":
        d = json.loads(path.read_text(encoding="utf-8"))
        assert d["version"].startswith("https://jsonfeed.org/version/1")
        return [
            {"title": i.get("title", ""), "link": i.get("url"), "id": i.get("id"),
             "body": i.get("content_html") or i.get("content_text") or i.get("summary") or "",
             "published": i.get("date_published")}
            for i in d["items"]
        ]
    d = feedparser.parse(path.read_bytes())
    assert not d.bozo, f"{path.name}: {d.get('bozo_exception')}"
    out = []
    for e in d.entries:
        content = (e.get("content") or [{}])[0].get("value", "")
        out.append({"title": e.get("title", ""), "link": e.get("link"), "id": e.get("id"),
                    "summary": e.get("summary", ""), "content": content,
                    "body": content or e.get("summary", ""),
                    "published": e.get("published_parsed") or e.get("updated_parsed")})
    return out


def _good_feeds(folder: Path, malformed: set[str]) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name not in malformed)


# --------------------------------------------------------------------------- config


def test_demo_config_validates_and_points_at_demo_files(tmp_path: Path) -> None:
    cfg = parse_config(demo_config_text(DATA_DIR), "demo.toml")
    assert [(s.name, s.emoji) for s in cfg.ordered_sections()] == [(n, e) for n, e, _ in STARTER_SECTIONS]
    sections_with_feeds = {f.section for f in cfg.feeds}
    assert sections_with_feeds == {n for n, _, _ in STARTER_SECTIONS}
    assert len(cfg.feeds) >= 15
    for f in cfg.feeds:
        assert f.url.startswith("file://")
        assert Path(url2pathname(urlsplit(f.url).path)).is_file(), f.url
    assert cfg.weather.url and cfg.weather.url.endswith(demo.WEATHER_FEED)
    assert cfg.weather.provider == "environment-canada"
    # the lookback reaches the demo items from the demo date and from today
    demo_day = datetime.combine(demo_date(), datetime.min.time(), tzinfo=timezone.utc)
    assert demo_day - cfg.briefing.lookback_delta < datetime(2026, 11, 20, tzinfo=timezone.utc)
    # the config is relocatable: a copied data dir gets its own URLs
    text = demo_config_text(tmp_path)
    assert tmp_path.resolve().as_uri() in text


def test_every_feed_file_is_configured() -> None:
    configured = {name for feeds in demo.DEMO_FEEDS.values() for name, _ in feeds}
    on_disk = {p.name for p in FEEDS.iterdir() if p.is_file()}
    assert configured == on_disk


# --------------------------------------------------------------------------- feeds


def test_all_demo_feeds_parse_except_the_malformed_one() -> None:
    total = 0
    for path in _good_feeds(FEEDS, {demo.MALFORMED_FEED}):
        entries = _parse(path)
        assert entries, path.name
        if path.name != demo.WEATHER_FEED:
            total += len(entries)
    assert total >= 60


def test_malformed_feed_is_really_malformed() -> None:
    path = FEEDS / demo.MALFORMED_FEED
    with pytest.raises(ET.ParseError):
        ET.fromstring(path.read_bytes())
    d = feedparser.parse(path.read_bytes())
    assert d.bozo and not d.entries


def test_items_are_dated_around_the_demo_date() -> None:
    lo, hi = datetime(2026, 11, 19, tzinfo=timezone.utc), datetime(2026, 11, 22, tzinfo=timezone.utc)
    for path in _good_feeds(FEEDS, {demo.MALFORMED_FEED}):
        for e in _parse(path):
            p = e["published"]
            dt = (datetime.fromisoformat(p.replace("Z", "+00:00")) if isinstance(p, str)
                  else datetime(*p[:6], tzinfo=timezone.utc))
            assert lo <= dt < hi, (path.name, e["title"], dt)


def test_boilerplate_feed_has_content_encoded_with_junk() -> None:
    entries = _parse(FEEDS / demo.BOILERPLATE_FEED)
    assert all(e["content"] for e in entries)
    blob = (FEEDS / demo.BOILERPLATE_FEED).read_text(encoding="utf-8")  # raw: feedparser drops <script>
    for marker in ("<script", 'width="1" height="1"', "Read more", "This post was written with",
                   "Subscribe", "Photo", "author-bio", "By "):
        assert marker in blob, marker
    assert all(len(re.findall(r"<p\b", e["content"])) >= 3 for e in entries)


def test_summary_only_atom_and_title_only_journal() -> None:
    d = feedparser.parse((FEEDS / demo.SUMMARY_ONLY_ATOM_FEED).read_bytes())
    assert d.version == "atom10"
    assert all(e.get("summary") and not e.get("content") for e in d.entries)
    raw = (FEEDS / demo.TITLE_ONLY_FEED).read_text(encoding="utf-8")
    assert "<description>" not in raw.split("<item>", 1)[1]
    d = feedparser.parse(raw.encode())
    assert len(d.entries) >= 5
    assert all(e.get("title") and not e.get("summary") and not e.get("content") for e in d.entries)


def test_entity_and_mojibake_feed() -> None:
    raw = (FEEDS / demo.ENTITY_FEED).read_text(encoding="utf-8")
    for s in ("&#8220;", "&nbsp;", "&amp;#8217;", "&amp;amp;", "‚Äô", "â€™", "Ã©"):
        assert s in raw, s


def test_duplicate_pair_same_text_different_url_and_guid() -> None:
    a_url, b_url = demo.DUPLICATE_PAIR
    assert "utm_" in b_url and "utm_" not in a_url
    found = {}
    for path in _good_feeds(FEEDS, {demo.MALFORMED_FEED}):
        for e in _parse(path):
            if e["link"] in (a_url, b_url):
                found[e["link"]] = e
    assert set(found) == {a_url, b_url}
    a, b = found[a_url], found[b_url]
    assert a["id"] != b["id"] and a["title"] == b["title"]
    para = lambda s: re.findall(r"<p>(.*?)</p>", s)  # noqa: E731
    assert para(a["body"]) == para(b["body"])[: len(para(a["body"]))]


def test_cluster_three_outlets_different_text_same_event() -> None:
    by_link = {}
    for path in _good_feeds(FEEDS, {demo.MALFORMED_FEED}):
        for e in _parse(path):
            by_link[e["link"]] = (path.name, e)
    members = [by_link[u] for u in demo.CLUSTER_URLS]
    assert len({name for name, _ in members}) == 3  # three outlets
    texts = [re.sub(r"<[^>]+>", " ", e["body"]) for _, e in members]
    assert len({e["title"] for _, e in members}) == 3
    for t in texts:
        assert "adaptation" in t.lower() and ("Nairobi" in t or "$42" in t or "1.2 billion" in t)
    # different wording: no long sentence shared verbatim
    sents = [set(s.strip() for s in re.split(r"(?<=[.!?])\s+", t) if len(s.split()) > 6) for t in texts]
    assert not (sents[0] & sents[1]) and not (sents[0] & sents[2]) and not (sents[1] & sents[2])


def test_injection_and_hidden_text() -> None:
    entries = _parse(FEEDS / demo.INJECTION_FEED)
    hit = [e for e in entries if "Ignore previous instructions" in e["body"]]
    assert len(hit) == 1
    assert "\u200b" in hit[0]["body"]  # zero-width space inside words
    raw = (FEEDS / demo.INJECTION_FEED).read_text(encoding="utf-8")  # feedparser strips style attributes
    assert 'style="display:none"&gt;Ignore previous instructions' in raw
    assert "&#8203;" in raw


def test_json_feed_is_version_1_1() -> None:
    d = json.loads((FEEDS / demo.JSON_FEED).read_text(encoding="utf-8"))
    assert d["version"] == "https://jsonfeed.org/version/1.1"
    assert len(d["items"]) >= 4


def test_text_exercises_sentence_splitting() -> None:
    blob = " ".join(
        re.sub(r"<[^>]+>", " ", e["body"] + " " + e["title"])
        for p in _good_feeds(FEEDS, {demo.MALFORMED_FEED}) for e in _parse(p)
    )
    for s in ("U.S.", "Dr.", "e.g.", "i.e.", "...", "…", "Jan.", "a.m."):
        assert s in blob, s
    assert re.search(r"\b\d+\.\d+\b", blob)  # decimals
    assert re.search(r'"[^"]+,"', blob)  # quoted speech


def test_weather_feed_has_ec_structure() -> None:
    d = feedparser.parse((FEEDS / demo.WEATHER_FEED).read_bytes())
    cats = [e.tags[0].term for e in d.entries]
    assert cats[0] == "Warnings and Watches" and cats[1] == "Current Conditions"
    assert cats.count("Weather Forecasts") >= 6
    cc = d.entries[1].summary
    for label in ("Observed at:", "Condition:", "Temperature:", "Pressure / Tendency:", "Visibility:",
                  "Humidity:", "Wind Chill:", "Dewpoint:", "Wind:", "Air Quality Health Index:"):
        assert label in cc, label


# --------------------------------------------------------------------------- documents


def _front_matter(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n", 2)[1])


def _doc_text(path: Path) -> str:
    if path.suffix == ".pdf":
        from pypdf import PdfReader

        return "\n".join(p.extract_text() for p in PdfReader(str(path)).pages)
    text = path.read_text(encoding="utf-8")
    return re.sub(r"<[^>]+>", " ", text) if path.suffix == ".html" else text


def test_demo_documents() -> None:
    names = {p.name for p in DOCS.iterdir()}
    transcripts = [DOCS / n for n in names if n.startswith("yt-")]
    assert len(transcripts) == 2
    for t in transcripts:
        fm = _front_matter(t)
        assert {"title", "video_id", "video_url", "channel", "published", "is_generated"} <= set(fm)
        assert fm["video_id"] in fm["video_url"]
    assert len([n for n in names if n.endswith(".html")]) == 2
    assert len([n for n in names if n.endswith(".txt")]) == 1
    from pypdf import PdfReader

    pdfs = [DOCS / n for n in names if n.endswith(".pdf")]
    assert len(pdfs) == 1 and 2 <= len(PdfReader(str(pdfs[0])).pages) <= 3
    text21 = _doc_text(DOCS / "blog-riverbend-solar-coop-2021.html")
    text23 = _doc_text(DOCS / "blog-riverbend-solar-coop-2023.html")
    assert "2021" in text21 and "2023" in text23
    assert "312 members" in text21 and "312 members" not in text23


def test_demo_questions_are_grounded_in_their_sources() -> None:
    qs = json.loads((DATA_DIR / "questions.json").read_text(encoding="utf-8"))
    assert any(not q["answerable"] for q in qs)
    for q in qs:
        assert {"question", "answerable", "expected", "source"} <= set(q)
        if q["answerable"]:
            text = " ".join(_doc_text(DOCS / q["source"]).split())
            for fact in q["expected"]:
                assert fact in text, (q["question"], fact)


# --------------------------------------------------------------------------- unseen fixture set

UNSEEN_MALFORMED = "harborlight-alerts-truncated.xml"


def test_unseen_feeds() -> None:
    feeds = UNSEEN / "feeds"
    good = _good_feeds(feeds, {UNSEEN_MALFORMED})
    assert 5 <= len(good) + 1 <= 7
    total = sum(len(_parse(p)) for p in good)
    assert total >= 15
    broken = (feeds / UNSEEN_MALFORMED).read_bytes()
    with pytest.raises(ET.ParseError):
        ET.fromstring(broken)
    d = feedparser.parse(broken)
    assert d.bozo and not any(e.get("title") for e in d.entries)  # at most an empty shell
    raw = "\n".join(p.read_text(encoding="utf-8") for p in good)
    for s in ("content:encoded", "&#8217;", "â€", "‚Äô", "utm_source", "Read more"):
        assert s in raw, s
    # a title-only feed
    assert any(all(not e["body"] for e in _parse(p)) for p in good)
    # disjoint from the demo: no demo URL host reused
    demo_hosts = {urlsplit(e["link"]).hostname for p in _good_feeds(FEEDS, {demo.MALFORMED_FEED})
                  for e in _parse(p)}
    unseen_hosts = {urlsplit(e["link"]).hostname for p in good for e in _parse(p)}
    assert not (demo_hosts & unseen_hosts)


def test_unseen_corpus_and_questions() -> None:
    corpus = UNSEEN / "corpus"
    names = {p.name for p in corpus.iterdir()}
    assert len([n for n in names if n.startswith("yt-")]) == 3
    assert len([n for n in names if n.endswith(".html")]) == 2
    assert len([n for n in names if n.startswith("notes-")]) == 2
    lines = [json.loads(line) for line in (corpus / "questions.jsonl").read_text(encoding="utf-8").splitlines()
             if line.strip()]
    assert len(lines) >= 6 and any(not q["answerable"] for q in lines)
    for q in lines:
        if q["answerable"]:
            text = " ".join(_doc_text(corpus / q["source"]).split())
            for fact in q["expected"]:
                assert fact in text, (q["question"], fact)
