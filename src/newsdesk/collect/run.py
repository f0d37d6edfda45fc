"""One collect run: fetch every enabled feed, parse, store; record health and metrics.

Pipeline position: ``newsdesk fetch`` (and the web app's scheduler) call
:func:`collect`; the briefing reads what it stored.

* Network work (fetch + optional full-text) runs in a bounded thread pool
  (``fetch.concurrency``); all database writes happen on the calling thread.
* Parsing (feedparser + clean + screen) is CPU-bound and would serialise on
  the GIL in those threads, so when at least :data:`PROCESS_POOL_MIN_FEEDS`
  feeds are due and the caller is the process's only thread (the CLI; the web
  server parses in-process) it runs in a small fork-started process pool (one worker per
  core): the fetch thread hands the body over and waits, the calling thread
  stores feed N while the workers parse feed N+1. Worker errors come back as
  the same per-feed error; if a worker dies the remaining feeds are parsed
  in-process as before.
* Each feed's items, its state and its ``fetch_log`` row are written in ONE
  transaction, so a crash or ``kill -9`` mid-run never leaves a half-written
  feed; the next run simply redoes it (upserts are idempotent).
* Failures are per feed: one broken feed never stops the run. After repeated
  failures a feed backs off (``next_fetch_at``); ``Retry-After`` beyond
  ``fetch.max_retry_after`` is recorded there too. ``410 Gone`` disables the
  feed; a permanent redirect rewrites its URL in the database and the config.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Literal

from newsdesk.collect.fetch import Fetcher, FetchResponse, is_local
from newsdesk.collect.fulltext import enrich_records
from newsdesk.collect.parse import ParsedFeed, parse_feed
from newsdesk.collect.subscriptions import GONE, configured_feeds, replace_feed_url_in_config
from newsdesk.config import Config
from newsdesk.errors import FeedError
from newsdesk.models import Feed, ItemRecord, iso, parse_iso, utcnow
from newsdesk.store import SQLiteStore
from newsdesk.store.collect import known_guids

log = logging.getLogger(__name__)

Outcome = Literal["ok", "not_modified", "error", "skipped"]

#: Full-text pages fetched per feed per run, at most.
FULLTEXT_LIMIT = 10
#: Backoff after repeated failures: none after the first, then 15 min doubling, capped at a day.
BACKOFF_START = timedelta(minutes=15)
BACKOFF_MAX = timedelta(hours=24)
#: Parse in worker processes only when at least this many feeds are due (below it the pool's
#: start-up costs more than it saves).
PROCESS_POOL_MIN_FEEDS = 4

try:  # the guard helper's screening hook; optional
    from newsdesk.guard.screen import screen_record as _screen_record
except ImportError:  # pragma: no cover - depends on another module being present
    _screen_record = None


@dataclass
class FeedResult:
    feed_id: int
    url: str
    name: str
    section: str | None
    outcome: Outcome
    status: int | None = None
    error: str | None = None
    new: int = 0
    updated: int = 0
    duration_ms: int = 0
    bytes: int = 0
    redirected_to: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class CollectReport:
    run_id: int | None
    results: list[FeedResult] = field(default_factory=list)
    duration_ms: int = 0
    offline: bool = False

    @property
    def failed(self) -> list[FeedResult]:
        """Feeds that failed this run (outcome ``error``)."""
        return [r for r in self.results if r.outcome == "error"]

    @property
    def ok(self) -> list[FeedResult]:
        """Feeds fetched successfully (``ok`` or ``not_modified``)."""
        return [r for r in self.results if r.outcome in ("ok", "not_modified")]

    @property
    def skipped(self) -> list[FeedResult]:
        return [r for r in self.results if r.outcome == "skipped"]

    @property
    def new(self) -> int:
        return sum(r.new for r in self.results)

    @property
    def updated(self) -> int:
        return sum(r.updated for r in self.results)

    def metrics(self) -> dict[str, Any]:
        return {
            "feeds": len(self.results),
            "ok": sum(r.outcome == "ok" for r in self.results),
            "not_modified": sum(r.outcome == "not_modified" for r in self.results),
            "errors": len(self.failed),
            "skipped": len(self.skipped),
            "items_new": self.new,
            "items_updated": self.updated,
            "bytes": sum(r.bytes for r in self.results),
            "duration_ms": self.duration_ms,
            "offline": self.offline,
        }

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, **self.metrics(), "results": [asdict(r) for r in self.results]}


@dataclass
class _Work:
    """What a worker thread hands back to the writer."""

    feed: Feed
    started: datetime
    duration_ms: int = 0
    response: FetchResponse | None = None
    parsed: ParsedFeed | None = None
    error: FeedError | None = None
    notes: list[str] = field(default_factory=list)


def _backoff(failures: int) -> timedelta | None:
    if failures < 2:
        return None
    return min(BACKOFF_START * (2 ** (failures - 2)), BACKOFF_MAX)


def _screen(records: list[ItemRecord]) -> None:
    if _screen_record is None:
        return
    for r in records:
        try:
            flags = _screen_record(r)
        except Exception as e:  # a screening bug must not lose the feed
            log.warning("screen_record failed on %s: %s", r.url or r.guid, e)
            continue
        if flags:
            r.flags = sorted(set(r.flags) | set(flags))


class _WorkerCrash(Exception):
    """An unexpected exception raised inside a parse worker, carried back by name and text."""

    def __init__(self, name: str, message: str, tb: str):
        super().__init__(message)
        self.name, self.message, self.tb = name, message, tb


def _parse_and_screen(body: bytes, url: str, content_type: str | None, screen: bool) -> ParsedFeed:
    parsed = parse_feed(body, url, content_type)
    if screen:
        _screen(parsed.entries)
    return parsed


def _worker_init(parent_pid: int) -> None:
    """Runs once in each parse worker: die with the parent, leave Ctrl-C to the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:  # PR_SET_PDEATHSIG: a kill -9 of newsdesk must not leave orphaned workers behind
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    except Exception:  # pragma: no cover - not Linux / no libc symbol
        pass
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(0)


