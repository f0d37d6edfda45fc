"""Feed subscriptions: the config file is the source of truth; the database mirrors it.

Pipeline position: every CLI command (and the web app) calls
:func:`sync_feeds` before it works on feeds, so editing ``newsdesk.toml`` by
hand is always honoured. Commands that change subscriptions edit the TOML
with tomlkit, which keeps the user's comments and layout, and validate the
result with the normal config parser before writing it atomically.

Rules:
* a configured feed is upserted (title/section/enabled/fulltext follow the config);
* a feed in the database but no longer in the config is marked ``removed``
  (its items stay: archived briefings cite them);
* a feed disabled after ``410 Gone`` stays disabled even though the config
  still lists it as enabled (``feeds add`` of the same URL re-enables it);
* the Environment Canada weather URL (``[weather] url``) is a feed in the
  weather section, titled ``Weather — <location>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import tomlkit
from tomlkit.items import AoT, Table

from newsdesk.config import Config, parse_config
from newsdesk.fsutil import atomic_write
from newsdesk.errors import ConfigError
from newsdesk.store import SQLiteStore

REMOVED = "removed"
GONE = "410 Gone"


@dataclass
class ConfiguredFeed:
    url: str
    section: str
    title: str | None
    enabled: bool
    fulltext: bool


def configured_feeds(config: Config) -> list[ConfiguredFeed]:
    """Feeds the config subscribes to, including the weather feed."""
    out = [ConfiguredFeed(f.url, f.section, f.title, f.enabled, f.fulltext) for f in config.feeds]
    w = config.weather
    if w.provider == "environment-canada" and w.url and all(f.url != w.url for f in out):
        out.append(ConfiguredFeed(w.url, w.section, f"Weather — {w.location}", True, False))
    return out


def sync_feeds(config: Config, store: SQLiteStore) -> dict[str, int]:
    """Make the database's feed list match the config. Returns counts (``added``, ``removed``, ``kept``)."""
    wanted = configured_feeds(config)
    urls = {f.url for f in wanted}
    counts = {"added": 0, "removed": 0, "kept": 0}
    with store.transaction():
        for f in wanted:
            existing = store.get_feed_by_url(f.url)
            feed = store.upsert_feed(f.url, title=f.title, section=f.section, enabled=f.enabled,
                                     fulltext=f.fulltext)
            if existing is None:
                counts["added"] += 1
            else:
                counts["kept"] += 1
            if feed.disabled_reason == REMOVED:
                store.update_feed_state(feed.id, disabled_reason=None)
        for feed in store.list_feeds(include_disabled=True):
            if feed.url not in urls and feed.disabled_reason != REMOVED:
                store.remove_feed(feed.url)
                counts["removed"] += 1
    return counts


# --------------------------------------------------------------------------- config edits

def _load_doc(path: Path) -> tomlkit.TOMLDocument:
    try:
        return tomlkit.parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no config file; run 'newsdesk init' first") from None
    except Exception as e:  # tomlkit raises its own ParseError subclasses
        raise ConfigError(f"{path}: invalid TOML: {e}") from None


def _write_doc(path: Path, doc: tomlkit.TOMLDocument) -> None:
    """Validate, then replace the file atomically (a crash never leaves half a config)."""
    text = tomlkit.dumps(doc)
    parse_config(text, str(path))
    atomic_write(path, text)


def _feeds_aot(doc: tomlkit.TOMLDocument) -> AoT:
    feeds = doc.get("feeds")
    if feeds is None or (isinstance(feeds, list) and not isinstance(feeds, AoT) and len(feeds) == 0):
        if feeds is not None:
            del doc["feeds"]
        feeds = tomlkit.aot()
        doc["feeds"] = feeds
    if not isinstance(feeds, AoT):
        raise ConfigError("feeds: must be an array of tables ([[feeds]])")
    return feeds


def _section_names(doc: tomlkit.TOMLDocument) -> list[str]:
    return [str(s.get("name")) for s in doc.get("sections", []) if s.get("name")]


def _check_section(path: Path, doc: tomlkit.TOMLDocument, section: str) -> None:
    names = _section_names(doc)
    if names and section not in names:
        raise ConfigError(
            f"{path}: section {section!r} is not configured (known: {', '.join(names)}); "
            f"add a [[sections]] entry first"
        )


def _new_feed_table(url: str, section: str, title: str | None, fulltext: bool) -> Table:
    t = tomlkit.table()
    t["url"] = url
    t["section"] = section
    if title:
        t["title"] = title
    if fulltext:
        t["fulltext"] = True
    t.add(tomlkit.nl())
    return t


