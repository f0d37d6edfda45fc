"""Build the morning briefing: items in the store -> one briefing dict (see the JSON schema).

Pipeline position: after collect has stored items (``newsdesk brief`` fetches
first unless ``--no-fetch``), :func:`build_briefing` selects, filters,
de-duplicates, clusters, ranks and summarises; ``newsdesk.render`` turns the
dict into Markdown / HTML / JSON and ``newsdesk.store.briefings`` archives it.

Steps:

1. Window: ``now - (--since or briefing.lookback)`` .. ``now``. With
   ``--date D`` the window ends at the end of day D in ``briefing.timezone``
   instead (so with the default 24h lookback it is exactly that calendar day).
2. Candidates: items of enabled, configured feeds in the window that no
   earlier briefing reported at their current ``content_hash`` (an item
   reported before is repeated only when its content changed; a changed item
   is picked up even when it was published before the window).
3. Policy: ``guard.policy.apply_policy`` (config ``[[policy]]`` rules and
   ``briefing.mute``); decisions go to ``stats.filtered``.
4. ``cluster.dedupe`` then ``cluster.cluster``; a story belongs to the section
   of its highest-ranked item (an item appears in one section at most).
5. Ranking per section: recency (``exp(-age/24h)``), number of unique source
   domains (``+0.35 * log2``), ``briefing.boost`` keywords (``+0.5`` each in the
   title, ``+0.25`` in the lead, at most ``+1``), ``-0.3`` for a title-only
   story (nothing to summarise); the top
   ``briefing.per_section_cap`` stories are kept.
6. ``summarize.summarize`` per story (grounded extractive sentences).
7. Word budget (``briefing.word_budget``; titles + summaries + status and
   weather lines): trim summaries to two, then one sentence (lowest-ranked
   stories first), then drop the lowest-ranked stories.
8. Section status from feed health: ``failed`` (every feed failed: "Feed
   unavailable: NAME — reason"), ``partial`` (some failed: the errors and the
   other feeds' stories), ``no_updates`` (every feed fine, nothing new) or ``ok``.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from datetime import date as Date
from datetime import datetime, timedelta
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from newsdesk.brief.cluster import Cluster, cluster, dedupe, domain
from newsdesk.brief.summarize import Sentence, summarize, word_count
from newsdesk.brief.topics import BASELINE_DAYS, day_bounds, rising_topics_for
from newsdesk.config import Config, parse_duration
from newsdesk.guard.grounding import is_verbatim
from newsdesk.models import Item, iso, parse_iso, utcnow
from newsdesk.store.briefings import briefed_hashes

SCHEMA_VERSION = 1
WORDS_PER_MINUTE = 230
TITLE_ONLY_PENALTY = 0.3
MAX_SUMMARY_ITEMS = 5  # a story's summary draws on its primary item and up to four other outlets
NO_UPDATES = "No updates."
NO_FEEDS = "No feeds configured for this section."
NOTHING_FROM_OTHERS = "Nothing new from the section's other feeds."


def _fix_title(text: str) -> str:
    try:
        from newsdesk.collect.clean import fix_text, normalize_space

        return normalize_space(fix_text(text))
    except ImportError:  # pragma: no cover - collect always ships with the package
        import html

        return " ".join(html.unescape(text or "").split())


# ---------------------------------------------------------------- feed health


@dataclass
class FeedHealth:
    url: str
    name: str
    section: str
    ok: bool
    reason: str = ""
    feed_id: int | None = None

    def __post_init__(self) -> None:
        # collect's messages start with the feed URL; the section line already names the feed
        self.reason = " ".join(self.reason.removeprefix(f"{self.url}: ").split())


def _result_field(r: Any, name: str) -> Any:
    return r.get(name) if isinstance(r, dict) else getattr(r, name, None)


@dataclass
class _FeedRef:
    url: str
    section: str
    title: str | None


def configured_feeds(config: Config) -> list[_FeedRef]:
    """Enabled ``[[feeds]]`` plus the weather feed collect subscribes to (``[weather] url``)."""
    try:
        from newsdesk.collect.subscriptions import configured_feeds as _cf

        return [_FeedRef(f.url, f.section, f.title) for f in _cf(config) if f.enabled]
    except ImportError:  # pragma: no cover - collect ships with the package
        return [_FeedRef(f.url, f.section, f.title) for f in config.feeds if f.enabled]


def feed_health(store: Any, config: Config, report: Any = None) -> list[FeedHealth]:
    """Health of every enabled configured feed: from this run's collect report, else the ``feeds`` table."""
    by_url = {f.url: f for f in store.list_feeds()}
    results: dict[str, Any] = {}
    for r in (_result_field(report, "results") or []) if report is not None else []:
        results[_result_field(r, "url")] = r
    out = []
    for fc in configured_feeds(config):
        db = by_url.get(fc.url)
        name = fc.title or (db.title if db and db.title else None) or fc.url
        fid = db.id if db else None
        r = results.get(fc.url)
        outcome = _result_field(r, "outcome") if r is not None else None
        if outcome in ("ok", "not_modified"):
            out.append(FeedHealth(fc.url, name, fc.section, True, feed_id=fid))
            continue
        if outcome == "error" or (outcome == "skipped" and _result_field(r, "error")):
            # skipped this run (offline, backing off): not fetched, so never "No updates."
            err = _result_field(r, "error") or (f"HTTP {_result_field(r, 'status')}" if _result_field(r, "status") else "fetch failed")
            out.append(FeedHealth(fc.url, name, fc.section, False, str(err), fid))
            continue
        # skipped, or no report (--no-fetch): the stored state decides
        if db is None or db.last_fetched_at is None:
            if outcome == "skipped" and r is not None and _result_field(r, "error"):
                out.append(FeedHealth(fc.url, name, fc.section, False, str(_result_field(r, "error")), fid))
            else:
                out.append(FeedHealth(fc.url, name, fc.section, False, "not fetched yet", fid))
        elif db.disabled_reason:
            out.append(FeedHealth(fc.url, name, fc.section, False, f"disabled: {db.disabled_reason}", fid))
        elif db.consecutive_failures > 0 or (db.last_error and db.last_ok_at is None):
            reason = db.last_error or (f"HTTP {db.last_status}" if db.last_status else "fetch failed")
            out.append(FeedHealth(fc.url, name, fc.section, False, reason, fid))
        else:
            out.append(FeedHealth(fc.url, name, fc.section, True, feed_id=fid))
    return out


