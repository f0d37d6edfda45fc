"""parse.py: every feed format, guid fallbacks, dates, charsets, malformed feeds."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from collect_helpers import ATOM, JSONFEED, JSONFEED_10, RSS091, RSS10, rss20
from newsdesk.collect.parse import decode_body, parse_feed
from newsdesk.errors import FeedError

LEFTOVER = re.compile(r"&(#\d+|#x[0-9a-f]+|[a-z]+);|‚Ä|â€|Ã|</?[a-z][a-z0-9]*[\s/>]", re.I)


def _clean(feed) -> None:  # type: ignore[no-untyped-def]
    for e in feed.entries:
        assert not LEFTOVER.search(e.title), e.title
        assert not LEFTOVER.search(e.text), e.text
        assert e.content_hash and e.guid
        assert e.published is None or e.published.tzinfo is not None
        if e.content_html:
            assert "<script" not in e.content_html


def test_rss20_prefers_content_encoded() -> None:
    f = parse_feed(rss20(), "https://kpg.example/feed.xml")
    assert f.title == "Kettle Point Gazette"
    assert f.site_url == "https://kpg.example/"
    first, second = f.entries
    assert first.guid == "kpg-1"
    assert first.text == "The ferry will run four times a day from December.\n\nTickets stay at $5."
    assert "teaser" not in first.text
    assert first.canonical_url == "https://kpg.example/ferry"
    assert first.url == "https://kpg.example/ferry?utm_source=rss"
    assert first.published == datetime(2025, 10, 13, 14, 0, tzinfo=timezone.utc)
    assert second.text == "The library opens 10\u20134 on Sundays."
    assert "<b>four</b>" in first.content_html
    _clean(f)


def test_rss091_latin1() -> None:
    f = parse_feed(RSS091, "https://oldmill.example/rss")
    assert f.title == "Old Mill Weekly"
    assert [e.title for e in f.entries] == ["Mill pond refilled", "Caf\u00e9 reopens"]
    # no guid: the canonical link is the identity
    assert f.entries[1].guid == "https://oldmill.example/cafe"
    assert "caf\u00e9 on Water Street" in f.entries[1].text
    _clean(f)


def test_rss10_rdf() -> None:
    f = parse_feed(RSS10, "https://ridge.example/rss")
    assert f.title == "Ridge Observatory Notes"
    assert len(f.entries) == 2
    a, b = f.entries
    assert a.author == "A. Ferris"
    assert a.published == datetime(2025, 10, 9, 22, 0, tzinfo=timezone.utc)
    assert b.published == datetime(2025, 10, 10, 16, 0, tzinfo=timezone.utc)
    assert b.text == "Cloud cover forced us to cancel Friday\u2019s open night."
    _clean(f)


def test_atom_content_over_summary_and_relative_links() -> None:
    f = parse_feed(ATOM, "https://tidewater.example/feed.atom")
    a, b = f.entries
    assert a.title == "Salinity sensors & buoys"
    assert a.text == "We deployed six new buoys.\n\nData is public."
    assert a.guid == "tag:tidewater.example,2025:1"
    assert a.url == "https://tidewater.example/posts/sensors"
    assert a.author == "R. Okafor"
    assert a.published == datetime(2025, 10, 11, 12, 0, tzinfo=timezone.utc)
    assert b.text == "Field season wrap-up in two paragraphs."
    assert b.published == datetime(2025, 10, 10, 9, 0, tzinfo=timezone.utc)  # falls back to updated
    _clean(f)


def test_json_feed_11_and_10() -> None:
    f = parse_feed(JSONFEED, "https://quarry.example/feed.json", "application/feed+json")
    assert f.title == "Quarry Hill Robotics" and f.format == "json11"
    a, b, c = f.entries
    assert a.text == "The new gripper lifts 2 kg." and "track" not in (a.content_html or "")
    assert a.author == "M. Ito"
    assert a.published == datetime(2025, 10, 11, 10, 0, tzinfo=timezone.utc)
    assert b.text == "Plain text body.\n\nSecond paragraph."
    assert c.text == "Just a summary." and c.guid == "qh-102" and c.url is None
    _clean(f)
    old = parse_feed(JSONFEED_10, "https://oldjson.example/feed.json")  # detected without a content type
    assert old.entries[0].guid == "7" and old.entries[0].author == "Solo Writer"


def test_guid_fallback_to_hash_is_stable() -> None:
    items = [{"title": "No id, no link", "desc": "Body", "date": "Tue, 14 Oct 2025 09:00:00 GMT"}]
    a = parse_feed(rss20(items), "https://x.example/f").entries[0]
    b = parse_feed(rss20(items), "https://x.example/f").entries[0]
    assert a.guid == b.guid and a.guid.startswith("sha1:")
    items2 = [dict(items[0], date="Wed, 15 Oct 2025 09:00:00 GMT")]
    assert parse_feed(rss20(items2), "https://x.example/f").entries[0].guid != a.guid


def test_nasty_entry_content() -> None:
    items = [{
        "guid": "n1", "title": "It‚Äôs &amp;amp; &amp;#8220;odd&amp;#8221;", "link": "https://n.example/1",
        "desc": "", "content": '<p onclick="x()">Body<img src="x" onerror="alert(1)"></p>'
                               '<script>document.cookie</script><a href="javascript:alert(1)">j</a>',
    }]
    e = parse_feed(rss20(items), "https://n.example/f").entries[0]
    assert e.title == "It\u2019s & \u201codd\u201d"
    assert e.text == "Body\n\nj"  # the <p> is a block; the bare link follows it
    for bad in ("onclick", "onerror", "javascript:", "<script", "cookie"):
        assert bad not in e.content_html
    assert "<script>" in e.raw_html  # the raw form is kept for the record, never displayed


@pytest.mark.parametrize("body, ctype", [
    # UTF-8 bytes but the server claims ISO-8859-1 (the classic mojibake source)
    (rss20(encoding="utf-8", declare="utf-8", title="Caf\u00e9 \u2014 News"), "text/xml; charset=ISO-8859-1"),
    # cp1252 bytes declared as UTF-8 in the XML declaration
    (rss20(encoding="cp1252", declare="utf-8", title="Caf\u00e9 \u2014 News"), "text/xml"),
    # latin-1 bytes, no declaration at all anywhere
    (rss20(encoding="latin-1", declare="latin-1", title="Caf\u00e9 News").replace(b' encoding="latin-1"', b""), None),
])
def test_wrong_charset_does_not_produce_mojibake(body: bytes, ctype: str | None) -> None:
    f = parse_feed(body, "https://charset.example/f", ctype)
    assert f.title.startswith("Caf\u00e9")
    assert not LEFTOVER.search(f.title)


def test_decode_body_bom_and_utf16() -> None:
    text = '<?xml version="1.0" encoding="utf-16"?><rss/>'
    assert decode_body(text.encode("utf-16"))[0] == text
    assert decode_body(b"\xef\xbb\xbfhello")[0] == "hello"
    assert decode_body(text.encode("utf-16-le")) == (text, "utf-16-le")  # no BOM
    assert decode_body(text.encode("utf-16-be")) == (text, "utf-16-be")


@pytest.mark.parametrize("body, reason", [
    (b"", "empty"),
    (b"<html><head><title>x</title></head><body>Just a page</body></html>", "not a valid feed"),
    (b"<rss><channel><title>Cut off</title><ite", "not a valid feed"),
    (b"{not json", "invalid JSON"),
    (b'{"title": "no items"}', "items"),
    (b"plain words, not XML", "not a valid feed"),
])
def test_malformed_feeds_raise_one_line_naming_the_url(body: bytes, reason: str) -> None:
    with pytest.raises(FeedError) as ei:
        parse_feed(body, "https://broken.example/feed")
    msg = str(ei.value)
    assert msg.startswith("https://broken.example/feed: ")
    assert reason in msg and "\n" not in msg


def test_bozo_feed_with_entries_is_kept() -> None:
    body = (b"<rss version='2.0'><channel><title>Sloppy</title>"
            b"<item><title>Good one</title><link>https://s.example/1</link></item>"
            b"<item><title>Bad &entity; here</title><link>https://s.example/2</link></item></channel></rss>")
    f = parse_feed(body, "https://s.example/f")
    assert [e.title for e in f.entries][0] == "Good one"
    assert len(f.entries) == 2


def test_empty_but_valid_feed() -> None:
    f = parse_feed(rss20([]), "https://empty.example/f")
    assert f.entries == [] and f.title == "Kettle Point Gazette"


def test_far_future_dates_are_dropped() -> None:
    items = [{"guid": "f1", "title": "From the future", "link": "https://f.example/1", "desc": "x",
              "date": "Mon, 13 Oct 2098 10:00:00 GMT"},
             {"guid": "f2", "title": "Normal", "link": "https://f.example/2", "desc": "y",
              "date": "Mon, 13 Oct 2025 10:00:00 GMT"}]
    a, b = parse_feed(rss20(items), "https://f.example/feed").entries
    assert a.published is None
    assert b.published == datetime(2025, 10, 13, 10, 0, tzinfo=timezone.utc)