def _worker_ready() -> int:
    return os.getpid()


def _worker_parse(body: bytes, url: str, content_type: str | None, screen: bool) -> tuple[Any, ...]:
    """Parse one body in a worker process. Never raises: the outcome is a picklable tuple."""
    try:
        return ("ok", _parse_and_screen(body, url, content_type, screen))
    except FeedError as e:
        return ("feed_error", str(e), e.status, e.retry_after)
    except Exception as e:
        return ("crash", type(e).__name__, str(e), traceback.format_exc())


class _ParsePool:
    """Parses feed bodies in fork-started worker processes, in-process once the pool breaks.

    Created (and its workers forked) on the calling thread before any fetch
    thread exists. :meth:`parse` is called from the fetch threads and behaves
    like ``parse_feed`` (+ screening): it returns a :class:`ParsedFeed` or
    raises :class:`FeedError` / :class:`_WorkerCrash`.
    """

    def __init__(self, workers: int):
        self.workers = workers
        self.broken = False
        self._lock = threading.Lock()
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                                         initializer=_worker_init, initargs=(os.getpid(),))
        try:
            self._pool.submit(_worker_ready).result()  # fork every worker now, from this thread
        except BaseException:
            self._pool.shutdown(wait=False, cancel_futures=True)
            raise

    def _mark_broken(self, why: str) -> None:
        with self._lock:
            if not self.broken:
                self.broken = True
                log.warning("parse worker pool failed (%s); parsing the remaining feeds in-process", why)

    def parse(self, body: bytes, url: str, content_type: str | None, *, screen: bool) -> ParsedFeed:
        if not self.broken:
            try:
                out = self._pool.submit(_worker_parse, body, url, content_type, screen).result()
            except BrokenProcessPool as e:
                self._mark_broken(str(e) or "a worker died")
            except Exception as e:  # e.g. the result would not pickle: parse this one here instead
                log.warning("parse worker could not handle %s (%s); parsing it in-process", url, e)
            else:
                if out[0] == "ok":
                    return out[1]
                if out[0] == "feed_error":
                    raise FeedError(out[1], status=out[2], retry_after=out[3])
                raise _WorkerCrash(out[1], out[2], out[3])
        return _parse_and_screen(body, url, content_type, screen)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _other_threads_running() -> bool:
    """Forking while other threads run (the web server, its scheduler) can copy a lock another
    thread holds into the child, so parse workers are only forked from a single-threaded process
    (the CLI); elsewhere parsing stays in-process."""
    return threading.active_count() > 1


def _parse_workers(n_feeds: int, concurrency: int) -> int:
    """How many parse processes a run of ``n_feeds`` gets; 0 means parse in-process."""
    cpus = os.cpu_count() or 1
    if not sys.platform.startswith("linux") or n_feeds < PROCESS_POOL_MIN_FEEDS or cpus < 2:
        return 0
    if _other_threads_running():
        return 0
    return min(cpus, n_feeds, concurrency)


