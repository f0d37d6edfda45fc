"""The web app's view of the pipeline: one place that calls the collect, brief and ask modules.

Pages (``pages.py``) and the REST API (``api.py``) both go through these
functions, and these functions call the same library code the CLI commands use,
so ``GET /api/...`` returns the same JSON shapes as ``newsdesk ... --json``.
Nothing here re-implements pipeline logic; it only adapts arguments (web form
strings to typed filters) and turns library errors into :class:`ServiceError`
(mapped to an HTTP status by the caller).
"""

from __future__ import annotations

import re
from datetime import date as date_cls
from pathlib import Path
from typing import Any

from newsdesk.collect.subscriptions import feed_dict, list_subscriptions
from newsdesk.config import Config
from newsdesk.fsutil import atomic_write
from newsdesk.errors import NewsdeskError
from newsdesk.home import Home
from newsdesk.serve.security import ensure_fetchable
from newsdesk.store.sqlite import SQLiteStore

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ServiceError(Exception):
    """A request the pipeline refused; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


# --- briefings ------------------------------------------------------------------

def list_briefings(store: SQLiteStore) -> list[dict[str, Any]]:
    from newsdesk.store import briefings

    return briefings.list_briefings(store)


def get_briefing(store: SQLiteStore, date: str, seq: int | None = None) -> dict[str, Any]:
    from newsdesk.store import briefings

    if date == "latest":
        b = briefings.latest_briefing(store)
    else:
        if not _DATE.match(date):
            raise ServiceError(f"not a date: {date!r} (use YYYY-MM-DD)", 422)
        b = briefings.get_briefing(store, date, seq)
    if b is None:
        raise ServiceError(f"no briefing for {date}", 404)
    return b


def latest_briefing(store: SQLiteStore) -> dict[str, Any] | None:
    from newsdesk.store import briefings

    return briefings.latest_briefing(store)


def get_story(store: SQLiteStore, date: str, story_id: str) -> dict[str, Any]:
    from newsdesk.store import briefings

    if not _DATE.match(date):
        raise ServiceError(f"not a date: {date!r} (use YYYY-MM-DD)", 422)
    story = briefings.get_story(store, date, story_id)
    if story is None:
        raise ServiceError(f"no story {story_id!r} in the briefing of {date}", 404)
    return story


def source_items(store: SQLiteStore, story: dict[str, Any]) -> list[dict[str, Any]]:
    """The stored items behind a story's sources (for their feed HTML on the Story page)."""
    ids = [int(s["item_id"]) for s in story.get("sources") or [] if s.get("item_id") is not None]
    return [it.to_dict(with_html=True) for it in store.get_items(ids)]


# --- search and ask --------------------------------------------------------------

def make_filters(kind: str | None = None, source: str | None = None, tag: str | None = None,
                 year: str | int | None = None, since: str | None = None, until: str | None = None) -> Any:
    """Web-form strings -> ``newsdesk.store.documents.Filters`` (blank fields ignored, bad values refused)."""
    from newsdesk.store.documents import Filters

    def blank(v: Any) -> Any:
        return None if v is None or (isinstance(v, str) and not v.strip()) else (v.strip() if isinstance(v, str) else v)

    kind, source, tag, since, until = map(blank, (kind, source, tag, since, until))
    y = blank(year)
    if y is not None:
        try:
            y = int(y)
        except ValueError:
            raise ServiceError(f"year: not a number: {year!r}", 422) from None
    for name, v in (("since", since), ("until", until)):
        if v is not None:
            try:
                date_cls.fromisoformat(v[:10])
            except ValueError:
                raise ServiceError(f"{name}: not a date: {v!r} (use YYYY-MM-DD)", 422) from None
    if kind is not None and kind not in ("document", "briefing"):
        raise ServiceError(f"kind: must be 'document' or 'briefing', not {kind!r}", 422)
    return Filters(kind=kind, source=source, tag=tag, year=y, since=since, until=until)


def search(store: SQLiteStore, config: Config, query: str, *, k: int = 10, mode: str = "hybrid",
           filters: Any = None) -> tuple[list[dict[str, Any]], str | None]:
    """Hybrid search over indexed feed items and documents: ``(hits, notice)``.

    The hits are what ``newsdesk search --json`` prints (``Hit.to_dict()``); the
    notice says when dense search is off (e.g. embeddings not computed yet).
    """
    if not query.strip():
        return [], None
    if mode not in ("bm25", "dense", "hybrid"):
        raise ServiceError(f"mode: {mode!r} is not bm25, dense or hybrid", 422)
    from newsdesk.ask.retrieve import retrieve

    try:
        res = retrieve(store, config, query, k=k, filters=filters, mode=mode)
    except (NewsdeskError, ValueError) as e:
        raise ServiceError(str(e), 400) from None
    return [h.to_dict() for h in res.hits], res.notice


