"""Full-text extraction for teaser feeds (``fulltext = true`` in the config).

Pipeline position: ``run.py`` calls :func:`enrich_records` for new items of
feeds marked ``fulltext`` whose entry is only a teaser; the article page is
fetched with the same :class:`~newsdesk.collect.fetch.Fetcher` (size cap,
timeouts, User-Agent) and its main text extracted with trafilatura, which
strips navigation, comments and boilerplate better than any hand-written
heuristic. The feed's own text is kept when extraction fails or is shorter.
"""

from __future__ import annotations

import html as _html
import re
from typing import Callable

import trafilatura

from newsdesk.collect.clean import content_hash, fix_text, html_to_text, sanitize_html
from newsdesk.collect.fetch import Fetcher
from newsdesk.errors import FeedError
from newsdesk.models import ItemRecord

#: Entries shorter than this (characters of text) count as teasers.
TEASER_CHARS = 600
_TEASER_END = re.compile(r"(\[(?:…|\.\.\.)\]|…|\.\.\.|read more|continue reading)\s*$", re.I)


def is_teaser(record: ItemRecord) -> bool:
    """True when the entry carries only a summary of the article."""
    text = record.text.strip()
    return len(text) < TEASER_CHARS or bool(_TEASER_END.search(text))


def extract_main_text(html: str, url: str | None = None) -> str:
    """Main article text of a web page (trafilatura), cleaned; "" when nothing usable is found."""
    try:
        out = trafilatura.extract(html, url=url, include_comments=False, include_tables=False,
                                  favor_precision=True, deduplicate=True)
    except Exception:  # trafilatura can raise on pathological markup
        out = None
    if not out:
        return ""
    paras = [" ".join(fix_text(p).split()) for p in re.split(r"\n\s*\n|\n", out)]
    return "\n\n".join(p for p in paras if p)


def enrich_record(record: ItemRecord, fetcher: Fetcher) -> tuple[bool, str | None]:
    """Replace a teaser's text with the article's main text. Returns ``(changed, error)``."""
    if not record.url:
        return False, None
    try:
        resp = fetcher.fetch(record.url, accept="text/html,application/xhtml+xml;q=0.9,*/*;q=0.1")
    except FeedError as e:
        return False, str(e)
    from newsdesk.collect.parse import decode_body

    page, _ = decode_body(resp.body, resp.content_type)
    text = extract_main_text(page, resp.final_url)
    if len(text) <= len(record.text):
        return False, None
    record.text = text
    record.content_html = sanitize_html(
        "".join(f"<p>{_html.escape(p)}</p>" for p in text.split("\n\n")), base_url=resp.final_url
    )
    record.content_hash = content_hash(record.title, text)
    return True, None


def enrich_records(records: list[ItemRecord], fetcher: Fetcher, *, limit: int = 10,
                   should: Callable[[ItemRecord], bool] = is_teaser) -> tuple[int, list[str]]:
    """Enrich up to ``limit`` teaser records in place. Returns ``(count_enriched, errors)``."""
    done, errors = 0, []
    for r in records:
        if done + len(errors) >= limit:
            break
        if not should(r):
            continue
        changed, err = enrich_record(r, fetcher)
        if err:
            errors.append(err)
        elif changed:
            done += 1
    return done, errors


__all__ = ["enrich_record", "enrich_records", "extract_main_text", "is_teaser", "html_to_text"]
