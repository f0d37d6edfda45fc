"""HTML pages of the web app: Today, Archive, Story, Search, Ask, Feeds, Documents, Login.

Server-rendered Jinja2 templates (autoescape on for every template) styled by one
stylesheet; no JavaScript is required. Forms that change state POST with a CSRF
token and redirect back (post/redirect/get) with a one-line notice. Data comes
from ``services.py``, which calls the same library code as the CLI.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import jinja2
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from newsdesk import __version__
from newsdesk.serve import security, services
from newsdesk.serve.services import ServiceError

HERE = Path(__file__).parent

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(HERE / "templates")),
    autoescape=True,  # every template, whatever its extension
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.Undefined,
)
templates = Jinja2Templates(env=_env)

router = APIRouter(include_in_schema=False, dependencies=[Depends(security.csrf_guard)])


# --- template helpers -----------------------------------------------------------------

def _when(value: Any, tz: str = "UTC", fmt: str = "%a %d %b %Y, %H:%M") -> str:
    """ISO timestamp -> readable local time ('' when missing or unparsable)."""
    if not value:
        return ""
    try:
        dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if dt.tzinfo is None:
        return dt.strftime(fmt)
    try:
        return dt.astimezone(ZoneInfo(tz)).strftime(fmt)
    except Exception:
        return dt.strftime(fmt)


def _day(value: str) -> str:
    try:
        return datetime.strptime(value, "%Y-%m-%d").strftime("%A %d %B %Y")
    except (TypeError, ValueError):
        return str(value)


def _host(url: str | None) -> str:
    m = re.match(r"^[a-z]+://([^/:?#]+)", url or "", re.I)
    return m.group(1).removeprefix("www.") if m else ""


def failure_line(err: Any) -> str:
    """A section error as one line: ``Feed unavailable: NAME — reason``."""
    if isinstance(err, dict):
        name = err.get("feed") or err.get("name") or err.get("title") or err.get("url") or "feed"
        reason = err.get("error") or err.get("reason") or err.get("message") or "unknown error"
        return f"Feed unavailable: {name} — {reason}"
    text = str(err)
    return text if text.lower().startswith("feed unavailable") else f"Feed unavailable: {text}"


def weather_lines(w: Any) -> list[str]:
    """The briefing's weather block as plain lines (accepts the shapes the brief stage emits)."""
    if not w:
        return []
    if isinstance(w, str):
        return [w]
    if isinstance(w, list):
        out: list[str] = []
        for x in w:
            out += weather_lines(x)
        return out
    if isinstance(w, dict):
        for key in ("lines", "forecast", "periods"):
            if w.get(key):
                return weather_lines(w[key])
        for key in ("text", "summary", "line", "title"):
            if w.get(key):
                return [str(w[key])]
    return [str(w)]


def topic_label(t: Any) -> str:
    if isinstance(t, dict):
        term = t.get("term") or t.get("topic") or t.get("name") or ""
        n = t.get("count") or t.get("stories") or t.get("mentions")
        return f"{term} ({n})" if n else str(term)
    return str(t)


_env.filters.update(basename=lambda s: str(s or "").rstrip("/").rsplit("/", 1)[-1], when=_when, day=_day, host=_host, failure=failure_line, urlq=lambda s: quote(str(s), safe=""))
_env.globals.update(weather_lines=weather_lines, topic_label=topic_label, version=__version__,
                    safe_html=security.safe_html)


def _ctx(request: Request) -> Any:
    return request.app.state.ctx


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    ctx = _ctx(request)
    try:
        tz = ctx.config.briefing.timezone
    except Exception:
        tz = "UTC"
    base = {
        "request": request,
        "csrf": security.csrf_token_for(request),
        "tz": tz,
        "auth": bool(request.app.state.token),
        "notice": request.query_params.get("notice", "")[:300],
        "error": request.query_params.get("error", "")[:300],
    }
    base.update(context)
    return templates.TemplateResponse(request, name, base, status_code=status)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", status=status, status_code=status, message=message)


def _back(path: str, *, notice: str = "", error: str = "") -> RedirectResponse:
    q = urlencode({k: v for k, v in (("notice", notice), ("error", error)) if v})
    return RedirectResponse(f"{path}?{q}" if q else path, status_code=303)


# --- briefings --------------------------------------------------------------------------

@router.get("/", response_class=HTMLResponse)
def today(request: Request) -> HTMLResponse:
    store = _ctx(request).store
    b = services.latest_briefing(store)
    return render(request, "briefing.html", b=b, page="today", is_latest=True)


