"""Test helpers for the collect tests: sample feeds in every format and a local HTTP server.

All text below is written for these tests (fictional outlets).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

# --------------------------------------------------------------------------- sample feeds


def rss20(items: list[dict] | None = None, *, title: str = "Kettle Point Gazette",
          encoding: str = "utf-8", declare: str | None = None) -> bytes:
    """RSS 2.0 with content:encoded. items: dicts with guid, title, link, desc, content, date."""
    items = items if items is not None else [
        {"guid": "kpg-1", "title": "Ferry schedule changes for winter", "link": "https://kpg.example/ferry?utm_source=rss",
         "desc": "Short teaser about the ferry.",
         "content": "<p>The ferry will run <b>four</b> times a day from December.</p><p>Tickets stay at $5.</p>",
         "date": "Mon, 13 Oct 2025 10:00:00 -0400"},
        {"guid": "kpg-2", "title": "Library extends Sunday hours", "link": "https://kpg.example/library",
         "desc": "The library opens 10&#8211;4 on Sundays.", "content": None,
         "date": "Mon, 13 Oct 2025 08:30:00 -0400"},
    ]
    parts = []
    for it in items:
        content = f"<content:encoded><![CDATA[{it['content']}]]></content:encoded>" if it.get("content") else ""
        guid = f"<guid isPermaLink=\"false\">{it['guid']}</guid>" if it.get("guid") else ""
        link = f"<link>{it['link']}</link>" if it.get("link") else ""
        date = f"<pubDate>{it['date']}</pubDate>" if it.get("date") else ""
        parts.append(
            f"<item><title>{it['title']}</title>{link}{guid}{date}"
            f"<description>{it.get('desc', '')}</description>{content}</item>"
        )
    decl = declare or encoding
    text = (
        f'<?xml version="1.0" encoding="{decl}"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>{title}</title><link>https://kpg.example/</link>"
        "<description>Local news</description>" + "".join(parts) + "</channel></rss>"
    )
    return text.encode(encoding)


RSS091 = b"""<?xml version="1.0" encoding="ISO-8859-1"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd">
<rss version="0.91"><channel>
<title>Old Mill Weekly</title><link>https://oldmill.example/</link><description>Weekly notes</description><language>en</language>
<item><title>Mill pond refilled</title><link>https://oldmill.example/pond</link><description>The pond is full again after repairs to the weir.</description></item>
<item><title>Caf\xe9 reopens</title><link>https://oldmill.example/cafe</link><description>The caf\xe9 on Water Street reopened on Tuesday.</description></item>
</channel></rss>"""

RSS10 = b"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
  xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://ridge.example/rss">
  <title>Ridge Observatory Notes</title><link>https://ridge.example/</link><description>Sky notes</description>
  <items><rdf:Seq><rdf:li rdf:resource="https://ridge.example/n/1"/><rdf:li rdf:resource="https://ridge.example/n/2"/></rdf:Seq></items>
</channel>
<item rdf:about="https://ridge.example/n/1"><title>Meteor shower peaks Thursday</title><link>https://ridge.example/n/1</link>
  <description>Expect up to 40 meteors an hour after midnight.</description><dc:date>2025-10-09T22:00:00Z</dc:date><dc:creator>A. Ferris</dc:creator></item>
<item rdf:about="https://ridge.example/n/2"><title>Open night cancelled</title><link>https://ridge.example/n/2</link>
  <description>Cloud cover forced us to cancel Friday&#8217;s open night.</description><dc:date>2025-10-10T18:00:00+02:00</dc:date></item>
</rdf:RDF>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Tidewater Lab Blog</title><link href="https://tidewater.example/"/><id>urn:uuid:tidewater</id>
  <updated>2025-10-12T09:00:00Z</updated>
  <entry><title type="html">Salinity sensors &amp;amp; buoys</title><id>tag:tidewater.example,2025:1</id>
    <link href="/posts/sensors"/><updated>2025-10-12T09:00:00Z</updated><published>2025-10-11T09:00:00-03:00</published>
    <author><name>R. Okafor</name></author>
    <summary>Summary only.</summary>
    <content type="html">&lt;p&gt;We deployed &lt;em&gt;six&lt;/em&gt; new buoys.&lt;/p&gt;&lt;p&gt;Data is public.&lt;/p&gt;</content></entry>
  <entry><title>Summary-only post</title><id>tag:tidewater.example,2025:2</id><link href="https://tidewater.example/posts/two"/>
    <updated>2025-10-10T09:00:00Z</updated><summary>Field season wrap-up in two paragraphs.</summary></entry>
</feed>"""

