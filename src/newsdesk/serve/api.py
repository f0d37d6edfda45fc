"""REST API under ``/api`` (OpenAPI at ``/docs``): briefings, search, ask, feeds, documents.

JSON shapes are those of the CLI's ``--json`` output because both call the same
functions (via ``services.py``). Errors are ``{"detail": "..."}`` with a
meaningful status (404 unknown, 413 too large, 422 bad input, 400 refused).
Every unsafe method passes the CSRF guard (``security.csrf_guard``).
"""

from __future__ import annotations

from typing import Any, Optional

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from newsdesk.serve import security, services

router = APIRouter(prefix="/api", tags=["api"], dependencies=[Depends(security.csrf_guard)])


def _ctx(request: Request) -> Any:
    return request.app.state.ctx


# --- briefings ------------------------------------------------------------------------

@router.get("/briefings", summary="Archive index, newest first")
def api_briefings(request: Request) -> list[dict[str, Any]]:
    return services.list_briefings(_ctx(request).store)


@router.get("/briefings/{date}", summary="One briefing (YYYY-MM-DD or 'latest')")
def api_briefing(request: Request, date: str, seq: Optional[int] = None,
                 format: str = Query("json", pattern="^(json|markdown|html)$")) -> Any:
    b = services.get_briefing(_ctx(request).store, date, seq)
    if format == "markdown":
        from fastapi.responses import PlainTextResponse

        from newsdesk.render import render_markdown

        return PlainTextResponse(render_markdown(b), media_type="text/markdown; charset=utf-8")
    if format == "html":
        from fastapi.responses import HTMLResponse

        from newsdesk.render import render_html

        return HTMLResponse(render_html(b))
    return b


@router.get("/briefings/{date}/stories/{story_id}", summary="One story of a briefing")
def api_story(request: Request, date: str, story_id: str) -> dict[str, Any]:
    return services.get_story(_ctx(request).store, date, story_id)


# --- search and ask ----------------------------------------------------------------------

class Filters(BaseModel):
    kind: Optional[str] = Field(None, description="document | briefing")
    source: Optional[str] = None
    tag: Optional[str] = None
    year: Optional[int] = None
    since: Optional[str] = Field(None, description="YYYY-MM-DD")
    until: Optional[str] = Field(None, description="YYYY-MM-DD")


@router.get("/search", summary="Hybrid search over items and documents")
def api_search(request: Request, q: str, k: int = Query(10, ge=1, le=100),
               mode: str = Query("hybrid", pattern="^(hybrid|bm25|dense)$"),
               kind: Optional[str] = None, source: Optional[str] = None, tag: Optional[str] = None,
               year: Optional[str] = None, since: Optional[str] = None,
               until: Optional[str] = None) -> list[dict[str, Any]]:
    ctx = _ctx(request)
    filters = services.make_filters(kind, source, tag, year, since, until)
    return services.search(ctx.store, ctx.config, q, k=k, mode=mode, filters=filters)[0]


class AskRequest(BaseModel):
    question: str = Field(min_length=1)
    k: Optional[int] = Field(None, ge=1, le=50)
    parent: bool = Field(False, description="search small child chunks, read their large parents")
    filters: Filters = Field(default_factory=Filters)


@router.get("/ask", summary="Ask a question (query string)")
def api_ask_get(request: Request, q: str, k: Optional[int] = Query(None, ge=1, le=50), parent: bool = False,
                kind: Optional[str] = None, source: Optional[str] = None, tag: Optional[str] = None,
                year: Optional[str] = None, since: Optional[str] = None,
                until: Optional[str] = None) -> dict[str, Any]:
    ctx = _ctx(request)
    filters = services.make_filters(kind, source, tag, year, since, until)
    return services.ask(ctx.store, ctx.config, q, k=k, parent=parent, filters=filters)