@router.get("/archive", response_class=HTMLResponse)
def archive(request: Request) -> HTMLResponse:
    rows = services.list_briefings(_ctx(request).store)
    return render(request, "archive.html", rows=rows, page="archive")


@router.get("/briefings/{date}", response_class=HTMLResponse)
def briefing_page(request: Request, date: str, seq: int | None = None) -> HTMLResponse:
    try:
        b = services.get_briefing(_ctx(request).store, date, seq)
    except ServiceError as e:
        return error_page(request, e.status, str(e))
    return render(request, "briefing.html", b=b, page="archive", is_latest=False)


@router.get("/briefings/{date}/stories/{story_id}", response_class=HTMLResponse)
def story_page(request: Request, date: str, story_id: str) -> HTMLResponse:
    store = _ctx(request).store
    try:
        story = services.get_story(store, date, story_id)
    except ServiceError as e:
        return error_page(request, e.status, str(e))
    items = {it["id"]: it for it in services.source_items(store, story)}
    return render(request, "story.html", story=story, date=date, items=items, page="archive")


# --- search and ask ----------------------------------------------------------------------

def _filters_from(request: Request) -> tuple[dict[str, str], Any]:
    qp = request.query_params
    raw = {k: qp.get(k, "") for k in ("kind", "source", "tag", "year", "since", "until")}
    return raw, services.make_filters(**raw)


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, q: str = "") -> HTMLResponse:
    ctx = _ctx(request)
    hits: list[dict[str, Any]] = []
    err = notice = ""
    raw = {k: request.query_params.get(k, "") for k in ("kind", "source", "tag", "year", "since", "until")}
    if q.strip():
        try:
            _, filters = _filters_from(request)
            hits, notice = services.search(ctx.store, ctx.config, q, k=20, filters=filters)
        except ServiceError as e:
            err = str(e)
    return render(request, "search.html", q=q, hits=hits, f=raw, search_error=err, search_notice=notice or "",
                  page="search")


@router.get("/ask", response_class=HTMLResponse)
def ask_page(request: Request, q: str = "") -> HTMLResponse:
    ctx = _ctx(request)
    result: dict[str, Any] | None = None
    err = ""
    raw = {k: request.query_params.get(k, "") for k in ("kind", "source", "tag", "year", "since", "until")}
    if q.strip():
        try:
            _, filters = _filters_from(request)
            result = services.ask(ctx.store, ctx.config, q, filters=filters)
        except ServiceError as e:
            err = str(e)
    return render(request, "ask.html", q=q, result=result, f=raw, ask_error=err, page="ask")


# --- feeds -------------------------------------------------------------------------------

@router.get("/feeds", response_class=HTMLResponse)
def feeds_page(request: Request) -> HTMLResponse:
    ctx = _ctx(request)
    feeds = services.list_feeds(ctx.config, ctx.store)
    sections = [s.name for s in ctx.config.ordered_sections()]
    return render(request, "feeds.html", feeds=feeds, sections=sections, page="feeds")


@router.post("/feeds/add")
async def feeds_add(request: Request) -> Response:
    form = await request.form()
    ctx = _ctx(request)
    url = str(form.get("url") or "").strip()
    section = str(form.get("section") or "").strip()
    title = str(form.get("title") or "").strip() or None
    try:
        from starlette.concurrency import run_in_threadpool

        feed = await run_in_threadpool(services.add_feed, ctx.home, ctx.config, ctx.store, url, section, title)
    except ServiceError as e:
        return _back("/feeds", error=str(e))
    return _back("/feeds", notice=f"Subscribed to {feed.get('title') or feed.get('url')} in {section}.")


@router.post("/feeds/remove")
async def feeds_remove(request: Request) -> Response:
    form = await request.form()
    ctx = _ctx(request)
    url = str(form.get("url") or "")
    try:
        services.remove_feed(ctx.home, ctx.store, url)
    except ServiceError as e:
        return _back("/feeds", error=str(e))
    return _back("/feeds", notice=f"Unsubscribed from {url}.")


@router.post("/feeds/toggle")
async def feeds_toggle(request: Request) -> Response:
    form = await request.form()
    ctx = _ctx(request)
    url = str(form.get("url") or "")
    enable = str(form.get("enabled") or "") == "1"
    try:
        services.update_feed(ctx.home, ctx.config, ctx.store, url, enabled=enable)
    except ServiceError as e:
        return _back("/feeds", error=str(e))
    return _back("/feeds", notice=f"{'Enabled' if enable else 'Paused'} {url}.")