def ask(store: SQLiteStore, config: Config, question: str, *, k: int | None = None, parent: bool = False,
        filters: Any = None) -> dict[str, Any]:
    """A cited answer, or an abstention with the closest sources (what ``newsdesk ask --json`` prints)."""
    if not question.strip():
        raise ServiceError("empty question", 422)
    from newsdesk.ask.answer import ask as _ask

    try:
        return _ask(store, config, question, k=k, mode="parent" if parent else "chunk", filters=filters)
    except (NewsdeskError, ValueError) as e:
        raise ServiceError(str(e), 400) from None


# --- feeds -----------------------------------------------------------------------

def list_feeds(config: Config, store: SQLiteStore, *, include_removed: bool = False) -> list[dict[str, Any]]:
    """Subscriptions in section order with their health (the shape of ``newsdesk feeds list --json``)."""
    return [feed_dict(f) for f in list_subscriptions(config, store, include_removed=include_removed)]


def add_feed(home: Home, config: Config, store: SQLiteStore, url: str, section: str,
             title: str | None = None, fulltext: bool = False) -> dict[str, Any]:
    """Subscribe like ``newsdesk feeds add``: SSRF check, autodiscovery, config write, DB sync.

    Every fetch goes through a ``Fetcher`` with ``guard_private`` on (unless
    ``fetch.allow_private``), so redirects to private addresses are refused too.
    """
    from newsdesk.collect.discover import discover_feed
    from newsdesk.collect.fetch import Fetcher
    from newsdesk.collect.parse import parse_feed
    from newsdesk.collect.subscriptions import add_feed_to_config, sync_feeds
    from newsdesk.config import load_config

    url = (url or "").strip()
    if not url:
        raise ServiceError("url: required", 422)
    if config.sections and config.section(section) is None:
        raise ServiceError(f"section: {section!r} is not a configured section "
                           f"(known: {', '.join(s.name for s in config.ordered_sections())})", 422)
    try:
        ensure_fetchable(url, config)
    except ValueError as e:
        raise ServiceError(str(e), 400) from None
    feed_title = title
    try:
        with Fetcher(config.fetch, guard_private=not config.fetch.allow_private) as fetcher:
            found = discover_feed(url, fetcher)
            url = found[0]
            ensure_fetchable(url, config)
            if feed_title is None:
                resp = fetcher.fetch(url)
                feed_title = parse_feed(resp.body, url, resp.content_type).title
        add_feed_to_config(home.config_path, url, section, title=feed_title, fulltext=fulltext)
    except (NewsdeskError, ValueError) as e:
        raise ServiceError(str(e), 400) from None
    sync_feeds(load_config(home.config_path), store)
    feed = store.get_feed_by_url(url)
    if feed is None:
        raise ServiceError(f"{url}: not stored after adding", 500)
    if feed.disabled_reason:
        store.update_feed_state(feed.id, disabled_reason=None, consecutive_failures=0, next_fetch_at=None)
        feed = store.get_feed_by_url(url)
    return feed_dict(feed)


def remove_feed(home: Home, store: SQLiteStore, url: str) -> dict[str, Any]:
    """Unsubscribe like ``newsdesk feeds remove``: drop it from the config; its items are kept."""
    from newsdesk.collect.subscriptions import remove_feed_from_config, sync_feeds
    from newsdesk.config import load_config

    try:
        removed = remove_feed_from_config(home.config_path, url)
    except NewsdeskError as e:
        raise ServiceError(str(e), 400) from None
    if not removed:
        raise ServiceError(f"{url}: not subscribed", 404)
    sync_feeds(load_config(home.config_path), store)
    feed = store.get_feed_by_url(url)
    return feed_dict(feed) if feed else {"url": url}


def update_feed(home: Home, config: Config, store: SQLiteStore, url: str, *, enabled: bool | None = None,
                section: str | None = None) -> dict[str, Any]:
    """Enable/disable a feed or move it to another section (edits the config, then syncs the DB)."""
    import tomlkit

    from newsdesk.collect.subscriptions import sync_feeds
    from newsdesk.config import load_config, parse_config

    if section is not None and config.sections and config.section(section) is None:
        raise ServiceError(f"section: {section!r} is not a configured section", 422)
    path = home.config_path
    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    entry = next((t for t in doc.get("feeds", []) if str(t.get("url")) == url), None)
    if entry is None:
        raise ServiceError(f"{url}: not subscribed", 404)
    if enabled is not None:
        entry["enabled"] = bool(enabled)
    if section is not None:
        entry["section"] = section
    text = tomlkit.dumps(doc)
    try:
        parse_config(text, str(path))
    except NewsdeskError as e:
        raise ServiceError(str(e), 422) from None
    atomic_write(path, text)
    sync_feeds(load_config(path), store)
    feed = store.get_feed_by_url(url)
    assert feed is not None
    if enabled and feed.disabled_reason:
        store.update_feed_state(feed.id, disabled_reason=None, consecutive_failures=0, next_fetch_at=None)
        feed = store.get_feed_by_url(url)
    return feed_dict(feed)


