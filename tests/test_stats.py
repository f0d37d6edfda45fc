"""Quality monitoring with synthetic run rows: daily aggregates and the three drift flags."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from typer.testing import CliRunner

from newsdesk.cli.main import app
from newsdesk.monitor import collect_stats
from newsdesk.store import SQLiteStore

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=timezone.utc)


def _run(store: SQLiteStore, kind: str, when: datetime, metrics: dict) -> None:
    ts = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    store.execute("INSERT INTO runs (kind, started_at, finished_at, metrics) VALUES (?,?,?,?)",
                  (kind, ts, ts, json.dumps(metrics)))


def _healthy(store: SQLiteStore, days: int = 15, items: int = 100) -> None:
    for i in range(days, 0, -1):
        day = NOW - timedelta(days=i)
        _run(store, "fetch", day, {"items_new": items, "feeds_ok": 10, "feeds_failed": 0})
        _run(store, "brief", day + timedelta(hours=1), {"words": 1200, "faithfulness": 1.0})


def test_healthy_history_has_no_drift(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "db.sqlite")
    _healthy(store)
    _run(store, "fetch", NOW, {"items_new": 90, "feeds_ok": 10, "feeds_failed": 0})
    rep = collect_stats(store, days=7, now=NOW)
    assert rep.drift == []
    assert len(rep.days) == 7
    assert rep.days[-1].items == 90 and rep.days[-2].words == 1200 and rep.days[-2].faithfulness == 1.0


def test_daily_aggregation_sums_fetch_runs(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "db.sqlite")
    _run(store, "fetch", NOW - timedelta(hours=5), {"items_new": 30, "feeds_ok": 9, "feeds_failed": 1})
    _run(store, "fetch", NOW - timedelta(hours=1), {"new": 12, "ok": 10, "failed": ["https://x.example/feed"]})
    rep = collect_stats(store, days=1, now=NOW)
    d = rep.days[0]
    assert (d.fetch_runs, d.items, d.feeds_ok, d.feeds_failed) == (2, 42, 19, 2)


def test_low_volume_flag(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "db.sqlite")
    _healthy(store)
    _run(store, "fetch", NOW, {"items_new": 40, "feeds_ok": 10, "feeds_failed": 0})
    kinds = [d.kind for d in collect_stats(store, now=NOW).drift]
    assert kinds == ["low_volume"]


def test_faithfulness_flag(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "db.sqlite")
    _healthy(store)
    _run(store, "brief", NOW, {"words": 900, "faithfulness": 0.8, "date": "2026-03-20",
                               "filtered": [{"item_id": 4, "title": "Casino", "rule": "no-gambling", "action": "drop", "reason": 'keyword "casino"'}]})
    rep = collect_stats(store, now=NOW)
    assert [(d.kind, d.subject) for d in rep.drift] == [("faithfulness", "2026-03-20")]
    assert rep.filtered[0]["rule"] == "no-gambling"
    assert rep.days[-1].filtered == 1


def test_feed_failing_flag_from_fetch_log(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "db.sqlite")
    bad = store.upsert_feed("https://bad.example/feed", title="Bad feed", section="News")
    good = store.upsert_feed("https://good.example/feed", title="Good feed", section="News")
    flaky = store.upsert_feed("https://flaky.example/feed", title="Flaky", section="News")
    for i, (feed, outcome) in enumerate(
        [(bad, "ok"), (bad, "error"), (bad, "error"), (bad, "error"),
         (good, "error"), (good, "error"), (good, "ok"),
         (flaky, "error"), (flaky, "error")]
    ):
        store.log_fetch(feed_id=feed.id, url=feed.url, started_at=f"2026-03-19T0{i}:00:00Z", outcome=outcome)
    rep = collect_stats(store, now=NOW)
    assert [(d.kind, d.subject) for d in rep.drift] == [("feed_failing", "https://bad.example/feed")]


def test_cli_stats_json_and_exit_code(home: Path) -> None:
    (home / "newsdesk.toml").write_text("", encoding="utf-8")
    store = SQLiteStore(home / "newsdesk.db")
    now = datetime.now(timezone.utc)
    _run(store, "fetch", now, {"items_new": 5, "feeds_ok": 2, "feeds_failed": 0})
    store.close()
    res = CliRunner().invoke(app, ["--home", str(home), "stats", "--json", "--days", "3"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["days"][-1]["items"] == 5 and data["drift"] == []
    store = SQLiteStore(home / "newsdesk.db")
    _run(store, "brief", now, {"words": 100, "faithfulness": 0.5})
    store.close()
    res = CliRunner().invoke(app, ["--home", str(home), "stats"])
    assert res.exit_code == 1
    assert "faithfulness" in res.stdout