@router.post("/ask", summary="Ask a question (JSON body)")
def api_ask_post(request: Request, body: AskRequest) -> dict[str, Any]:
    ctx = _ctx(request)
    f = body.filters
    filters = services.make_filters(f.kind, f.source, f.tag, f.year, f.since, f.until)
    return services.ask(ctx.store, ctx.config, body.question, k=body.k, parent=body.parent, filters=filters)


# --- feeds ------------------------------------------------------------------------------------

class FeedAdd(BaseModel):
    url: str = Field(min_length=1, description="feed URL, or a web page to autodiscover its feed")
    section: str
    title: Optional[str] = None
    fulltext: bool = False


class FeedPatch(BaseModel):
    url: str
    enabled: Optional[bool] = None
    section: Optional[str] = None


@router.get("/feeds", summary="Subscriptions with health (last fetch, status, failures, last error)")
def api_feeds(request: Request) -> list[dict[str, Any]]:
    ctx = _ctx(request)
    return services.list_feeds(ctx.config, ctx.store)


@router.post("/feeds", status_code=201, summary="Subscribe (autodiscovery; private addresses refused)")
def api_feed_add(request: Request, body: FeedAdd) -> dict[str, Any]:
    ctx = _ctx(request)
    return services.add_feed(ctx.home, ctx.config, ctx.store, body.url, body.section, body.title, body.fulltext)


@router.patch("/feeds", summary="Enable/disable a feed or move it to another section")
def api_feed_patch(request: Request, body: FeedPatch) -> dict[str, Any]:
    ctx = _ctx(request)
    return services.update_feed(ctx.home, ctx.config, ctx.store, body.url, enabled=body.enabled,
                                section=body.section)


@router.delete("/feeds", summary="Unsubscribe (items stay in the archive)")
def api_feed_delete(request: Request, url: str) -> dict[str, Any]:
    ctx = _ctx(request)
    return services.remove_feed(ctx.home, ctx.store, url)


# --- documents -----------------------------------------------------------------------------------

@router.get("/documents", summary="Indexed documents")
def api_documents(request: Request) -> list[dict[str, Any]]:
    return services.list_documents(_ctx(request).store)


@security.multipart_endpoint
@router.post("/documents", status_code=201, summary="Upload a document (multipart field 'file'; optional 'tags')",
             openapi_extra={"requestBody": {"content": {"multipart/form-data": {"schema": {
                 "type": "object", "required": ["file"],
                 "properties": {"file": {"type": "string", "format": "binary"},
                                "tags": {"type": "string", "description": "comma-separated"}}}}}}})
async def api_document_upload(request: Request) -> Any:
    ctx = _ctx(request)
    form = await security.read_multipart_limited(request, ctx.config.serve.upload_max_bytes)
    submitted = form.get(security.CSRF_FIELD)
    security.check_csrf(request, submitted if isinstance(submitted, str) else None, request.app.state.token)
    upload = form.get("file")
    if upload is None or isinstance(upload, str) or not upload.filename:
        raise HTTPException(422, "file: required (multipart field 'file')")
    tags_raw = form.get("tags")
    tags = [t.strip() for t in (tags_raw if isinstance(tags_raw, str) else "").split(",") if t.strip()]
    data = await upload.read()
    return await run_in_threadpool(services.add_document_file, ctx.store, ctx.config, ctx.home,
                                  upload.filename, data, tags)


class DocumentURL(BaseModel):
    url: str
    tags: list[str] = Field(default_factory=list)


@router.post("/documents/url", status_code=201, summary="Fetch and index a web page or PDF by URL")
def api_document_url(request: Request, body: DocumentURL) -> Any:
    ctx = _ctx(request)
    return services.add_document_url(ctx.store, ctx.config, body.url, body.tags)


@router.delete("/documents/{ident}", summary="Remove a document (id or source)")
def api_document_delete(request: Request, ident: str) -> dict[str, Any]:
    return services.remove_document(_ctx(request).store, ident)