def export_opml(config: Config) -> str:
    """OPML of the subscriptions, as ``newsdesk feeds export`` writes it."""
    from newsdesk.collect.opml import export_opml as _export
    from newsdesk.collect.subscriptions import configured_feeds

    return _export([(f.url, f.title, f.section) for f in configured_feeds(config)],
                   section_order=[s.name for s in config.ordered_sections()])


def import_opml(home: Home, config: Config, store: SQLiteStore, data: bytes, *,
                section: str | None = None, source: str = "upload.opml") -> dict[str, Any]:
    """Import OPML like ``newsdesk feeds import --json`` (same result keys)."""
    from newsdesk.collect.opml import parse_opml
    from newsdesk.collect.subscriptions import add_feeds_to_config, sync_feeds
    from newsdesk.config import load_config

    names = [s.name for s in config.sections]
    try:
        found = parse_opml(data, names, section, source=source)
        placed = [f for f in found if f.section]
        added = add_feeds_to_config(home.config_path, [{"url": f.url, "section": f.section, "title": f.title}
                                                       for f in placed])
    except NewsdeskError as e:
        raise ServiceError(str(e), 400) from None
    sync_feeds(load_config(home.config_path), store)
    return {
        "found": len(found), "added": added,
        "already_subscribed": [f.url for f in placed if f.url not in added],
        "no_section": [{"url": f.url, "category": f.category} for f in found if not f.section],
    }


# --- documents --------------------------------------------------------------------

def list_documents(store: SQLiteStore) -> list[dict[str, Any]]:
    from newsdesk.store.documents import DocumentStore

    return DocumentStore(store).list(kind="document")


def remove_document(store: SQLiteStore, ident: str) -> dict[str, Any]:
    from newsdesk.store.documents import DocumentStore

    doc = DocumentStore(store).remove(ident)
    if doc is None:
        raise ServiceError(f"no document {ident!r}", 404)
    return doc


def _index_loaded(store: SQLiteStore, config: Config, doc: Any, tags: list[str]) -> dict[str, Any]:
    """Index one loaded document the way ``newsdesk add --json`` does (same result keys)."""
    from newsdesk.ask.kb import index_documents

    for t in tags:
        if t not in doc.tags:
            doc.tags.append(t)
    report = index_documents(store, config, [doc])
    return {**report.to_dict(), "errors": []}


def add_document_file(store: SQLiteStore, config: Config, home: Home, filename: str, data: bytes,
                      tags: list[str] | None = None) -> dict[str, Any]:
    """Index an uploaded file like ``newsdesk add``; the file is kept under ``<home>/uploads/``."""
    from newsdesk.collect.documents import SUPPORTED_EXT, load_one

    name = Path(filename or "").name.strip().lstrip(".") or "upload.txt"
    ext = Path(name).suffix.lower()
    if ext not in SUPPORTED_EXT:
        raise ServiceError(f"{name}: unsupported file type {ext or '(none)'!r} "
                           f"(supported: {', '.join(sorted(SUPPORTED_EXT))})", 415)
    updir = home.root / "uploads"
    updir.mkdir(parents=True, exist_ok=True)
    target = updir / name
    atomic_write(target, data)
    try:
        doc = load_one(str(target.resolve()), config.fetch)
        return _index_loaded(store, config, doc, tags or [])
    except (NewsdeskError, ValueError) as e:
        raise ServiceError(str(e), 400) from None


def add_document_url(store: SQLiteStore, config: Config, url: str, tags: list[str] | None = None) -> dict[str, Any]:
    """Fetch a web page / PDF by URL and index it, after the SSRF guard."""
    from newsdesk.collect.documents import load_one

    url = (url or "").strip()
    if not url.startswith(("http://", "https://")):
        raise ServiceError(f"{url or 'url'}: only http(s) addresses can be added", 422)
    try:
        ensure_fetchable(url, config)
    except ValueError as e:
        raise ServiceError(str(e), 400) from None
    try:
        doc = load_one(url, config.fetch)
        return _index_loaded(store, config, doc, tags or [])
    except (NewsdeskError, ValueError) as e:
        raise ServiceError(str(e), 400) from None


# --- helpers ------------------------------------------------------------------------