def _work(feed: Feed, fetcher: Fetcher, store: SQLiteStore, offline: bool,
          parser: _ParsePool | None = None) -> _Work:
    w = _Work(feed=feed, started=utcnow())
    t0 = time.monotonic()
    try:
        resp = fetcher.fetch(feed.url, etag=feed.etag, last_modified=feed.last_modified)
        w.response = resp
        if not resp.not_modified:
            # full-text feeds are screened after enrichment, here, as the enriched text must be screened
            screen_now = not feed.fulltext
            if parser is not None:
                w.parsed = parser.parse(resp.body, feed.url, resp.content_type, screen=screen_now)
            else:
                w.parsed = _parse_and_screen(resp.body, feed.url, resp.content_type, screen_now)
            if feed.fulltext and w.parsed.entries:
                known = known_guids(store, feed.id)
                fresh = [r for r in w.parsed.entries if r.guid not in known]
                if offline:
                    fresh = [r for r in fresh if r.url and is_local(r.url)]
                _n, errors = enrich_records(fresh, fetcher, limit=FULLTEXT_LIMIT)
                w.notes += [f"full text: {e}" for e in errors]
            if not screen_now:
                _screen(w.parsed.entries)
    except FeedError as e:
        w.error = e
    except _WorkerCrash as e:  # same report as an unexpected error in-process
        log.error("unexpected error on %s (in a parse worker)\n%s", feed.url, e.tb)
        w.error = FeedError(f"{feed.url}: unexpected {e.name}: {e.message}")
    except Exception as e:  # a bug or odd input in one feed must not stop the run
        log.exception("unexpected error on %s", feed.url)
        w.error = FeedError(f"{feed.url}: unexpected {type(e).__name__}: {e}")
    w.duration_ms = int((time.monotonic() - t0) * 1000)
    return w


def _store_result(store: SQLiteStore, run_id: int, w: _Work, config_path: Path | None,
                  configured: set[str]) -> FeedResult:
    """Write one feed's items, state and log row in a single transaction."""
    feed = w.feed
    now = utcnow()
    res = FeedResult(feed_id=feed.id, url=feed.url, name=feed.name, section=feed.section,
                     outcome="error", duration_ms=w.duration_ms, notes=list(w.notes))
    state: dict[str, Any] = {"last_fetched_at": iso(now)}
    new_url: str | None = None
    with store.transaction():
        if w.error is not None:
            failures = feed.consecutive_failures + 1
            res.status, res.error = w.error.status, str(w.error)
            state.update(last_status=w.error.status, last_error=str(w.error), consecutive_failures=failures)
            nxt = _backoff(failures)
            if w.error.retry_after is not None:
                ra = timedelta(seconds=w.error.retry_after)
                nxt = max(nxt or ra, ra)
            state["next_fetch_at"] = iso(now + nxt) if nxt else None
            if w.error.status == 410:
                state["disabled_reason"] = GONE
        else:
            resp = w.response
            assert resp is not None
            res.status = resp.status
            res.bytes = len(resp.body)
            state.update(last_status=resp.status, last_error=None, consecutive_failures=0,
                         last_ok_at=iso(now), next_fetch_at=None, etag=resp.etag,
                         last_modified=resp.last_modified)
            if resp.not_modified:
                res.outcome = "not_modified"
            else:
                res.outcome = "ok"
                parsed = w.parsed
                assert parsed is not None
                counts = store.upsert_items(feed.id, _dedupe(parsed.entries))
                res.new, res.updated = counts["new"], counts["updated"]
                if parsed.site_url and parsed.site_url != feed.site_url:
                    state["site_url"] = parsed.site_url
                if not feed.title and parsed.title:
                    state["title"] = parsed.title
                    res.name = parsed.title
            if resp.permanent_redirect and resp.final_url != feed.url:
                taken = store.get_feed_by_url(resp.final_url)
                if config_path is None and feed.url in configured:
                    # without the config file we cannot follow it there; renaming only the DB
                    # would make the next sync_feeds treat the feed as removed
                    res.notes.append(f"moved permanently to {resp.final_url}; update the config")
                elif taken is None:
                    new_url = resp.final_url
                    state["url"] = new_url
                    res.redirected_to = new_url
                else:
                    res.notes.append(f"moved permanently to {resp.final_url}, which is already subscribed")
        store.update_feed_state(feed.id, **state)
        store.log_fetch(
            run_id=run_id, feed_id=feed.id, url=feed.url, started_at=iso(w.started),
            duration_ms=w.duration_ms, status=res.status, outcome=res.outcome, error=res.error,
            items_new=res.new, items_updated=res.updated, bytes=res.bytes,
        )
    if new_url and config_path is not None:
        # After the DB commit: if this fails the DB already follows the redirect and the
        # next sync re-adds the old URL as a feed, which then redirects again. Harmless.
        try:
            replace_feed_url_in_config(config_path, feed.url, new_url)
        except Exception as e:
            res.notes.append(f"could not update the config with the new URL: {e}")
    return res