# ---------------------------------------------------------------- ranking


def _keyword_re(words: Iterable[str]) -> list[re.Pattern[str]]:
    out = []
    for w in words:
        parts = [re.escape(p) for p in w.split()]
        if parts:
            out.append(re.compile(r"(?<!\w)" + r"\s+".join(parts) + r"(?!\w)", re.IGNORECASE))
    return out


def _item_time(item: Item) -> datetime:
    return parse_iso(item.published) or parse_iso(item.first_seen) or utcnow()


def item_score(item: Item, ref: datetime, boosts: list[re.Pattern[str]]) -> float:
    age_h = max(0.0, (ref - _item_time(item)).total_seconds() / 3600)
    score = math.exp(-age_h / 24)
    lead = " ".join((item.text or "").split()[:80])
    b = 0.0
    for rx in boosts:
        if rx.search(item.title or ""):
            b += 0.5
        elif rx.search(lead):
            b += 0.25
    return score + min(b, 1.0)


def story_id(item_ids: Iterable[int]) -> str:
    """Stable id of a story: a hash of its item ids."""
    return "s-" + hashlib.sha1(",".join(str(i) for i in sorted(item_ids)).encode()).hexdigest()[:10]


@dataclass
class _Story:
    cluster: Cluster
    section: str
    score: float
    primary: Item
    domains: list[str]
    sentences: list[Sentence] = field(default_factory=list)
    all_sentences: list[Sentence] = field(default_factory=list)
    title: str = ""


# ---------------------------------------------------------------- build


def _section_list(config: Config) -> list[tuple[str, str]]:
    if config.sections:
        return [(s.name, s.emoji) for s in config.ordered_sections()]
    seen: dict[str, str] = {}
    for f in config.feeds:
        seen.setdefault(f.section, "")
    return list(seen.items())


def _as_date(d: Date | str) -> Date:
    return d if isinstance(d, Date) else Date.fromisoformat(str(d))


def _since(since: timedelta | str | None, config: Config) -> timedelta:
    if since is None:
        return config.briefing.lookback_delta
    return since if isinstance(since, timedelta) else parse_duration(str(since))


def _weather(items: list[Item], config: Config) -> dict[str, Any] | None:
    try:
        from newsdesk.brief import weather as wmod
    except ImportError:
        return None
    try:
        w = wmod.weather_from_items(items, location=config.weather.location)
    except Exception:  # a malformed weather entry must not sink the briefing
        return None
    if w is None:
        return None
    d = dict(w.to_dict()) if hasattr(w, "to_dict") else {}
    d["lines"] = [str(x) for x in wmod.weather_lines(w)]
    return d


