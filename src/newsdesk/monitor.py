"""Quality monitoring: run metrics over time and drift flags (``newsdesk stats``).

Every fetch and briefing run leaves a row in ``runs`` (kind + JSON metrics),
written by collect and the briefing builder; ``newsdesk eval briefing`` adds
``eval`` rows. This module reads them back through the store interface
(``list_runs``, ``list_feeds``, ``fetch_log``) and reports:

* per day: items collected, feeds ok / failed, briefing words, faithfulness;
* drift flags:
  - ``feed_failing``: a feed whose last 3 or more fetches failed in a row;
  - ``low_volume``: the latest day's item count is under half the median of
    the previous 14 days;
  - ``faithfulness``: a briefing whose faithfulness was below 1.0 (an
    extractive summary sentence not found verbatim in its source).

Metric keys read (aliases tolerated so older rows still count):
fetch runs ``items_new`` (``new``), ``feeds_ok`` (or ``ok`` + ``not_modified``
as collect writes them), ``feeds_failed`` (``errors``, ``failed``); brief/eval runs ``words``, ``faithfulness``, ``filtered``
(a list of policy decisions or a count).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from statistics import median
from typing import Any

FAIL_STREAK = 3
LOW_VOLUME_RATIO = 0.5
BASELINE_DAYS = 14


def _first(metrics: dict[str, Any], *keys: str) -> Any:
    for k in keys:
        if k in metrics and metrics[k] is not None:
            return metrics[k]
    return None


def _num(v: Any) -> float | None:
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, list):
        return float(len(v))
    return None


@dataclass
class DayStats:
    day: str
    fetch_runs: int = 0
    items: int = 0
    feeds_ok: int = 0
    feeds_failed: int = 0
    briefings: int = 0
    words: int | None = None
    faithfulness: float | None = None
    filtered: int = 0


@dataclass
class Drift:
    kind: str  # feed_failing | low_volume | faithfulness
    subject: str
    detail: str


@dataclass
class StatsReport:
    days: list[DayStats] = field(default_factory=list)
    drift: list[Drift] = field(default_factory=list)
    filtered: list[dict[str, Any]] = field(default_factory=list)  # policy decisions of the latest briefing

    def to_dict(self) -> dict[str, Any]:
        return {
            "days": [asdict(d) for d in self.days],
            "drift": [asdict(d) for d in self.drift],
            "filtered": self.filtered,
        }


def _day(ts: str | None) -> str | None:
    return ts[:10] if ts else None


def collect_stats(store: Any, *, days: int = 14, now: datetime | None = None) -> StatsReport:
    """Aggregate run metrics of the last ``days`` days and compute drift flags."""
    now = now or datetime.now(timezone.utc)
    horizon = (now - timedelta(days=max(days, BASELINE_DAYS + 1))).strftime("%Y-%m-%d")
    shown_from = (now - timedelta(days=days - 1)).strftime("%Y-%m-%d")
    runs = [r for r in store.list_runs(limit=100000) if (_day(r.get("started_at")) or "") >= horizon]
    runs.sort(key=lambda r: (r.get("started_at") or "", r["id"]))

    by_day: dict[str, DayStats] = {}
    latest_brief: dict[str, Any] | None = None
    bad_faith: list[tuple[str, str, float]] = []
    for r in runs:
        day = _day(r.get("started_at"))
        if not day:
            continue
        ds = by_day.setdefault(day, DayStats(day))
        m = r.get("metrics") or {}
        if r["kind"] == "fetch":
            ds.fetch_runs += 1
            ds.items += int(_num(_first(m, "items_new", "new")) or 0)
            ok = _num(_first(m, "feeds_ok"))
            if ok is None:  # collect writes ok + not_modified (a 304 is a healthy feed)
                ok = (_num(m.get("ok")) or 0) + (_num(m.get("not_modified")) or 0)
            ds.feeds_ok += int(ok)
            ds.feeds_failed += int(_num(_first(m, "feeds_failed", "failed", "errors", "failed_feeds")) or 0)
        elif r["kind"] in ("brief", "briefing", "eval"):
            if r["kind"] != "eval":
                ds.briefings += 1
                latest_brief = r
                w = _num(_first(m, "words", "word_count"))
                if w is not None:
                    ds.words = int(w)
                filt = m.get("filtered")
                ds.filtered += int(_num(filt) or 0)
            f = _num(_first(m, "faithfulness"))
            if f is not None:
                ds.faithfulness = f if ds.faithfulness is None else min(ds.faithfulness, f)
                if f < 1.0:
                    bad_faith.append((day, str(m.get("date") or day), f))

    report = StatsReport(days=[by_day[d] for d in sorted(by_day) if d >= shown_from])
    if latest_brief and isinstance((latest_brief.get("metrics") or {}).get("filtered"), list):
        report.filtered = list(latest_brief["metrics"]["filtered"])

    # feed_failing: consecutive failures from the feed state or the fetch log.
    for feed in store.list_feeds(include_disabled=False):
        streak = 0
        for entry in store.fetch_log(feed_id=feed.id, limit=FAIL_STREAK * 4):
            if entry.get("outcome") == "error":
                streak += 1
            elif entry.get("outcome") in ("ok", "not_modified"):
                break
        streak = max(streak, int(feed.consecutive_failures or 0))
        if streak >= FAIL_STREAK:
            report.drift.append(Drift("feed_failing", feed.url, f"{feed.name}: failed {streak} fetches in a row"
                                      + (f" (last error: {feed.last_error})" if feed.last_error else "")))

    # low_volume: latest fetch day vs the median of the previous 14 fetch days.
    fetch_days = sorted(d for d, s in by_day.items() if s.fetch_runs)
    if len(fetch_days) >= 4:
        last = fetch_days[-1]
        prev = [by_day[d].items for d in fetch_days[:-1]][-BASELINE_DAYS:]
        med = median(prev)
        if med > 0 and by_day[last].items < LOW_VOLUME_RATIO * med:
            report.drift.append(Drift("low_volume", last, f"{by_day[last].items} items on {last}, under half the "
                                      f"{len(prev)}-day median of {med:g}"))

    seen: set[str] = set()
    for day, date, f in bad_faith:
        if day >= shown_from and date not in seen:
            seen.add(date)
            report.drift.append(Drift("faithfulness", date, f"briefing {date}: faithfulness {f:.3f} < 1.0"))
    return report


def record_run(store: Any, kind: str, metrics: dict[str, Any]) -> int:
    """Store a finished run (start + finish in one call) and return its id."""
    run_id = store.start_run(kind)
    store.finish_run(run_id, metrics)
    return run_id