JSONFEED = json.dumps({
    "version": "https://jsonfeed.org/version/1.1",
    "title": "Quarry Hill Robotics",
    "home_page_url": "https://quarry.example/",
    "items": [
        {"id": "qh-100", "url": "https://quarry.example/p/100", "title": "Gripper v3 released",
         "content_html": "<p>The new gripper lifts <strong>2 kg</strong>.</p><script>track()</script>",
         "date_published": "2025-10-11T12:00:00+02:00", "authors": [{"name": "M. Ito"}]},
        {"id": "qh-101", "url": "https://quarry.example/p/101", "title": "Workshop notes",
         "content_text": "Plain text body.\n\nSecond paragraph.", "date_published": "2025-10-12T08:00:00Z"},
        {"id": "qh-102", "title": "Summary only", "summary": "Just a summary.",
         "date_published": "2025-10-12T09:00:00Z"},
    ],
}).encode("utf-8")

JSONFEED_10 = json.dumps({
    "version": "https://jsonfeed.org/version/1",
    "title": "Old JSON", "items": [
        {"id": 7, "url": "https://oldjson.example/7", "title": "Numeric id", "content_text": "Body",
         "author": {"name": "Solo Writer"}, "date_published": "2025-10-01T00:00:00Z"}],
}).encode("utf-8")


# --------------------------------------------------------------------------- local HTTP server


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # before sending anything
    stall: float = 0.0  # after headers and the first half of the body


Route = Callable[["Request"], Reply]


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    count: int  # how many times this path was requested, including this one


class FeedServer:
    """A real threaded HTTP server on 127.0.0.1 with per-path handlers and a request log."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                path = self.path
                with outer._lock:
                    outer._counts[path] = outer._counts.get(path, 0) + 1
                    req = Request(path, {k.lower(): v for k, v in self.headers.items()}, outer._counts[path])
                    outer.requests.append(req)
                route = outer.routes.get(path)
                reply = route(req) if route else Reply(404, b"no such path")
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    headers = {"Content-Length": str(len(reply.body)), **reply.headers}
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    if reply.stall:
                        half = len(reply.body) // 2
                        self.wfile.write(reply.body[:half])
                        self.wfile.flush()
                        time.sleep(reply.stall)
                        self.wfile.write(reply.body[half:])
                    else:
                        self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def route(self, path: str, reply: Reply | Route) -> str:
        self.routes[path] = reply if callable(reply) else (lambda req, r=reply: r)
        return self.url(path)

    def hits(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def __enter__(self) -> "FeedServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# --------------------------------------------------------------------------- config


def write_config(path, feeds: list[tuple[str, str]] | None = None, *, sections=("Science", "News"),
                 fetch: str = "timeout = 1\nmax_retries = 2\nbackoff_base = 0.01\nmax_retry_after = 2\n",
                 extra: str = "") -> None:
    """A small config: sections, [fetch] tuned for fast tests, and (url, section) feeds."""
    lines = ["# test config: keep this comment", "[weather]", 'provider = "open-meteo"', "", "[fetch]", fetch]
    for i, s in enumerate(sections, 1):
        lines += ["[[sections]]", f'name = "{s}"', f"order = {i}", ""]
    for url, section in feeds or []:
        lines += ["[[feeds]]", f'url = "{url}"', f'section = "{section}"', ""]
    lines.append(extra)
    path.write_text("\n".join(lines), encoding="utf-8")