def _dedupe(records: list[ItemRecord]) -> list[ItemRecord]:
    """Make a feed's batch safe to upsert.

    A guid listed twice keeps its first occurrence. Distinct entries that
    share one page URL (weather forecasts, live blogs) lose their
    ``canonical_url``: the store matches an unknown guid by canonical URL, and
    a shared URL would make those entries overwrite each other on every run.
    """
    seen: set[str] = set()
    out = []
    for r in records:
        if r.guid in seen:
            continue
        seen.add(r.guid)
        out.append(r)
    per_url: dict[str, int] = {}
    for r in out:
        if r.canonical_url:
            per_url[r.canonical_url] = per_url.get(r.canonical_url, 0) + 1
    for r in out:
        if r.canonical_url and per_url[r.canonical_url] > 1:
            r.canonical_url = None
    return out


def _skip(store: SQLiteStore, run_id: int, feed: Feed, reason: str) -> FeedResult:
    store.log_fetch(run_id=run_id, feed_id=feed.id, url=feed.url, started_at=iso(utcnow()),
                    duration_ms=0, status=None, outcome="skipped", error=reason)
    return FeedResult(feed_id=feed.id, url=feed.url, name=feed.name, section=feed.section,
                      outcome="skipped", error=reason)


def collect(store: SQLiteStore, config: Config, *, config_path: Path | None = None, offline: bool = False,
            progress: Callable[[FeedResult], None] | None = None, feed_urls: list[str] | None = None,
            force: bool = False, fetcher: Fetcher | None = None) -> CollectReport:
    """Fetch all enabled feeds (or ``feed_urls``) and store their items.

    ``offline`` fetches only ``file://``/local feeds and reports network
    feeds as ``skipped``. Feeds backing off after failures (``next_fetch_at``
    in the future) are skipped unless ``force``. ``progress`` is called once
    per feed with its result. The caller should run ``sync_feeds`` first.
    """
    t0 = time.monotonic()
    run_id = store.start_run("fetch")
    report = CollectReport(run_id=run_id, offline=offline)
    feeds = store.list_feeds(include_disabled=False)
    if feed_urls is not None:
        wanted = set(feed_urls)
        feeds = [f for f in feeds if f.url in wanted]
    now = utcnow()
    todo: list[Feed] = []
    for f in feeds:
        reason = None
        if offline and not is_local(f.url):
            reason = "offline: network feed not fetched"
        elif not force and f.next_fetch_at and (parse_iso(f.next_fetch_at) or now) > now:
            reason = f"backing off until {f.next_fetch_at} after {f.consecutive_failures} failure(s)"
        if reason:
            res = _skip(store, run_id, f, reason)
            report.results.append(res)
            if progress:
                progress(res)
        else:
            todo.append(f)

    configured = {f.url for f in configured_feeds(config)}
    own_fetcher = fetcher is None
    fetcher = fetcher or Fetcher(config.fetch)
    parser: _ParsePool | None = None
    try:
        workers = _parse_workers(len(todo), config.fetch.concurrency)
        if workers:
            try:
                parser = _ParsePool(workers)
            except Exception as e:  # no fork, no semaphores...: parse in-process as before
                log.warning("could not start parse workers (%s); parsing in-process", e)
        with ThreadPoolExecutor(max_workers=config.fetch.concurrency, thread_name_prefix="fetch") as pool:
            futures: list[Future[_Work]] = [pool.submit(_work, f, fetcher, store, offline, parser) for f in todo]
            for fut in as_completed(futures):
                w = fut.result()
                try:
                    res = _store_result(store, run_id, w, config_path, configured)
                except Exception as e:  # e.g. disk full: report it, keep going with other feeds
                    log.exception("storing %s failed", w.feed.url)
                    res = FeedResult(feed_id=w.feed.id, url=w.feed.url, name=w.feed.name,
                                     section=w.feed.section, outcome="error",
                                     error=f"{w.feed.url}: could not store: {e}")
                report.results.append(res)
                if progress:
                    progress(res)
    finally:
        if parser is not None:
            parser.shutdown()
        if own_fetcher:
            fetcher.close()
    order = {f.url: i for i, f in enumerate(feeds)}
    report.results.sort(key=lambda r: order.get(r.url, len(order)))
    report.duration_ms = int((time.monotonic() - t0) * 1000)
    store.finish_run(run_id, report.metrics())
    return report
