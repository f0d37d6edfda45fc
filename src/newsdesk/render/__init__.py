"""Render a briefing dict (``newsdesk.brief.build``) as Markdown, HTML or JSON.

Pipeline position: the last stage of ``newsdesk brief``; the web app and email
delivery reuse :func:`render_html`, the Obsidian vault export reuses
:func:`render_markdown`.

* Markdown: YAML front matter (date, tags, counts) for Obsidian, then the
  familiar layout (title line, date, inline tags, sections with emoji, linked
  headlines, summaries, sources and "N sources"). Text is escaped so feed
  titles cannot inject Markdown links, emphasis or Obsidian tags.
* HTML: one standalone file from ``templates/briefing.html.j2`` (Jinja2,
  autoescape on): inline CSS only (email clients strip ``<head>`` styles and
  external assets), no scripts; ``color-scheme: light dark`` plus a
  ``prefers-color-scheme`` block as progressive enhancement.
* JSON: the dict itself, UTF-8, indented (validates against
  ``schemas/briefing.schema.json``).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import lru_cache
from typing import Any

import yaml

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")
_MD_TAG = re.compile(r"(^|\s)#(?=\w)")
_MD_BULLET = re.compile(r"^(\s*)([-+=>])(\s)")
_MD_ORDERED = re.compile(r"^(\s*\d+)\.(\s)")


def md_escape(text: str) -> str:
    """Escape text for Markdown/Obsidian: emphasis, links, HTML, tables and #tags become literal."""
    t = _MD_SPECIAL.sub(r"\\\1", text or "")
    t = _MD_TAG.sub(r"\1\\#", t)
    t = _MD_BULLET.sub(r"\1\\\2\3", t)
    return _MD_ORDERED.sub(r"\1\\.\2", t)


def md_url(url: str | None) -> str:
    return (url or "").replace(" ", "%20").replace("(", "%28").replace(")", "%29").replace("<", "%3C").replace(">", "%3E")


def title_line(b: dict[str, Any]) -> str:
    """``✅ Morning News Briefing – November 21, 2026 06:30`` (⚠️ when some feeds failed)."""
    local = datetime.strptime(b["generated_local"], "%Y-%m-%d %H:%M")
    day = datetime.strptime(b["date"], "%Y-%m-%d")
    mark = "⚠️" if b["stats"].get("feeds_failed") else "✅"
    when = f"{day.strftime('%B')} {day.day}, {day.year}"
    if local.date() == day.date():  # a briefing built later for a past date shows no misleading time
        when += f" {local.strftime('%H:%M')}"
    return f"{mark} Morning News Briefing – {when}"


def tag_line(b: dict[str, Any]) -> str:
    return " ".join("#" + re.sub(r"[^\w/-]", "", t) for t in b.get("tags") or [] if t)


def stats_line(b: dict[str, Any]) -> str:
    s = b["stats"]
    return (
        f"{s['stories']} stories · {s['items_considered']} items considered · "
        f"{s['duplicates_removed']} duplicates removed · {s.get('clusters_merged', 0)} merged · "
        f"{s['feeds_ok']} feeds ok · {s['feeds_failed']} failed · {s['words']} words "
        f"(~{s.get('reading_minutes', 0)} min)"
    )


def sources_text(story: dict[str, Any]) -> str:
    n = story["source_count"]
    return f"{n} source" if n == 1 else f"{n} sources"


def omitted_text(n: int) -> str:
    from newsdesk.brief.build import omitted_line

    return omitted_line(n)


def _source_label(src: dict[str, Any]) -> str:
    return src.get("feed") or src.get("domain") or src.get("url") or "source"


