"""Document loaders for "Ask your desk": PDF, Markdown/text, HTML, web pages, YouTube transcripts.

Pipeline position: **load** -> chunk (``ask.chunk``) -> embed -> index.

Each loader returns a :class:`LoadedDocument`: title, metadata, a publication
date (and year, used by filters), and *segments* carrying provenance (PDF page
numbers, Markdown section headings). A file that cannot be read raises
:class:`~newsdesk.errors.DocumentError` with one line naming it; callers
(``load_paths``) report it and carry on with the other inputs.

Dates, in order of preference: ``published``/``date`` in the front matter or
the PDF metadata; a year in the title or file name; the file's mtime. Where the
date came from is kept in ``metadata["date_source"]`` so that year-scoped
questions only trust real dates.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import parse_qs, urlparse

import yaml

from newsdesk.ask.chunk import Segment
from newsdesk.errors import DocumentError
from newsdesk.models import iso

TEXT_EXT = {".md", ".markdown", ".txt", ".text", ".rst"}
HTML_EXT = {".html", ".htm", ".xhtml"}
PDF_EXT = {".pdf"}
SUPPORTED_EXT = TEXT_EXT | HTML_EXT | PDF_EXT

_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.M)
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_YT_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")


@dataclass
class LoadedDocument:
    """A document as loaded, before chunking."""

    source: str  # absolute path, URL or youtube:ID: the document's identity
    title: str
    segments: list[Segment]
    url: str | None = None
    kind: str = "document"
    tags: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    published: str | None = None
    year: int | None = None
    html: str | None = None  # original HTML, for hidden-text screening

    @property
    def text(self) -> str:
        return "\n\n".join(s.text for s in self.segments)

    @property
    def content_hash(self) -> str:
        h = hashlib.sha256()
        h.update(self.title.encode("utf-8"))
        for s in self.segments:
            h.update(f"\x00{s.page}\x00{s.heading}\x00".encode("utf-8"))
            h.update(s.text.encode("utf-8"))
        h.update(repr(sorted(self.tags)).encode("utf-8"))
        h.update(repr(self.published).encode("utf-8"))
        h.update(repr(self.url).encode("utf-8"))
        return h.hexdigest()


# --------------------------------------------------------------------------- dates

def _parse_date(value: Any) -> datetime | None:
    """A datetime from front-matter/PDF values: date, datetime, ISO text, ``D:YYYYMMDD...``, ``YYYY``."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    if isinstance(value, int) and 1900 <= value <= 2100:
        return datetime(value, 1, 1, tzinfo=timezone.utc)
    s = str(value).strip()
    m = re.match(r"^D:(\d{4})(\d{2})?(\d{2})?", s)
    if m:
        return datetime(int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1), tzinfo=timezone.utc)
    if re.fullmatch(r"\d{4}", s):
        return datetime(int(s), 1, 1, tzinfo=timezone.utc)
    if re.fullmatch(r"\d{4}-\d{2}", s):
        return datetime(int(s[:4]), int(s[5:7]), 1, tzinfo=timezone.utc)
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        try:
            from email.utils import parsedate_to_datetime

            dt = parsedate_to_datetime(s)
        except (TypeError, ValueError):
            return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def resolve_date(doc: LoadedDocument, explicit: Any = None, *, hint_text: str = "",
                 mtime: float | None = None) -> None:
    """Set ``published``, ``year`` and ``metadata['date_source']`` on ``doc``."""
    dt = _parse_date(explicit)
    if dt is not None:
        doc.published, doc.year = iso(dt), dt.year
        doc.metadata["date_source"] = "metadata"
        return
    m = _YEAR.search(f"{doc.title} {hint_text}")
    if m:
        y = int(m.group(1))
        doc.published, doc.year = iso(datetime(y, 1, 1, tzinfo=timezone.utc)), y
        doc.metadata["date_source"] = "title"
        return
    if mtime is not None:
        dt = datetime.fromtimestamp(mtime, tz=timezone.utc)
        doc.published, doc.year = iso(dt), dt.year
        doc.metadata["date_source"] = "mtime"


# --------------------------------------------------------------------------- text helpers

def _fix(text: str) -> str:
    try:
        from newsdesk.collect.clean import fix_text
    except ImportError:  # pragma: no cover
        return text
    return fix_text(text)


