"""Briefing archive queries (tables from migration 0002).

Pipeline position: ``newsdesk.brief.build`` reads :func:`briefed_hashes` to
skip items already reported; ``newsdesk brief`` saves every run with
:func:`save_briefing`; the web app and ``newsdesk brief --list`` read the archive
with :func:`list_briefings` / :func:`get_briefing` / :func:`get_story`.

All SQL for briefings lives here (not in ``sqlite.py``) so a PostgreSQL store can
provide the same functions.
"""

from __future__ import annotations

import json
from typing import Any

from newsdesk.models import iso, utcnow
from newsdesk.store.sqlite import SQLiteStore


def _story_count(b: dict[str, Any]) -> int:
    return sum(len(s.get("stories") or []) for s in b.get("sections") or [])


def save_briefing(store: SQLiteStore, briefing: dict[str, Any], *, run_id: int | None = None) -> int:
    """Archive a briefing (never overwrites: a second run of a date gets the next ``seq``).

    Also records every item the briefing reported (``briefing_items``), including
    near-duplicates folded into a story, with the content hash it had, and the
    candidates it saw but did not report (``briefing["_seen"]``: ``[item_id,
    content_hash, section]`` triples, stored with ``story_index = -1``); private
    ``_`` keys are removed from the dict. Sets ``briefing["seq"]`` and returns the
    new row id.
    """
    seen_items = briefing.pop("_seen", None) or []
    for key in [k for k in briefing if k.startswith("_")]:
        briefing.pop(key)
    date = briefing["date"]
    generated_at = briefing.get("generated_at") or iso(utcnow())
    words = int((briefing.get("stats") or {}).get("words") or 0)
    with store.transaction() as c:
        seq = c.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM briefings WHERE date = ?", (date,)).fetchone()[0]
        briefing["seq"] = seq
        bid = c.execute(
            "INSERT INTO briefings (date, seq, generated_at, json, words, stories, run_id) VALUES (?,?,?,?,?,?,?)",
            (date, seq, generated_at, "{}", words, _story_count(briefing), run_id),
        ).lastrowid
        seen: set[int] = set()
        for pos, sec in enumerate(briefing.get("sections") or []):
            c.execute(
                "INSERT INTO briefing_sections (briefing_id, position, name, status, stories, errors) VALUES (?,?,?,?,?,?)",
                (bid, pos, sec["name"], sec["status"], len(sec.get("stories") or []),
                 json.dumps(sec.get("errors") or [], ensure_ascii=False)),
            )
            for idx, story in enumerate(sec.get("stories") or []):
                for ref in story.get("sources") or []:
                    item_id = int(ref["item_id"])
                    if item_id in seen:
                        continue
                    seen.add(item_id)
                    c.execute(
                        "INSERT INTO briefing_items (briefing_id, item_id, content_hash, section, story_index, story_id) "
                        "SELECT ?, id, ?, ?, ?, ? FROM items WHERE id = ?",
                        (bid, ref.get("content_hash") or "", sec["name"], idx, story["id"], item_id),
                    )
        # items that were candidates but not reported (cut by the section cap or the word budget,
        # dropped by policy): seen, so tomorrow's briefing does not serve them as news
        for item_id, content_hash, section in seen_items:
            if int(item_id) in seen:
                continue
            seen.add(int(item_id))
            c.execute(
                "INSERT INTO briefing_items (briefing_id, item_id, content_hash, section, story_index, story_id) "
                "SELECT ?, id, ?, ?, -1, '' FROM items WHERE id = ?",
                (bid, content_hash or "", section or "", int(item_id)),
            )
        c.execute("UPDATE briefings SET json = ? WHERE id = ?", (json.dumps(briefing, ensure_ascii=False), bid))
    return int(bid)


def list_briefings(store: SQLiteStore, *, limit: int | None = None) -> list[dict[str, Any]]:
    """Archive index, newest first: ``date, seq, generated_at, words, stories``."""
    sql = "SELECT id, date, seq, generated_at, words, stories, run_id FROM briefings ORDER BY date DESC, seq DESC"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return [dict(r) for r in store.query(sql)]


def get_briefing(store: SQLiteStore, date: str, seq: int | None = None) -> dict[str, Any] | None:
    """The briefing of ``date`` (the latest run of that date unless ``seq`` is given), or None."""
    if seq is None:
        rows = store.query("SELECT json FROM briefings WHERE date = ? ORDER BY seq DESC LIMIT 1", (date,))
    else:
        rows = store.query("SELECT json FROM briefings WHERE date = ? AND seq = ?", (date, seq))
    return json.loads(rows[0]["json"]) if rows else None


def latest_briefing(store: SQLiteStore) -> dict[str, Any] | None:
    """The most recent briefing in the archive, or None."""
    rows = store.query("SELECT json FROM briefings ORDER BY date DESC, seq DESC LIMIT 1")
    return json.loads(rows[0]["json"]) if rows else None


def get_story(store: SQLiteStore, date: str, story_id: str, seq: int | None = None) -> dict[str, Any] | None:
    """One story (with its ``section`` name added) from the briefing of ``date``, or None."""
    b = get_briefing(store, date, seq)
    if not b:
        return None
    for sec in b.get("sections") or []:
        for story in sec.get("stories") or []:
            if story.get("id") == story_id:
                return {**story, "section": sec["name"]}
    return None


def briefed_hashes(store: SQLiteStore) -> dict[int, str]:
    """``item_id -> content_hash`` as last reported by any briefing."""
    rows = store.query(
        "SELECT bi.item_id, bi.content_hash FROM briefing_items bi "
        "JOIN (SELECT item_id, MAX(briefing_id) AS bid FROM briefing_items GROUP BY item_id) last "
        "ON last.item_id = bi.item_id AND last.bid = bi.briefing_id"
    )
    return {int(r["item_id"]): r["content_hash"] for r in rows}


def delete_briefing(store: SQLiteStore, date: str, seq: int) -> bool:
    """Remove one archived run (its items become eligible again)."""
    with store.transaction() as c:
        return c.execute("DELETE FROM briefings WHERE date = ? AND seq = ?", (date, seq)).rowcount > 0
