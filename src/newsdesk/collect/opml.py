"""OPML import and export of subscriptions.

Pipeline position: ``newsdesk feeds import/export``. Import reads nested
outlines (any depth); the text of the nearest enclosing category outline
(or an outline's ``category`` attribute) becomes the feed's section when it
names a configured section (case-insensitive), else the ``--section``
default. Export groups feeds by section. xml.etree (stdlib) does the parsing
and escaping; Python's expat does not resolve external entities.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Iterable

from newsdesk.errors import ConfigError


@dataclass
class OpmlFeed:
    url: str
    title: str | None
    section: str | None  # None: no configured section matched and no default given
    category: str | None = None  # the outline text it was found under


def _match(name: str | None, sections: dict[str, str]) -> str | None:
    if not name:
        return None
    return sections.get(name.strip().lower())


def parse_opml(data: bytes | str, sections: Iterable[str], default_section: str | None = None,
               source: str = "OPML") -> list[OpmlFeed]:
    """Feeds listed in an OPML document, each with its resolved section."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise ConfigError(f"{source}: not valid OPML: {e}") from None
    if root.tag.lower() != "opml":
        raise ConfigError(f"{source}: not an OPML document (root element <{root.tag}>)")
    body = root.find("body")
    if body is None:
        raise ConfigError(f"{source}: OPML has no <body>")
    known = {s.lower(): s for s in sections}
    out: list[OpmlFeed] = []
    seen: set[str] = set()

    def walk(el: ET.Element, category: str | None, section: str | None) -> None:
        for o in el.findall("outline"):
            url = (o.get("xmlUrl") or o.get("xmlurl") or o.get("XMLURL") or "").strip()
            text = (o.get("title") or o.get("text") or "").strip() or None
            if url:
                sec = section
                for cat in (o.get("category") or "").split(","):
                    m = _match(cat.strip().strip("/").split("/")[-1] if cat.strip() else None, known)
                    if m:
                        sec = m
                        break
                if url not in seen:
                    seen.add(url)
                    out.append(OpmlFeed(url, text, sec or default_section, category))
                walk(o, category, section)  # tolerate (rare) children of feed outlines
            else:
                walk(o, text or category, _match(text, known) or section)

    walk(body, None, None)
    return out


def export_opml(feeds: Iterable[tuple[str, str | None, str | None]], title: str = "newsdesk subscriptions",
                section_order: list[str] | None = None) -> str:
    """OPML 2.0 text for ``(url, title, section)`` triples, one category outline per section."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(datetime.now(timezone.utc))
    body = ET.SubElement(root, "body")
    groups: dict[str, list[tuple[str, str | None]]] = {}
    for url, name, section in feeds:
        groups.setdefault(section or "Unsorted", []).append((url, name))
    order = list(section_order or [])
    names = [s for s in order if s in groups] + sorted(s for s in groups if s not in order)
    for sec in names:
        cat = ET.SubElement(body, "outline", text=sec, title=sec)
        for url, name in groups[sec]:
            ET.SubElement(cat, "outline", type="rss", text=name or url, title=name or url, xmlUrl=url)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def read_opml_file(path: Path, sections: Iterable[str], default_section: str | None = None) -> list[OpmlFeed]:
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror or e}") from None
    return parse_opml(data, sections, default_section, source=str(path))