def _source(item: Item, titles: dict[int, str]) -> dict[str, Any]:
    if item.id not in titles:
        titles[item.id] = _fix_title(item.title)
    return {
        "item_id": item.id,
        "title": titles[item.id],
        "url": item.canonical_url or item.url,
        "feed": item.feed_title or item.feed_url or "",
        "feed_id": item.feed_id,
        "domain": domain(item.canonical_url or item.url or item.feed_url),
        "published": item.published or item.first_seen,
        "content_hash": item.content_hash,
    }


def omitted_line(n: int) -> str:
    """The line a section shows for stories cut by the cap or the word budget."""
    return f"+{n} more {'story' if n == 1 else 'stories'} not shown (section cap / word budget)."


def _fixed_words(sections: list[dict[str, Any]], weather: dict[str, Any] | None, rising: list[dict[str, Any]]) -> int:
    """Words of everything shown except stories and omitted lines: errors, status messages, weather, topics."""
    n = 0
    for sec in sections:
        for e in sec["errors"]:
            n += word_count(e)
        shown = sec["_stories"] if "_stories" in sec else sec["stories"]
        if sec["status"] == "no_updates":
            n += word_count(sec["message"] or NO_UPDATES)
        elif sec["status"] == "partial" and sec["kind"] == "news" and not shown and not sec["omitted"]:
            n += word_count(NOTHING_FROM_OTHERS)
    if weather:
        n += sum(word_count(x) for x in weather.get("lines") or [])
    if rising:
        n += 2 + sum(word_count(t["term"]) for t in rising)
    return n


def count_words(b: dict[str, Any]) -> int:
    """Words a reader sees in a built briefing (titles, summaries, status/error/omitted lines, weather, topics)."""
    n = _fixed_words(b["sections"], b.get("weather"), b.get("rising_topics") or [])
    for sec in b["sections"]:
        if sec.get("omitted"):
            n += word_count(omitted_line(sec["omitted"]))
        for st in sec["stories"]:
            n += word_count(st["title"]) + word_count(st["summary"])
    return n


