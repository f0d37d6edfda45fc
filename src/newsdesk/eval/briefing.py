"""Evaluate one briefing: is it faithful, clean, deduplicated and honest about failures?

``newsdesk eval briefing [DATE|PATH]`` runs :func:`evaluate_briefing` on a
briefing JSON (from the archive via ``newsdesk.store.briefings`` or a file) and
exits non-zero on any violation. Checks:

* ``faithfulness``: share of summary sentences found verbatim
  (``grounding.is_verbatim``) in the cleaned text of the item they name. The
  extractive path must score 1.0. Source text comes from the database, a
  ``--sources`` map (``{item_id: text}``) or text embedded in the briefing's
  source references; sentences whose source cannot be found are reported as
  ``unverified`` (and are a violation: an unverifiable claim is not grounded).
* ``entities``: leftover HTML entities (``&#8220;``, ``&nbsp;``, ``&amp;``) in
  any displayed text.
* ``mojibake``: double-encoded text (``ftfy.badness.is_bad`` plus the
  ``‚Äô`` / ``â€™`` families).
* ``duplicate_story``: two stories with the same or near-identical title, or
  sharing a source URL.
* ``invented_on_title_only``: a summary on an item whose text is empty.
* ``untraced_summary``: displayed summary text that is not one of the story's
  traced ``sentences`` (schema v1 keeps both).
* ``failed_shown_as_empty``: a section whose feeds failed but which reads as
  "No updates." (status ``no_updates``/``empty``).
* ``unmarked_flags``: a story whose source item was flagged by screening
  (``prompt_injection``, ``hidden_text``) but which does not show the flag.
* ``injection_quoted``: a summary sentence that quotes an instruction aimed
  at AI systems.
* ``schema``: a versioned briefing (``schema_version`` present) must validate
  against ``schemas/briefing.schema.json``.
* words and reading time (238 words per minute) are reported, not judged.
"""

from __future__ import annotations

import html
import re
from dataclasses import asdict, dataclass, field
from difflib import SequenceMatcher
from typing import Any, Callable, Iterator, Mapping

from ftfy.badness import is_bad

from newsdesk.guard.grounding import is_verbatim, normalize_ws