def render_markdown(b: dict[str, Any]) -> str:
    """Obsidian-ready Markdown."""
    s = b["stats"]
    front = {
        "date": b["date"],
        "generated": b["generated_at"],
        "tags": list(b.get("tags") or []),
        "stories": s["stories"],
        "words": s["words"],
        "reading_minutes": s.get("reading_minutes", 0),
        "items_considered": s["items_considered"],
        "duplicates_removed": s["duplicates_removed"],
        "feeds_ok": s["feeds_ok"],
        "feeds_failed": s["feeds_failed"],
    }
    if b.get("seq"):
        front["seq"] = b["seq"]
    out = ["---", yaml.safe_dump(front, allow_unicode=True, sort_keys=False).strip(), "---", ""]
    out += [title_line(b), "", f"📅 Date: {b['generated_local']}"]
    if b.get("tags"):
        out.append(f"🏷️ Tags: {tag_line(b)}")
    out += ["", "⸻", ""]
    for sec in b["sections"]:
        head = f"{sec['emoji']} {sec['name']}".strip()
        out.append(f"## {md_escape(head)}")
        for e in sec["errors"]:
            out.append(f"• ⚠️ {md_escape(e)}")
        if sec.get("kind") == "weather" and b.get("weather"):
            for line in b["weather"].get("lines") or []:
                out.append(f"• {md_escape(line)}")
        for st in sec["stories"]:
            title = md_escape(st["title"])
            out.append(f"• **[{title}]({md_url(st['url'])})**" if st.get("url") else f"• **{title}**")
            if st["summary"]:
                out.append(f"  {md_escape(st['summary'])}")
            links = " · ".join(
                f"[{md_escape(_source_label(src))}]({md_url(src['url'])})" if src.get("url") else md_escape(_source_label(src))
                for src in _unique_sources(st)
            )
            out.append(f"  Sources: {links} — {sources_text(st)}")
            if st.get("flags"):
                out.append(f"  ⚠ flagged: {md_escape(', '.join(st['flags']))}")
        if sec.get("omitted"):
            out.append(f"_{omitted_text(sec['omitted'])}_")
        if sec.get("message") and not sec["stories"] and not (sec.get("kind") == "weather" and b.get("weather")):
            if sec["status"] != "failed":
                out.append(md_escape(sec["message"]))
        out.append("")
    if b.get("rising_topics"):
        terms = ", ".join(f"{md_escape(t['term'])} ({t['count']})" for t in b["rising_topics"])
        out += [f"📈 Rising topics: {terms}", ""]
    out += ["⸻", "", f"📊 {stats_line(b)}", ""]
    return "\n".join(out)


def _unique_sources(story: dict[str, Any]) -> list[dict[str, Any]]:
    """Sources for display: one entry per (feed, url)."""
    seen, out = set(), []
    for src in story["sources"]:
        key = (src.get("feed"), src.get("url"))
        if key not in seen:
            seen.add(key)
            out.append(src)
    return out


@lru_cache(maxsize=1)
def _env():  # type: ignore[no-untyped-def]
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("newsdesk.render", "templates"),
        autoescape=select_autoescape(["html", "j2", "html.j2"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(title_line=title_line, tag_line=tag_line, stats_line=stats_line,
                       sources_text=sources_text, omitted_text=omitted_text, unique_sources=_unique_sources, source_label=_source_label)
    return env


def render_html(b: dict[str, Any]) -> str:
    """Standalone, email-safe HTML (inline CSS, no scripts, no external assets)."""
    return _env().get_template("briefing.html.j2").render(b=b)


def public(b: dict[str, Any]) -> dict[str, Any]:
    """The briefing without private ``_`` keys (bookkeeping for the archive)."""
    return {k: v for k, v in b.items() if not k.startswith("_")}


def render_json(b: dict[str, Any]) -> str:
    return json.dumps(public(b), ensure_ascii=False, indent=2) + "\n"


def render(b: dict[str, Any], fmt: str) -> str:
    """``fmt`` is ``md``, ``html`` or ``json``."""
    if fmt == "md":
        return render_markdown(b)
    if fmt == "html":
        return render_html(b)
    if fmt == "json":
        return render_json(b)
    raise ValueError(f"unknown format {fmt!r} (md, html or json)")


def briefing_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) every briefing validates against."""
    from importlib.resources import files

    return json.loads(files("newsdesk").joinpath("schemas/briefing.schema.json").read_text(encoding="utf-8"))


def validate_briefing(b: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` when ``b`` does not follow the schema."""
    import jsonschema

    jsonschema.Draft202012Validator(briefing_schema()).validate(public(b))
