"""The briefing job: fetch (optional) → build → archive → write files → index for Ask.

One function, :func:`run_brief`, used by ``newsdesk brief``, the scheduler in
``newsdesk serve`` and ``newsdesk demo``, so all three do exactly the same steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date as Date
from pathlib import Path
from typing import Any, Callable, Sequence

from newsdesk.config import Config
from newsdesk.home import Home

FORMATS = ("md", "html", "json")


@dataclass
class BriefResult:
    briefing: dict[str, Any]
    paths: list[Path] = field(default_factory=list)
    report: Any = None  # CollectReport when feeds were fetched
    run_id: int | None = None
    index_notice: str | None = None
    delivered: list[Any] = field(default_factory=list)  # serve.deliver.DeliveryResult per channel


def write_outputs(b: dict[str, Any], out_dir: Path, formats: Sequence[str] = FORMATS) -> list[Path]:
    """Write ``YYYY-MM-DD.<ext>`` files atomically (a later run of the same date replaces them)."""
    from newsdesk.fsutil import atomic_write
    from newsdesk.render import render

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = out_dir / f"{b['date']}.{fmt}"
        atomic_write(path, render(b, fmt))
        paths.append(path)
    return paths


def run_metrics(b: dict[str, Any]) -> dict[str, Any]:
    """Metrics stored in the ``runs`` row of a briefing (read by ``newsdesk stats``)."""
    s = b["stats"]
    return {
        "date": b["date"],
        "seq": b.get("seq"),
        "words": s["words"],
        "stories": s["stories"],
        "reading_minutes": s["reading_minutes"],
        "faithfulness": s["faithfulness"],
        "summary_sentences": s["summary_sentences"],
        "items_considered": s["items_considered"],
        "duplicates_removed": s["duplicates_removed"],
        "clusters_merged": s["clusters_merged"],
        "feeds_ok": s["feeds_ok"],
        "feeds_failed": s["feeds_failed"],
        "sections_failed": sum(1 for sec in b["sections"] if sec["status"] == "failed"),
        "sections_partial": sum(1 for sec in b["sections"] if sec["status"] == "partial"),
        "filtered": s["filtered"],
    }


def briefed_item_ids(b: dict[str, Any]) -> list[int]:
    ids = [src["item_id"] for sec in b["sections"] for story in sec["stories"] for src in story["sources"]]
    return list(dict.fromkeys(ids))


def index_briefed_items(store: Any, config: Config, b: dict[str, Any], progress: Any = None) -> str | None:
    """Add the briefed items to the knowledge base. Returns a notice when indexing was degraded or failed."""
    from newsdesk.ask.kb import index_items

    ids = briefed_item_ids(b)
    if not ids:
        return None
    try:
        report = index_items(store, config, store.get_items(ids), progress=progress)
    except Exception as e:  # the briefing is saved already; indexing can be redone
        return f"knowledge base indexing failed: {e}"
    return getattr(report, "notice", None)


def run_brief(
    store: Any,
    config: Config,
    home: Home,
    *,
    date: Date | None = None,
    since: str | None = None,
    fetch: bool = True,
    offline: bool = False,
    formats: Sequence[str] = FORMATS,
    out_dir: Path | None = None,
    write: bool = True,
    index: bool = True,
    deliver: bool = True,
    say: Callable[[str], Any] | None = None,
    fetch_progress: Callable[[Any], Any] | None = None,
    index_progress: Any = None,
) -> BriefResult:
    """Fetch (unless ``fetch=False``), build, archive, write, index and deliver one briefing.

    Fetch, build and archive happen under the run lock. Delivery (email, Obsidian vault) runs for
    the channels enabled in ``[delivery]``; a failed channel is reported, never raised.
    """
    from newsdesk.brief.build import build_briefing
    from newsdesk.collect.subscriptions import sync_feeds
    from newsdesk.lock import run_lock
    from newsdesk.store.briefings import save_briefing

    say = say or (lambda _m: None)
    sync_feeds(config, store)
    result = BriefResult(briefing={})
    with run_lock(home.lock_path):
        if fetch:
            from newsdesk.collect.run import collect

            result.report = collect(store, config, config_path=home.config_path, offline=offline,
                                    progress=fetch_progress)
            for r in result.report.failed:
                say(f"feed failed: {r.name}: {r.error or 'failed'}")
        run_id = store.start_run("brief")
        try:
            b = build_briefing(store, config, date=date, since=since, report=result.report)
        except Exception as e:
            store.finish_run(run_id, {"error": str(e)})
            raise
        b["run_id"] = run_id
        save_briefing(store, b, run_id=run_id)
        store.finish_run(run_id, run_metrics(b))
    result.briefing, result.run_id = b, run_id
    if write:
        result.paths = write_outputs(b, out_dir or home.briefings_dir, formats)
        for p in result.paths:
            say(f"wrote {p}")
    if index:
        result.index_notice = index_briefed_items(store, config, b, index_progress)
        if result.index_notice:
            say(result.index_notice)
    if deliver:
        from newsdesk.serve.deliver import deliver_briefing

        for r in deliver_briefing(config, b):
            result.delivered.append(r)
            say(f"deliver {r.channel}: {'ok' if r.ok else 'FAILED'} — {r.detail}")
    return result