def build_briefing(
    store: Any,
    config: Config,
    *,
    date: Date | str | None = None,
    since: timedelta | str | None = None,
    report: Any = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Assemble today's briefing (or ``date``'s) as a dict following ``schemas/briefing.schema.json``."""
    bc = config.briefing
    tz = ZoneInfo(bc.timezone)
    now = now or utcnow()
    if date is not None:
        day = _as_date(date)
        end = day_bounds(day, tz)[1]
        start = end - _since(since, config)
        ref = min(end, now) if now > start else end
    else:
        day = now.astimezone(tz).date()
        start, end = now - _since(since, config), now + timedelta(minutes=1)
        ref = now

    sections = _section_list(config)
    weather_section = config.weather.section
    cfg_feed = {f.url: f for f in configured_feeds(config)}
    for r in (_result_field(report, "results") or []) if report is not None else []:
        moved, old_url = _result_field(r, "redirected_to"), _result_field(r, "url")
        if moved and old_url in cfg_feed:  # a permanent redirect renamed the feed during this run
            cfg_feed.setdefault(moved, cfg_feed[old_url])
    health = feed_health(store, config, report)

    def in_window(it: Item) -> bool:
        t = _item_time(it)
        return start <= t < end

    # items of enabled, configured feeds; the config decides the section
    window_items = [it for it in store.list_items(since=start) if it.feed_url in cfg_feed and in_window(it)]
    for it in window_items:
        it.section = cfg_feed[it.feed_url].section
    briefed = briefed_hashes(store)
    pool = {it.id: it for it in window_items}
    if date is None:  # changed items reported earlier come back even when published before the window
        for it in store.list_items(updated_since=start):
            if it.feed_url in cfg_feed and it.id in briefed and briefed[it.id] != it.content_hash:
                it.section = cfg_feed[it.feed_url].section
                pool.setdefault(it.id, it)

    weather_items = [it for it in pool.values() if it.section == weather_section]
    weather = _weather(sorted(weather_items, key=_item_time, reverse=True), config) if weather_items else None
    candidates = [
        it for it in pool.values()
        if it.section != weather_section and briefed.get(it.id) != it.content_hash
    ]
    candidates.sort(key=lambda it: (_item_time(it), it.id), reverse=True)
    items_considered = len(candidates)

    # policy / mute
    filtered: list[dict[str, Any]] = []
    try:
        from newsdesk.guard.policy import apply_policy

        kept, decisions = apply_policy(candidates, config)
        for d in decisions:
            dd = d.to_dict() if hasattr(d, "to_dict") else dict(d)
            filtered.append({k: dd.get(k) for k in ("item_id", "title", "rule", "action", "reason")})
    except ImportError:  # pragma: no cover - the guard package ships with newsdesk
        mutes = _keyword_re(bc.mute)
        kept = []
        for it in candidates:
            hit = next((rx for rx in mutes if rx.search(f"{it.title}\n{it.text}")), None)
            if hit:
                filtered.append({"item_id": it.id, "title": it.title, "rule": "mute", "action": "drop",
                                 "reason": f'keyword "{hit.pattern}"'})
            else:
                kept.append(it)

    groups, duplicates_removed = dedupe(kept)
    clusters, merges = cluster(groups)

    boosts = _keyword_re(bc.boost)
    stories: list[_Story] = []
    for c in clusters:
        scored = sorted(((item_score(it, ref, boosts), it) for it in c.items), key=lambda p: (-p[0], p[1].id))
        best_score, best = scored[0]
        # primary: the representative of the group holding the best-ranked item
        primary = next(g.rep for g in c.groups if best in g.items)
        domains = sorted({domain(it.url or it.canonical_url or it.feed_url) or (it.feed_title or "") for it in c.items})
        score = best_score + 0.35 * math.log2(max(1, len(domains)))
        if not any((it.text or "").strip() for it in c.items):
            score -= TITLE_ONLY_PENALTY  # nothing to summarise: a headline alone ranks below real stories
        stories.append(_Story(c, best.section or "", score, primary, domains))

    by_section: dict[str, list[_Story]] = {}
    for st in stories:
        by_section.setdefault(st.section, []).append(st)
    omitted: dict[str, int] = {}
    for name in by_section:
        by_section[name].sort(key=lambda s: (-s.score, -s.primary.id))
        omitted[name] = max(0, len(by_section[name]) - bc.per_section_cap)
        by_section[name] = by_section[name][: bc.per_section_cap]

    # summaries
    for lst in by_section.values():
        for st in lst:
            st.title = _fix_title(st.primary.title)
            reps = ([st.primary] + [g.rep for g in st.cluster.groups if g.rep is not st.primary])[:MAX_SUMMARY_ITEMS]
            texts = [(it.id, it.text or "") for it in reps]
            st.all_sentences = summarize(texts, st.title, max_words=bc.summary_words, max_sentences=bc.summary_sentences)
            st.sentences = list(st.all_sentences)

    # assemble sections
    out_sections: list[dict[str, Any]] = []
    for name, emoji in sections:
        sec_feeds = [h for h in health if h.section == name]
        failed = [h for h in sec_feeds if not h.ok]
        errors = [f"Feed unavailable: {h.name} — {h.reason}" for h in failed]
        sec: dict[str, Any] = {"name": name, "emoji": emoji, "kind": "news", "status": "ok", "errors": errors,
                               "message": None, "stories": [], "omitted": omitted.get(name, 0)}
        if name == weather_section:
            sec["kind"] = "weather"
            sec["omitted"] = 0
            has = weather is not None
            sec["status"] = _status(len(sec_feeds), len(failed), has)
            if not sec_feeds and not has:
                sec["message"] = NO_FEEDS
            out_sections.append(sec)
            continue
        sec["_stories"] = by_section.get(name, [])
        sec["status"] = _status(len(sec_feeds), len(failed), bool(sec["_stories"]))
        if not sec_feeds:
            sec["message"] = NO_FEEDS
        out_sections.append(sec)

    rising: list[dict[str, Any]] = []
    if bc.rising_topics:
        hist_start = day_bounds(day - timedelta(days=BASELINE_DAYS), tz)[0]
        day_start, day_end = day_bounds(day, tz)
        docs = [
            (_item_time(it), it.title or "", it.text or "")
            for it in store.list_items(since=hist_start)
            if it.feed_url in cfg_feed and cfg_feed[it.feed_url].section != weather_section
            and _item_time(it) < day_end
        ]
        rising = [t.to_dict() for t in rising_topics_for(docs, day, tz)]

    def live_words() -> int:
        """Words as they will be shown, computed from the working stories (cheap; runs in the budget loop)."""
        n = _fixed_words(out_sections, weather, rising)
        for sec in out_sections:
            if sec["omitted"]:
                n += word_count(omitted_line(sec["omitted"]))
            for st in sec.get("_stories", []):
                n += word_count(st.title) + sum(word_count(x.text) for x in st.sentences)
        return n

    # word budget: shrink summaries (lowest-ranked first), then drop stories
    budget = bc.word_budget
    words = live_words()
    ranked = sorted((st for sec in out_sections for st in sec.get("_stories", [])), key=lambda s: s.score)
    for keep in (2, 1):
        for st in ranked:
            if words <= budget:
                break
            if len(st.sentences) > keep:
                st.sentences = _trim(st.sentences, keep)
                words = live_words()
    while words > budget and ranked:
        victim = ranked.pop(0)
        for sec in out_sections:
            if victim in sec.get("_stories", []):
                sec["_stories"].remove(victim)
                sec["omitted"] += 1
        words = live_words()

    titles_cache: dict[int, str] = {}
    for sec in out_sections:
        if "_stories" in sec:
            sec["stories"] = [_story_dict(st, titles_cache) for st in sec["_stories"]]
    final_sections = out_sections
    for sec in final_sections:
        if "_stories" in sec:
            if not sec["_stories"] and sec["status"] == "ok" and not sec["omitted"]:
                sec["status"] = "no_updates"
            del sec["_stories"]
        if sec["status"] == "no_updates" and not sec["message"]:
            sec["message"] = NO_UPDATES
        elif sec["status"] == "partial" and not sec["stories"] and not sec["omitted"] and sec["kind"] == "news":
            sec["message"] = NOTHING_FROM_OTHERS
    words = count_words({"sections": final_sections, "weather": weather, "rising_topics": rising})

    sentences = [s for sec in final_sections for st in sec["stories"] for s in st["sentences"]]
    texts = {it.id: it.text or "" for it in pool.values()}
    verbatim = sum(1 for s in sentences if is_verbatim(s["text"], texts.get(s["item_id"], "")))
    feeds_failed = sum(1 for h in health if not h.ok)
    local_now = now.astimezone(tz)
    return {
        "schema_version": SCHEMA_VERSION,
        "date": day.isoformat(),
        "generated_at": iso(now),
        "generated_local": local_now.strftime("%Y-%m-%d %H:%M"),
        "timezone": bc.timezone,
        "window": {"start": iso(start), "end": iso(min(end, now) if date is None else end)},
        "tags": list(bc.tags),
        "sections": final_sections,
        "weather": weather,
        "rising_topics": rising,
        "_seen": [[it.id, it.content_hash, it.section] for it in candidates],
        "stats": {
            "items_considered": items_considered,
            "duplicates_removed": duplicates_removed,
            "clusters_merged": merges,
            "stories": sum(len(s["stories"]) for s in final_sections),
            "feeds_ok": sum(1 for h in health if h.ok),
            "feeds_failed": feeds_failed,
            "words": words,
            "word_budget": budget,
            "reading_minutes": max(1, math.ceil(words / WORDS_PER_MINUTE)) if words else 0,
            "summary_sentences": len(sentences),
            "faithfulness": round(verbatim / len(sentences), 4) if sentences else 1.0,
            "filtered": filtered,
        },
    }


def _status(n_feeds: int, n_failed: int, has_content: bool) -> str:
    if n_feeds and n_failed == n_feeds:
        return "failed"
    if n_failed:
        return "partial"
    return "ok" if has_content else "no_updates"


def _trim(sentences: list[Sentence], keep: int) -> list[Sentence]:
    """Keep the first ``keep`` sentences in reading order (the lead carries the story)."""
    return sentences[:keep]


def _story_dict(st: _Story, titles: dict[int, str]) -> dict[str, Any]:
    items = [st.primary] + [it for it in st.cluster.items if it is not st.primary]
    flags: list[str] = []
    for it in items:
        for f in it.flags or []:
            if f not in flags:
                flags.append(f)
    return {
        "id": story_id(it.id for it in items),
        "title": st.title,
        "url": st.primary.canonical_url or st.primary.url,
        "summary": " ".join(s.text for s in st.sentences),
        "sentences": [s.to_dict() for s in st.sentences],
        "sources": [_source(it, titles) for it in items],
        "source_count": len(st.domains),
        "flags": flags,
        "score": round(st.score, 4),
        "published": st.primary.published or st.primary.first_seen,
    }