def _tidy(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"[ \t\u00a0]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def _tags(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = re.split(r"[,\s]+", value)
    return [str(t).strip().lstrip("#") for t in value if str(t).strip()]


def split_front_matter(text: str, name: str = "") -> tuple[dict[str, Any], str]:
    """``(metadata, body)``; a YAML error names the file."""
    m = _FRONT.match(text)
    if not m:
        return {}, text
    try:
        meta = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError as e:
        line = getattr(getattr(e, "problem_mark", None), "line", None)
        where = f" (line {line + 2})" if line is not None else ""
        raise DocumentError(f"{name}: invalid YAML front matter{where}") from None
    if not isinstance(meta, dict):
        raise DocumentError(f"{name}: front matter is not a mapping")
    return meta, text[m.end():]


def markdown_segments(body: str) -> list[Segment]:
    """Split Markdown on headings; each segment keeps its heading (and the heading line, for search)."""
    segs: list[Segment] = []
    pos, heading = 0, None
    for m in _HEADING.finditer(body):
        chunk = _tidy(body[pos:m.start()])
        if chunk:
            segs.append(Segment(chunk, heading=heading))
        heading, pos = m.group(2).strip(), m.start()
    chunk = _tidy(body[pos:])
    if chunk:
        segs.append(Segment(chunk, heading=heading))
    return segs


def _apply_meta(doc: LoadedDocument, meta: dict[str, Any]) -> Any:
    """Copy front-matter fields onto the document; returns the explicit date, if any."""
    if meta.get("title"):
        doc.title = str(meta["title"]).strip()
    doc.tags = _tags(meta.get("tags"))
    link = meta.get("video_url") or meta.get("url") or meta.get("link") or meta.get("source_url")
    if link:
        doc.url = str(link)
    for k, v in meta.items():
        if k in ("title", "tags"):
            continue
        doc.metadata[k] = v if isinstance(v, (str, int, float, bool, list, dict, type(None))) else str(v)
    return meta.get("published") or meta.get("date")


# --------------------------------------------------------------------------- loaders

def load_text(path: Path, text: str | None = None) -> LoadedDocument:
    """Markdown or plain text, with optional YAML front matter."""
    if text is None:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            text = path.read_bytes().decode("latin-1")
        except OSError as e:
            raise DocumentError(f"{path}: cannot read: {e.strerror or e}") from None
    meta, body = split_front_matter(text, str(path))
    body = _fix(body)
    doc = LoadedDocument(source=str(path), title=path.stem.replace("_", " ").replace("-", " ").strip(), segments=[])
    explicit = _apply_meta(doc, meta)
    if not meta.get("title"):
        h = _HEADING.search(body)
        if h and h.group(1) == "#":
            doc.title = h.group(2).strip()
    doc.segments = markdown_segments(body) if path.suffix.lower() in {".md", ".markdown"} or _HEADING.search(body) \
        else [Segment(_tidy(body))]
    if not any(s.text for s in doc.segments):
        raise DocumentError(f"{path}: no text")
    resolve_date(doc, explicit, hint_text=path.name, mtime=_mtime(path))
    if "video_id" in meta:
        doc.metadata.setdefault("type", "transcript")
    return doc


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def load_pdf(path: Path, data: bytes | None = None) -> LoadedDocument:
    """PDF via pypdf; one segment per page (page numbers from 1)."""
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        raw = data if data is not None else path.read_bytes()
    except OSError as e:
        raise DocumentError(f"{path}: cannot read: {e.strerror or e}") from None
    try:
        reader = PdfReader(io.BytesIO(raw), strict=False)
        info = reader.metadata or {}
        pages = [p.extract_text() or "" for p in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError, IndexError, AssertionError) as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise DocumentError(f"{path}: not a readable PDF ({msg})") from None
    except Exception as e:  # pypdf raises many types on damaged files
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise DocumentError(f"{path}: not a readable PDF ({msg})") from None
    segs = [Segment(_tidy(_fix(t)), page=i + 1) for i, t in enumerate(pages)]
    segs = [s for s in segs if s.text]
    if not segs:
        raise DocumentError(f"{path}: PDF has no extractable text (scanned image?)")
    title = str(info.get("/Title") or "").strip() or path.stem.replace("_", " ").replace("-", " ")
    doc = LoadedDocument(source=str(path), title=title, segments=segs)
    doc.metadata["pages"] = len(pages)
    if info.get("/Author"):
        doc.metadata["author"] = str(info.get("/Author"))
    subject = str(info.get("/Subject") or "")
    if info.get("/Keywords"):
        doc.tags = _tags(str(info.get("/Keywords")))
    created = _parse_date(info.get("/CreationDate"))
    if created is not None:
        doc.metadata["pdf_created"] = iso(created)
    stated = _YEAR.search(f"{doc.title} {subject} {path.name}")
    if created is not None and stated and int(stated.group(1)) != created.year:
        # The creation date is when the file was produced (often a re-export years later);
        # a year stated in the title or file name says what period the document is about.
        created = None
    resolve_date(doc, created, hint_text=f"{subject} {path.name}", mtime=_mtime(path))
    return doc


def _html_text(html: str, url: str | None = None) -> tuple[str, str | None, Any]:
    """``(text, title, date)`` of an HTML page's main content (trafilatura; fallback: clean.html_to_text)."""
    text, title, when = "", None, None
    try:
        import trafilatura

        text = trafilatura.extract(html, url=url, include_comments=False, include_tables=True,
                                   favor_recall=True) or ""
        meta = trafilatura.extract_metadata(html, default_url=url)
        if meta is not None:
            title, when = meta.title, meta.date
    except Exception:  # trafilatura is best-effort; fall back below
        text = ""
    if not text.strip():
        try:
            from newsdesk.collect.clean import html_to_text

            text = html_to_text(html)
        except ImportError:  # pragma: no cover
            text = re.sub(r"<[^>]+>", " ", html)
    if not title:
        m = re.search(r"<title[^>]*>(.*?)</title>", html, re.S | re.I)
        title = _fix(m.group(1)).strip() if m else None
    return text, title, when


def load_html(path: Path | None, html: str, *, source: str | None = None, url: str | None = None) -> LoadedDocument:
    """An HTML file or fetched page: main text, title and date."""
    name = source or str(path)
    text, title, when = _html_text(html, url)
    text = _tidy(_fix(text))
    if not text:
        raise DocumentError(f"{name}: no readable text in the HTML")
    fallback_title = path.stem.replace("_", " ").replace("-", " ") if path else (urlparse(url or "").path.rsplit("/", 1)[-1] or name)
    m = re.search(r'<meta[^>]+(?:name|property)=["\'](?:article:published_time|date|dc\.date|pubdate)["\'][^>]*content=["\']([^"\']+)', html, re.I)
    explicit = (m.group(1) if m else None) or when
    doc = LoadedDocument(source=name, title=_fix(title or fallback_title).strip(), segments=markdown_segments(text),
                         url=url, html=html)
    kw = re.search(r'<meta[^>]+name=["\']keywords["\'][^>]*content=["\']([^"\']+)', html, re.I)
    if kw:
        doc.tags = _tags(kw.group(1).split(","))
    resolve_date(doc, explicit, hint_text=(path.name if path else url or ""), mtime=_mtime(path) if path else None)
    return doc


def youtube_id(ref: str) -> str | None:
    """The video id of ``youtube:ID`` or a YouTube watch/short/embed URL, else None."""
    if ref.startswith("youtube:"):
        vid = ref.split(":", 1)[1].strip()
        return vid if _YT_ID.match(vid) else None
    u = urlparse(ref)
    host = (u.hostname or "").lower()
    if host in ("youtu.be", "www.youtu.be"):
        vid = u.path.strip("/").split("/")[0]
    elif host.endswith("youtube.com") or host.endswith("youtube-nocookie.com"):
        if u.path == "/watch":
            vid = (parse_qs(u.query).get("v") or [""])[0]
        else:
            parts = [p for p in u.path.split("/") if p]
            vid = parts[1] if len(parts) > 1 and parts[0] in ("shorts", "embed", "live", "v") else ""
    else:
        return None
    return vid if _YT_ID.match(vid or "") else None


def _transcript_api() -> Any:
    from youtube_transcript_api import YouTubeTranscriptApi

    return YouTubeTranscriptApi


def load_youtube(ref: str) -> LoadedDocument:
    """A YouTube transcript via youtube-transcript-api (needs network access to YouTube)."""
    vid = youtube_id(ref)
    if not vid:
        raise DocumentError(f"{ref}: not a YouTube video reference (use youtube:VIDEO_ID or a watch URL)")
    try:
        api = _transcript_api()
    except ImportError:
        raise DocumentError(f"{ref}: youtube-transcript-api is not installed (pip install 'newsdesk[youtube]')") from None
    try:
        if hasattr(api, "fetch") and not hasattr(api, "get_transcript"):
            fetched = api().fetch(vid)
            snippets = [getattr(s, "text", "") for s in fetched]
            generated = bool(getattr(fetched, "is_generated", False))
        else:
            raw = api.get_transcript(vid)
            snippets = [s.get("text", "") for s in raw]
            generated = None
    except Exception as e:  # network errors, disabled transcripts, blocked IPs...
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise DocumentError(f"{ref}: could not fetch the YouTube transcript "
                            f"(no network access to YouTube, or no transcript): {first[:160]}") from None
    text = _tidy(_fix(" ".join(s.replace("\n", " ") for s in snippets)))
    if not text:
        raise DocumentError(f"{ref}: the YouTube transcript is empty")
    url = f"https://www.youtube.com/watch?v={vid}"
    doc = LoadedDocument(source=f"youtube:{vid}", title=f"YouTube video {vid}", segments=[Segment(text)], url=url)
    doc.metadata.update({"video_id": vid, "video_url": url, "type": "transcript"})
    if generated is not None:
        doc.metadata["is_generated"] = generated
    return doc


def _fetch(url: str, config: Any = None) -> tuple[bytes, str]:
    """``(body, content type)`` via the shared fetcher when present, else httpx."""
    try:
        from newsdesk.collect import fetch as fetch_mod  # type: ignore[attr-defined]
    except ImportError:
        fetch_mod = None
    if fetch_mod is not None and hasattr(fetch_mod, "fetch_bytes"):
        try:
            res = fetch_mod.fetch_bytes(url, config) if config is not None else fetch_mod.fetch_bytes(url)
        except Exception as e:
            raise DocumentError(f"{url}: fetch failed: {(str(e).splitlines() or [type(e).__name__])[0]}") from None
        if isinstance(res, tuple):
            body, ctype = res[0], (res[1] if len(res) > 1 else "")
        else:
            body = getattr(res, "content", None) or getattr(res, "body", b"")
            headers = getattr(res, "headers", {}) or {}
            ctype = getattr(res, "content_type", None) or headers.get("content-type", "")
        return body, str(ctype or "")
    import httpx

    try:
        r = httpx.get(url, follow_redirects=True, timeout=20.0, headers={"User-Agent": "newsdesk"})
        r.raise_for_status()
    except httpx.HTTPError as e:
        raise DocumentError(f"{url}: fetch failed: {e}") from None
    return r.content, r.headers.get("content-type", "")


def load_url(url: str, config: Any = None) -> LoadedDocument:
    """An http(s) URL: YouTube -> transcript, PDF -> pypdf, otherwise HTML main text."""
    if youtube_id(url):
        return load_youtube(url)
    body, ctype = _fetch(url, config)
    path = Path(urlparse(url).path or "/page")
    if "pdf" in ctype.lower() or body[:5] == b"%PDF-":
        doc = load_pdf(path, body)
        doc.source, doc.url = url, url
        return doc
    html = body.decode("utf-8", errors="replace")
    if "html" not in ctype.lower() and "<" not in html[:2000]:
        doc = load_text(Path(path.name or "page.txt"), html)
        doc.source, doc.url = url, url
        return doc
    return load_html(None, html, source=url, url=url)


def load_path(path: Path) -> LoadedDocument:
    """One local file, by extension."""
    ext = path.suffix.lower()
    if ext in PDF_EXT:
        return load_pdf(path)
    if ext in HTML_EXT:
        try:
            html = path.read_bytes().decode("utf-8", errors="replace")
        except OSError as e:
            raise DocumentError(f"{path}: cannot read: {e.strerror or e}") from None
        return load_html(path, html)
    if ext in TEXT_EXT or not ext:
        return load_text(path)
    raise DocumentError(f"{path}: unsupported file type {ext!r} (supported: {', '.join(sorted(SUPPORTED_EXT))})")


def expand_inputs(inputs: Iterable[str]) -> Iterator[str]:
    """Paths, directories (recursive; supported extensions only, hidden files skipped) and URLs."""
    for ref in inputs:
        if ref.startswith(("http://", "https://", "youtube:")):
            yield ref
            continue
        p = Path(ref).expanduser()
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and f.suffix.lower() in SUPPORTED_EXT and not any(
                        part.startswith(".") for part in f.relative_to(p).parts):
                    yield str(f.resolve())
        else:
            yield str(p.resolve()) if p.exists() else ref


def load_one(ref: str, config: Any = None) -> LoadedDocument:
    """Load a single path, URL or ``youtube:ID``."""
    if ref.startswith("youtube:"):
        return load_youtube(ref)
    if ref.startswith(("http://", "https://")):
        return load_url(ref, config)
    p = Path(ref)
    if not p.exists():
        raise DocumentError(f"{ref}: no such file or directory")
    return load_path(p)


def load_paths(inputs: Iterable[str], config: Any = None,
               on_error: Callable[[DocumentError], None] | None = None) -> Iterator[LoadedDocument]:
    """Load every input; a failing one is reported through ``on_error`` and skipped."""
    for ref in expand_inputs(inputs):
        try:
            yield load_one(ref, config)
        except DocumentError as e:
            if on_error is None:
                raise
            on_error(e)