def add_feeds_to_config(path: Path, feeds: Iterable[dict[str, Any]]) -> list[str]:
    """Add several feeds (dicts with url, section, title?, fulltext?) in one write.

    Feeds whose URL is already configured are skipped. Returns the URLs added.
    """
    path = Path(path)
    doc = _load_doc(path)
    aot = _feeds_aot(doc)
    present = {str(t.get("url")) for t in aot}
    added = []
    for f in feeds:
        url = f["url"]
        if url in present:
            continue
        _check_section(path, doc, f["section"])
        aot.append(_new_feed_table(url, f["section"], f.get("title"), bool(f.get("fulltext"))))
        present.add(url)
        added.append(url)
    if added:
        _write_doc(path, doc)
    return added


def add_feed_to_config(path: Path, url: str, section: str, title: str | None = None,
                       fulltext: bool = False) -> bool:
    """Subscribe to ``url`` in ``section``. Returns False when it was already configured
    (its section/title/fulltext are then updated to the given values)."""
    path = Path(path)
    doc = _load_doc(path)
    _check_section(path, doc, section)
    aot = _feeds_aot(doc)
    for t in aot:
        if str(t.get("url")) == url:
            t["section"] = section
            if title:
                t["title"] = title
            if fulltext:
                t["fulltext"] = True
            elif "fulltext" in t:
                t["fulltext"] = False
            if "enabled" in t:
                t["enabled"] = True
            _write_doc(path, doc)
            return False
    aot.append(_new_feed_table(url, section, title, fulltext))
    _write_doc(path, doc)
    return True


def remove_feed_from_config(path: Path, url: str) -> bool:
    """Unsubscribe ``url``. Returns False when it was not configured."""
    path = Path(path)
    doc = _load_doc(path)
    feeds = doc.get("feeds")
    if not isinstance(feeds, AoT):
        return False
    for i, t in enumerate(feeds):
        if str(t.get("url")) == url:
            del feeds[i]
            if len(feeds) == 0:
                del doc["feeds"]  # an empty array of tables would be written as "feeds = []"
            _write_doc(path, doc)
            return True
    return False


def replace_feed_url_in_config(path: Path, old: str, new: str) -> bool:
    """Rewrite a subscription's URL (after a permanent redirect). Returns True if changed."""
    path = Path(path)
    doc = _load_doc(path)
    changed = False
    feeds = doc.get("feeds")
    if isinstance(feeds, AoT):
        present = {str(t.get("url")) for t in feeds}
        for i, t in enumerate(feeds):
            if str(t.get("url")) == old:
                if new in present:  # already subscribed under the new URL: drop the old entry
                    del feeds[i]
                else:
                    t["url"] = new
                changed = True
                break
    weather = doc.get("weather")
    if weather is not None and str(weather.get("url", "")) == old:
        weather["url"] = new
        changed = True
    if changed:
        _write_doc(path, doc)
    return changed


def feed_health(f: Any) -> str:
    """One word for a feed's state: ok, failing, never fetched, disabled (reason)."""
    if f.disabled_reason:
        return f"disabled ({f.disabled_reason})"
    if not f.enabled:
        return "disabled"
    if f.last_fetched_at is None:
        return "never fetched"
    return "failing" if f.consecutive_failures else "ok"


def feed_dict(f: Any) -> dict[str, Any]:
    """A feed with its health fields: the shape of ``feeds list --json`` and ``GET /api/feeds``."""
    return {
        "id": f.id, "url": f.url, "title": f.title, "section": f.section, "enabled": f.enabled,
        "fulltext": f.fulltext, "health": feed_health(f), "site_url": f.site_url,
        "last_fetched_at": f.last_fetched_at, "last_ok_at": f.last_ok_at, "last_status": f.last_status,
        "consecutive_failures": f.consecutive_failures, "last_error": f.last_error,
        "next_fetch_at": f.next_fetch_at, "disabled_reason": f.disabled_reason,
    }


def list_subscriptions(config: Config, store: Any, *, include_removed: bool = False) -> list[Any]:
    """Feeds in configured section order (synced from the config first)."""
    sync_feeds(config, store)
    feeds = [f for f in store.list_feeds(include_disabled=True) if include_removed or f.disabled_reason != REMOVED]
    order = {s.name: i for i, s in enumerate(config.ordered_sections())}
    feeds.sort(key=lambda f: (order.get(f.section or "", len(order)), (f.title or f.url).lower()))
    return feeds