WPM = 238
_ENTITY = re.compile(r"&(?:#\d{2,7}|#[xX][0-9a-fA-F]{2,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_MOJIBAKE = re.compile(r"‚Ä[ôùúìîòëéò¶¢]|â€[™œ\x9d˜”“¦]|â€|Ã[©¨¢ª«®´¶¼½¾§±³ ]|Â[ ·°©®«»]")
_WORDY = re.compile(r"[^\W\d_]{2,}")
_TITLE_NORM = re.compile(r"[^\w]+", re.UNICODE)
NEAR_DUP_RATIO = 0.9
SCREEN_FLAGS = {"prompt_injection", "hidden_text"}
EMPTY_STATUSES = {"no_updates", "empty", "none"}
FAILED_STATUSES = {"failed", "error", "partial"}

SourceLookup = Callable[[int], "str | None"]


@dataclass
class Violation:
    check: str
    where: str
    detail: str


@dataclass
class BriefingReport:
    date: str | None
    sections: int = 0
    stories: int = 0
    sentences: int = 0
    verbatim: int = 0
    unverified: int = 0
    faithfulness: float | None = None
    words: int = 0
    reading_minutes: float = 0.0
    stated_words: int | None = None
    entities: int = 0
    mojibake: int = 0
    duplicates: int = 0
    invented_on_title_only: int = 0
    untraced: int = 0
    unmarked_flags: int = 0
    failed_sections: int = 0
    failed_shown_as_empty: int = 0
    filtered: list[dict[str, Any]] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ok"] = self.ok
        return d


def _words(text: str) -> int:
    return len(text.split())


def _summary_sentences(story: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """``(text, item_id)`` pairs; tolerates a list of strings with a story-level item id."""
    out = []
    default_id = story.get("item_id")
    if default_id is None and story.get("sources"):
        default_id = (story["sources"][0] or {}).get("item_id")
    if isinstance(story.get("sentences"), list):  # schema v1: summary text + traced sentences
        for s in story["sentences"]:
            if isinstance(s, Mapping):
                out.append((str(s.get("text") or ""), s.get("item_id", default_id)))
        return out
    summary = story.get("summary") or []
    if isinstance(summary, str):
        summary = [summary] if summary.strip() else []
    for s in summary:
        if isinstance(s, str):
            out.append((s, default_id))
        elif isinstance(s, Mapping):
            out.append((str(s.get("text") or ""), s.get("item_id", default_id)))
    return out


def _displayed_strings(briefing: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """``(where, text)`` for every string a reader sees."""
    for si, sec in enumerate(briefing.get("sections") or []):
        name = str(sec.get("name") or f"section {si}")
        yield f"section {name!r}", name
        for e in sec.get("errors") or []:
            if isinstance(e, str):
                yield f"section {name!r} error", e
            elif isinstance(e, Mapping):
                yield f"section {name!r} error", str(e.get("error") or e.get("message") or "")
        if sec.get("message"):
            yield f"section {name!r} message", str(sec["message"])
        for st in sec.get("stories") or []:
            sid = st.get("id") or st.get("title")
            yield f"story {sid!r} title", str(st.get("title") or "")
            if isinstance(st.get("summary"), str):
                yield f"story {sid!r} summary", st["summary"]
            for text, _ in _summary_sentences(st):
                yield f"story {sid!r} sentence", text
            for src in st.get("sources") or []:
                for k in ("title", "feed", "feed_title"):
                    if isinstance(src.get(k), str):
                        yield f"story {sid!r} source {k}", src[k]
    for k in ("title", "weather", "headline"):
        v = briefing.get(k)
        if isinstance(v, str):
            yield k, v
    weather = briefing.get("weather")
    if isinstance(weather, Mapping):
        for line in weather.get("lines") or []:
            if isinstance(line, str):
                yield "weather", line
    for t in briefing.get("rising_topics") or []:
        if isinstance(t, Mapping) and isinstance(t.get("term"), str):
            yield "rising topic", t["term"]


def has_entities(text: str) -> list[str]:
    """Leftover HTML entities (only ones that actually decode to something)."""
    return [m for m in _ENTITY.findall(text or "") if html.unescape(m) != m]


def has_mojibake(text: str) -> bool:
    return bool(text) and (is_bad(text) or bool(_MOJIBAKE.search(text)))


def _norm_title(t: str) -> str:
    return _TITLE_NORM.sub(" ", (t or "").casefold()).strip()


def _embedded_sources(briefing: Mapping[str, Any]) -> dict[int, str]:
    out: dict[int, str] = {}
    for sec in briefing.get("sections") or []:
        for st in sec.get("stories") or []:
            for src in st.get("sources") or []:
                if src.get("item_id") is not None and isinstance(src.get("text"), str):
                    out[int(src["item_id"])] = src["text"]
    return out


def evaluate_briefing(briefing: Mapping[str, Any], sources: SourceLookup | Mapping[Any, str] | None = None,
                      feed_failures: Mapping[str, list[str]] | None = None,
                      item_flags: Callable[[int], "list[str] | None"] | None = None) -> BriefingReport:
    """Run every check on a briefing dict.

    ``sources`` maps item id -> cleaned text (or is a lookup function).
    ``feed_failures`` maps section name -> feeds whose fetch had failed when the
    briefing was built (``store_feed_failures``); with it, a section that hides
    a failure (no errors listed, "No updates.") is caught even if the JSON
    itself is consistent. ``item_flags`` gives the screening flags stored with an
    item; a story whose sources are flagged must show those flags.
    """
    from newsdesk.guard.screen import find_injection

    embedded = _embedded_sources(briefing)
    if sources is None:
        lookup: SourceLookup = lambda i: embedded.get(int(i))  # noqa: E731
    elif isinstance(sources, Mapping):
        smap = {int(k): v for k, v in sources.items()}
        lookup = lambda i: smap.get(int(i), embedded.get(int(i)))  # noqa: E731
    else:
        fn = sources
        lookup = lambda i: (lambda t: t if t is not None else embedded.get(int(i)))(fn(int(i)))  # noqa: E731

    rep = BriefingReport(date=briefing.get("date"))
    sections = briefing.get("sections") or []
    rep.sections = len(sections)
    words = 0
    seen_titles: list[tuple[str, str]] = []
    url_owner: dict[str, str] = {}

    for sec in sections:
        name = str(sec.get("name") or "?")
        stories = sec.get("stories") or []
        status = str(sec.get("status") or ("ok" if stories else "no_updates")).lower()
        errors = sec.get("errors") or []
        failed_feeds = sec.get("failed_feeds") or []
        failed = bool(errors or failed_feeds) or status in FAILED_STATUSES
        hidden = (feed_failures or {}).get(name) or []
        if hidden and not failed:
            rep.failed_sections += 1
            rep.failed_shown_as_empty += 1
            rep.violations.append(Violation("failed_shown_as_empty", f"section {name!r}",
                                            f"feed(s) {', '.join(hidden)} failed before this briefing but the section "
                                            f"lists no error (status {status!r})"))
        elif failed:
            rep.failed_sections += 1
            if status in EMPTY_STATUSES or (not stories and status == "ok"):
                rep.failed_shown_as_empty += 1
                rep.violations.append(Violation("failed_shown_as_empty", f"section {name!r}",
                                                f"{len(errors) or len(failed_feeds)} feed(s) failed but status is {status!r}"))
        words += _words(name)
        for st in stories:
            rep.stories += 1
            sid = str(st.get("id") or st.get("title") or "?")
            title = str(st.get("title") or "")
            words += _words(title)
            # duplicates: title and shared source URLs
            nt = _norm_title(title)
            for other_id, ot in seen_titles:
                if nt and (nt == ot or SequenceMatcher(None, nt, ot).ratio() >= NEAR_DUP_RATIO):
                    rep.duplicates += 1
                    rep.violations.append(Violation("duplicate_story", f"story {sid!r}", f"title near-identical to story {other_id!r}: {title!r}"))
                    break
            seen_titles.append((sid, nt))
            urls = {u for src in st.get("sources") or [] for u in (src.get("url"), src.get("canonical_url")) if u}
            if st.get("url"):
                urls.add(st["url"])
            for u in sorted(urls):
                if u in url_owner and url_owner[u] != sid:
                    rep.duplicates += 1
                    rep.violations.append(Violation("duplicate_story", f"story {sid!r}", f"shares source URL {u} with story {url_owner[u]!r}"))
                    break
            for u in urls:
                url_owner.setdefault(u, sid)
            # the displayed summary must consist of the traced sentences and nothing else
            if isinstance(st.get("summary"), str) and isinstance(st.get("sentences"), list):
                residue = normalize_ws(st["summary"])
                for text, _ in _summary_sentences(st):
                    residue = residue.replace(normalize_ws(text), " ", 1)
                if _WORDY.search(residue):
                    rep.untraced += 1
                    rep.violations.append(Violation("untraced_summary", f"story {sid!r}",
                                                    f"summary text not backed by a traced sentence: {normalize_ws(residue)[:80]!r}"))
            # screening flags must reach the reader; injected instructions must never be quoted
            if item_flags is not None:
                shown = set(st.get("flags") or [])
                for src in st.get("sources") or []:
                    if src.get("item_id") is None:
                        continue
                    missing = {f for f in (item_flags(int(src["item_id"])) or []) if f in SCREEN_FLAGS} - shown
                    if missing:
                        rep.unmarked_flags += 1
                        rep.violations.append(Violation("unmarked_flags", f"story {sid!r}",
                                                        f"item {src['item_id']} is flagged {sorted(missing)} but the story does not show it"))
                        break
            for text, _ in _summary_sentences(st):
                phrase = find_injection(text)
                if phrase:
                    rep.violations.append(Violation("injection_quoted", f"story {sid!r}",
                                                    f"summary quotes an instruction aimed at AI systems: {phrase!r}"))
            # faithfulness and invented text
            for text, item_id in _summary_sentences(st):
                if not text.strip():
                    continue
                rep.sentences += 1
                words += _words(text)
                src = lookup(item_id) if item_id is not None else None
                if src is None:
                    rep.unverified += 1
                    rep.violations.append(Violation("unverified", f"story {sid!r}", f"no source text for item {item_id} to check: {text[:80]!r}"))
                elif not normalize_ws(src):
                    rep.invented_on_title_only += 1
                    rep.violations.append(Violation("invented_on_title_only", f"story {sid!r}",
                                                    f"item {item_id} has no text but the summary says {text[:80]!r}"))
                elif is_verbatim(text, src):
                    rep.verbatim += 1
                else:
                    rep.violations.append(Violation("faithfulness", f"story {sid!r}", f"not found verbatim in item {item_id}: {text[:80]!r}"))

    for where, text in _displayed_strings(briefing):
        ents = has_entities(text)
        if ents:
            rep.entities += len(ents)
            rep.violations.append(Violation("entities", where, f"HTML entities {sorted(set(ents))} in {text[:60]!r}"))
        if has_mojibake(text):
            rep.mojibake += 1
            rep.violations.append(Violation("mojibake", where, f"mojibake in {text[:60]!r}"))

    if briefing.get("schema_version") is not None:
        for err in schema_errors(briefing)[:10]:
            rep.violations.append(Violation("schema", "briefing", err))

    checked = rep.sentences - rep.unverified
    rep.faithfulness = round(rep.verbatim / checked, 4) if checked else (1.0 if rep.sentences == 0 else None)
    rep.words = words
    rep.reading_minutes = round(words / WPM, 1)
    stats = briefing.get("stats") or {}
    if isinstance(stats.get("words"), (int, float)):
        rep.stated_words = int(stats["words"])
    filtered = stats.get("filtered")
    if isinstance(filtered, list):
        rep.filtered = [f for f in filtered if isinstance(f, dict)]
    return rep


def schema_errors(briefing: Mapping[str, Any]) -> list[str]:
    """Validation errors against ``schemas/briefing.schema.json`` (empty when valid or no schema shipped)."""
    import json
    from importlib import resources

    try:
        schema = json.loads(resources.files("newsdesk").joinpath("schemas/briefing.schema.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, OSError):
        return []
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    out = []
    for e in sorted(validator.iter_errors(briefing), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in e.absolute_path) or "(root)"
        out.append(f"{where}: {e.message[:160]}")
    return out


def store_feed_failures(store: Any, at: str | None) -> dict[str, list[str]]:
    """Section -> feeds whose latest fetch at or before ``at`` (ISO UTC) failed, from the fetch log."""
    if not at:
        return {}
    out: dict[str, list[str]] = {}
    for feed in store.list_feeds(include_disabled=True):
        if not feed.section:
            continue
        for entry in store.fetch_log(feed_id=feed.id, limit=50):
            if (entry.get("started_at") or "") > at or entry.get("outcome") == "skipped":
                continue
            if entry.get("outcome") == "error":
                out.setdefault(feed.section, []).append(feed.name)
            break
    return out


def store_item_flags(store: Any) -> Callable[[int], "list[str] | None"]:
    """Screening flags stored with an item (``None`` when the item is unknown)."""

    def get(item_id: int) -> list[str] | None:
        item = store.get_item(int(item_id))
        return None if item is None else list(item.flags or [])

    return get


def store_lookup(store: Any) -> SourceLookup:
    """Source text from the item store (``None`` when the item is unknown)."""

    def get(item_id: int) -> str | None:
        item = store.get_item(int(item_id))
        return None if item is None else (item.text or "")

    return get
