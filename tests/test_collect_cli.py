"""The collect commands end to end through ``python -m newsdesk`` (exit codes, messages, crash safety)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path


from collect_helpers import ATOM, JSONFEED, FeedServer, Reply, rss20, write_config


def nd(home: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200", "NEWSDESK_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "newsdesk", "--home", str(home), *args],
                          capture_output=True, text=True, timeout=timeout, env=env)


def test_init_add_fetch_twice(tmp_path: Path) -> None:
    home = tmp_path / "h"
    feed = tmp_path / "science.xml"
    feed.write_bytes(ATOM)
    assert nd(home, "init").returncode == 0
    r = nd(home, "feeds", "add", feed.as_uri(), "--section", "Science")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == feed.as_uri()
    assert feed.as_uri() in (home / "newsdesk.toml").read_text()
    assert "# newsdesk configuration" in (home / "newsdesk.toml").read_text()  # comments kept
    # the starter config's network feeds are skipped offline, not failed
    r1 = nd(home, "fetch", "--offline", "--json")
    assert r1.returncode == 0, r1.stderr
    rep = json.loads(r1.stdout)
    assert rep["items_new"] == 2 and rep["errors"] == 0 and rep["skipped"] >= 1
    r2 = nd(home, "fetch", "--offline", "--json")
    assert r2.returncode == 0 and json.loads(r2.stdout)["items_new"] == 0
    items = json.loads(nd(home, "items", "list", "--json", "--feed", feed.as_uri()).stdout)
    assert sorted(i["title"] for i in items) == ["Salinity sensors & buoys", "Summary-only post"]
    assert all(i["section"] == "Science" for i in items)
    listed = json.loads(nd(home, "feeds", "list", "--json").stdout)
    mine = next(f for f in listed if f["url"] == feed.as_uri())
    assert mine["health"] == "ok" and mine["title"] == "Tidewater Lab Blog" and mine["last_ok_at"]
    assert any(f["section"] == "Weather" and f["title"].startswith("Weather — ") for f in listed)


def test_add_plain_path_and_unknown_section(tmp_path: Path) -> None:
    home = tmp_path / "h"
    feed = tmp_path / "j.json"
    feed.write_bytes(JSONFEED)
    nd(home, "init")
    r = nd(home, "feeds", "add", str(feed), "--section", "Nope")
    assert r.returncode == 2 and "'Nope' is not a configured section" in r.stderr
    r = nd(home, "feeds", "add", str(feed), "--section", "Science", "--title", "QH")
    assert r.returncode == 0 and r.stdout.strip() == feed.resolve().as_uri()
    broken = tmp_path / "broken.xml"
    broken.write_bytes(b"<rss><channel><title>cut")
    r = nd(home, "feeds", "add", str(broken), "--section", "Science")
    assert r.returncode == 1 and "not a valid feed" in r.stderr and "broken.xml" in r.stderr
    assert "broken.xml" not in (home / "newsdesk.toml").read_text()
    r = nd(home, "feeds", "remove", feed.resolve().as_uri())
    assert r.returncode == 0 and feed.name not in (home / "newsdesk.toml").read_text()
    assert nd(home, "feeds", "remove", "https://never.example/").returncode == 2


def test_one_broken_feed_exit_1_names_it_others_stored(tmp_path: Path) -> None:
    home = tmp_path / "h"
    home.mkdir()
    good = tmp_path / "good.xml"
    good.write_bytes(rss20())
    bad = tmp_path / "bad-feed.xml"
    bad.write_bytes(b"<rss version='2.0'><channel><title>Truncated</title><ite")
    missing = tmp_path / "missing.xml"
    write_config(home / "newsdesk.toml",
                 [(good.as_uri(), "News"), (bad.as_uri(), "News"), (missing.as_uri(), "Science")])
    r = nd(home, "fetch")
    assert r.returncode == 1
    failures = [line for line in r.stderr.splitlines() if "feed failed" in line]
    assert len(failures) == 2
    assert any(bad.as_uri() in line and "not a valid feed" in line for line in failures)
    assert any(missing.as_uri() in line and "no such file" in line for line in failures)
    items = json.loads(nd(home, "items", "list", "--json").stdout)
    assert len(items) == 2 and {i["feed"] for i in items} == {"Kettle Point Gazette"}
    health = {f["url"]: f for f in json.loads(nd(home, "feeds", "list", "--json").stdout)}
    assert health[bad.as_uri()]["health"] == "failing" and health[bad.as_uri()]["consecutive_failures"] == 1
    assert health[good.as_uri()]["health"] == "ok"


def test_bad_config_exit_2_names_key(tmp_path: Path) -> None:
    home = tmp_path / "h"
    home.mkdir()
    (home / "newsdesk.toml").write_text(
        '[[sections]]\nname = "News"\n\n[[feeds]]\nurl = "https://a.example/"\nsection = "Sportz"\n')
    r = nd(home, "fetch")
    assert r.returncode == 2
    assert "feeds[0].section" in r.stderr and "Sportz" in r.stderr
    (home / "newsdesk.toml").write_text("[fetch]\ntimeout = -3\n")
    r = nd(home, "feeds", "list")
    assert r.returncode == 2 and "fetch.timeout" in r.stderr
    assert not (home / "newsdesk.db").exists() or sqlite3.connect(home / "newsdesk.db").execute(
        "SELECT COUNT(*) FROM items").fetchone()[0] == 0


def test_opml_import_export_and_items_filters(tmp_path: Path) -> None:
    home = tmp_path / "h"
    home.mkdir()
    write_config(home / "newsdesk.toml", [])
    a, b = tmp_path / "a.xml", tmp_path / "b.xml"
    a.write_bytes(rss20())
    b.write_bytes(ATOM)
    opml = tmp_path / "subs.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><body>'
        f'<outline text="Science"><outline type="rss" text="Tide" xmlUrl="{b.as_uri()}"/></outline>'
        f'<outline text="Misc"><outline type="rss" text="KPG" xmlUrl="{a.as_uri()}"/></outline>'
        "</body></opml>")
    r = nd(home, "feeds", "import", str(opml))
    assert r.returncode == 1 and "Misc" in r.stderr and "--section" in r.stderr  # one feed had no section
    r = nd(home, "feeds", "import", str(opml), "--section", "News", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["added"] == [a.as_uri()]
    out = tmp_path / "out.opml"
    assert nd(home, "feeds", "export", str(out)).returncode == 0
    text = out.read_text()
    assert text.index('text="Science"') < text.index('text="News"') and a.as_uri() in text
    assert nd(home, "fetch").returncode == 0
    sci = json.loads(nd(home, "items", "list", "--json", "--section", "Science").stdout)
    assert {i["section"] for i in sci} == {"Science"} and len(sci) == 2
    assert len(json.loads(nd(home, "items", "list", "--json", "--limit", "3").stdout)) == 3
    old = json.loads(nd(home, "items", "list", "--json", "--since", "2025-10-12").stdout)
    assert {i["title"] for i in old} == {"Ferry schedule changes for winter", "Library extends Sunday hours"}
    assert all(i["published"] >= "2025-10-12" for i in old)
    assert nd(home, "items", "list", "--since", "yesterday-ish").returncode == 2


def test_sigkill_mid_fetch_leaves_db_consistent(tmp_path: Path) -> None:
    home = tmp_path / "h"
    home.mkdir()
    local = tmp_path / "local.xml"
    local.write_bytes(rss20())
    hit = threading.Event()
    stall = {"on": True}

    with FeedServer() as server:
        def route(req):  # type: ignore[no-untyped-def]
            hit.set()
            return Reply(200, ATOM, delay=30) if stall["on"] else Reply(200, ATOM)

        url = server.route("/stall", route)
        write_config(home / "newsdesk.toml", [(local.as_uri(), "News"), (url, "Science")],
                     fetch="timeout = 60\nconcurrency = 2\n")
        env = {**os.environ, "NEWSDESK_HOME": str(home)}
        proc = subprocess.Popen([sys.executable, "-m", "newsdesk", "--home", str(home), "fetch"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        try:
            assert hit.wait(30), "the fetch never reached the stalling server"
            db = home / "newsdesk.db"
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:  # wait until the local feed has been committed
                try:
                    n = sqlite3.connect(db).execute("SELECT COUNT(*) FROM items").fetchone()[0]
                except sqlite3.OperationalError:
                    n = 0
                if n:
                    break
                time.sleep(0.1)
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == -signal.SIGKILL
        con = sqlite3.connect(home / "newsdesk.db")
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("SELECT COUNT(*) FROM items").fetchone()[0] == 2
        con.close()
        stall["on"] = False
        r = nd(home, "fetch", "--json")
        assert r.returncode == 0, r.stderr
        rep = json.loads(r.stdout)
        assert rep["errors"] == 0 and rep["items_new"] == 2  # the stalled feed now; the local one again: 0
        con = sqlite3.connect(home / "newsdesk.db")
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("SELECT COUNT(*) FROM items").fetchone()[0] == 4


def test_add_by_autodiscovery_and_410_then_readd(tmp_path: Path) -> None:
    home = tmp_path / "h"
    home.mkdir()
    write_config(home / "newsdesk.toml", [])
    state = {"code": 200}
    with FeedServer() as server:
        server.route("/", Reply(200, b'<html><head><link rel="alternate" type="application/rss+xml" '
                                     b'href="/rss.xml" title="RSS"></head><body>Home</body></html>',
                                {"Content-Type": "text/html; charset=utf-8"}))
        feed_url = server.route("/rss.xml", lambda req: Reply(state["code"], rss20() if state["code"] == 200 else b""))
        r = nd(home, "feeds", "add", server.url("/"), "--section", "News")
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == feed_url and f'url = "{feed_url}"' in (home / "newsdesk.toml").read_text()
        assert 'title = "Kettle Point Gazette"' in (home / "newsdesk.toml").read_text()
        state["code"] = 410
        r = nd(home, "fetch")
        assert r.returncode == 1 and "410 Gone" in r.stderr and feed_url in r.stderr
        listed = json.loads(nd(home, "feeds", "list", "--json").stdout)
        assert listed[0]["health"] == "disabled (410 Gone)"
        r = nd(home, "fetch", "--json")  # the disabled feed is not fetched any more
        assert r.returncode == 0 and json.loads(r.stdout)["feeds"] == 0
        state["code"] = 200
        assert nd(home, "feeds", "add", feed_url, "--section", "News").returncode == 0  # re-enables it
        r = nd(home, "fetch", "--json")
        assert r.returncode == 0 and json.loads(r.stdout)["items_new"] == 2


def test_bracketed_names_are_not_rich_markup(tmp_path: Path) -> None:
    home = tmp_path / "h"
    home.mkdir()
    good = tmp_path / "odd[x].xml"
    good.write_bytes(rss20([{"guid": "b1", "title": "Odd [/x] title [bold]", "link": "https://o.example/1",
                             "desc": "Body"}], title="Feed [/red] name"))
    broken = tmp_path / "broken[b].xml"
    broken.write_bytes(b"<rss><channel><title>[/oops]</title><ite")
    write_config(home / "newsdesk.toml", [(good.as_uri(), "News"), (broken.as_uri(), "News")])
    r = nd(home, "fetch")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert broken.as_uri() in r.stderr
    r = nd(home, "items", "list")
    assert r.returncode == 0 and "Odd [/x] title [bold]" in r.stdout
    r = nd(home, "feeds", "list")
    assert r.returncode == 0 and "Feed [/red] name" in r.stdout