@router.get("/feeds/export.opml")
def feeds_export(request: Request) -> Response:
    ctx = _ctx(request)
    xml = services.export_opml(ctx.config)
    return Response(xml, media_type="text/x-opml; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="newsdesk-feeds.opml"'})


@security.multipart_endpoint
@router.post("/feeds/import")
async def feeds_import(request: Request) -> Response:
    ctx = _ctx(request)
    form = await security.read_multipart_limited(request, ctx.config.serve.upload_max_bytes)
    security.check_csrf(request, _str(form.get(security.CSRF_FIELD)), request.app.state.token)
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        return _back("/feeds", error="choose an OPML file to import")
    data = await upload.read()
    try:
        result = services.import_opml(ctx.home, ctx.config, ctx.store, data, source=upload.filename or "upload.opml")
    except ServiceError as e:
        return _back("/feeds", error=str(e))
    msg = f"{upload.filename}: {result['found']} feeds, {len(result['added'])} added"
    if result["no_section"]:
        msg += f", {len(result['no_section'])} skipped (their category matches no section)"
    return _back("/feeds", notice=msg + ".")


# --- documents -----------------------------------------------------------------------------

@router.get("/documents", response_class=HTMLResponse)
def documents_page(request: Request) -> HTMLResponse:
    ctx = _ctx(request)
    docs = services.list_documents(ctx.store)
    return render(request, "documents.html", docs=docs, page="documents",
                  limit_mb=ctx.config.serve.upload_max_bytes / 1_048_576)


@security.multipart_endpoint
@router.post("/documents/upload")
async def documents_upload(request: Request) -> Response:
    from starlette.concurrency import run_in_threadpool

    ctx = _ctx(request)
    form = await security.read_multipart_limited(request, ctx.config.serve.upload_max_bytes)
    security.check_csrf(request, _str(form.get(security.CSRF_FIELD)), request.app.state.token)
    upload = form.get("file")
    if upload is None or isinstance(upload, str) or not upload.filename:
        return _back("/documents", error="choose a file to upload")
    tags = [t.strip() for t in _str(form.get("tags")).split(",") if t.strip()]
    data = await upload.read()
    try:
        res = await run_in_threadpool(services.add_document_file, ctx.store, ctx.config, ctx.home,
                                       upload.filename, data, tags)
    except ServiceError as e:
        return _back("/documents", error=str(e))
    return _back("/documents", notice=f"Added {upload.filename} ({_status_of(res)}).")


@router.post("/documents/add-url")
async def documents_add_url(request: Request) -> Response:
    from starlette.concurrency import run_in_threadpool

    form = await request.form()
    ctx = _ctx(request)
    url = _str(form.get("url")).strip()
    tags = [t.strip() for t in _str(form.get("tags")).split(",") if t.strip()]
    try:
        res = await run_in_threadpool(services.add_document_url, ctx.store, ctx.config, url, tags)
    except ServiceError as e:
        return _back("/documents", error=str(e))
    return _back("/documents", notice=f"Added {url} ({_status_of(res)}).")


@router.post("/documents/remove")
async def documents_remove(request: Request) -> Response:
    form = await request.form()
    ctx = _ctx(request)
    ident = _str(form.get("id"))
    try:
        doc = services.remove_document(ctx.store, ident)
    except ServiceError as e:
        return _back("/documents", error=str(e))
    return _back("/documents", notice=f"Removed {doc.get('title') or doc.get('source')}.")


def _status_of(res: dict[str, Any]) -> str:
    docs = res.get("documents") or []
    return str(docs[0].get("status")) if docs else "indexed"


def _str(v: Any) -> str:
    return v if isinstance(v, str) else ""


# --- login -----------------------------------------------------------------------------------

@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "login.html", next=_local(next), page="login")


@router.post("/login")
async def login_submit(request: Request) -> Response:
    import hmac

    form = await request.form()
    token = request.app.state.token
    nxt = _local(_str(form.get("next")) or "/")
    given = _str(form.get("token")).strip()
    if not token:
        return RedirectResponse(nxt, status_code=303)
    if not given or not hmac.compare_digest(given.encode(), token.encode()):
        return render(request, "login.html", status=401, next=nxt, page="login", login_error="Wrong token.")
    resp = RedirectResponse(nxt, status_code=303)
    resp.set_cookie(security.AUTH_COOKIE, security.session_value(token), httponly=True, samesite="strict",
                    secure=request.app.state.secure_cookies, path="/", max_age=30 * 86400)
    return resp


@router.post("/logout")
async def logout(request: Request) -> Response:
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(security.AUTH_COOKIE, path="/")
    return resp


def _local(path: str) -> str:
    """Only same-site relative redirects after login (no open redirect)."""
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path else "/"
