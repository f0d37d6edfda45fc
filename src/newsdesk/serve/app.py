"""The FastAPI application behind ``newsdesk serve``: wiring, middleware, shared state.

``create_app(home)`` builds the app: HTML pages (``pages.py``), the REST API
under ``/api`` (``api.py``), the Atom feed ``/briefings.xml`` (``deliver.py``),
OpenAPI docs at ``/docs``, one stylesheet under ``/static``. Middleware applies
authentication and security headers to every response (``security.py``).
``run_server`` starts uvicorn (and the in-process daily schedule when asked).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from newsdesk import __version__
from newsdesk.config import Config, load_config
from newsdesk.home import Home
from newsdesk.serve.services import ServiceError
from newsdesk.serve import security
from newsdesk.store.sqlite import SQLiteStore, open_store

HERE = Path(__file__).parent


class AppContext:
    """Per-process state: the home, one shared store, the config (reloaded when the file changes)."""

    def __init__(self, home: Home, config: Config | None = None):
        self.home = home
        self._config = config
        self._mtime: float | None = None
        self._store: SQLiteStore | None = None
        self._lock = threading.Lock()
        self._pinned = config is not None and not home.config_path.exists()

    @property
    def config(self) -> Config:
        with self._lock:
            if self._pinned:
                assert self._config is not None
                return self._config
            try:
                mtime = self.home.config_path.stat().st_mtime
            except FileNotFoundError:
                mtime = None
            if self._config is None or mtime != self._mtime:
                self._config = load_config(self.home.config_path)
                self._mtime = mtime
            return self._config

    @property
    def store(self) -> SQLiteStore:
        with self._lock:
            if self._store is None:
                self.home.ensure()
                self._store = open_store(self.home.db_path)
            return self._store

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None


LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})


def create_app(home: Home, *, config: Config | None = None, token: str | None = None,
               secure_cookies: bool = False, allowed_hosts: frozenset[str] | None = None) -> FastAPI:
    """Build the web app for ``home``. ``token`` (if any) is required on every request.

    ``allowed_hosts`` (host names without port) rejects other ``Host`` headers
    with 421; ``run_server`` sets it to the loopback names for a token-less
    loopback bind, which defeats DNS-rebinding pages.
    """
    from newsdesk.serve import api, deliver, pages

    app = FastAPI(
        title="newsdesk",
        version=__version__,
        description="Morning briefings, search and cited answers over your feeds and documents. "
                    "When the server runs with a token, send `Authorization: Bearer <token>`.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.ctx = AppContext(home, config)
    app.state.token = token
    app.state.secure_cookies = secure_cookies
    app.state.schedule = None
    app.state.allowed_hosts = allowed_hosts

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        path = request.url.path
        if app.state.allowed_hosts is not None and _host_name(request) not in app.state.allowed_hosts:
            return PlainTextResponse("misdirected request: unexpected Host header (DNS rebinding?)",
                                     status_code=421, headers=security.security_headers())
        public = any(path == p or path.startswith(p) for p in security.PUBLIC_PREFIXES)
        if app.state.token and not public and not security.is_authenticated(request, app.state.token):
            if _wants_html(request):
                response: Response = RedirectResponse(f"/login?next={_safe_next(path)}", status_code=303)
            else:
                response = JSONResponse({"detail": "authentication required: send Authorization: Bearer <token>"},
                                        status_code=401, headers={"WWW-Authenticate": "Bearer"})
        else:
            response = await call_next(request)
        headers = security.security_headers()
        if path == "/docs/swagger" and hasattr(request.state, "docs_csp"):
            headers["Content-Security-Policy"] = request.state.docs_csp
        for k, v in headers.items():
            response.headers.setdefault(k, v)
        if not request.cookies.get(security.CSRF_COOKIE):
            tok = getattr(request.state, "new_csrf", None) or security.new_csrf_token()
            response.set_cookie(security.CSRF_COOKIE, tok, httponly=True, samesite="strict",
                                secure=app.state.secure_cookies, path="/")
        if path.startswith("/api/") or path in ("/login",):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_html(request) and not request.url.path.startswith("/api/"):
            return pages.error_page(request, exc.status_code, str(exc.detail))
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(ServiceError)
    async def service_error(request: Request, exc: ServiceError) -> Response:
        """A ServiceError a route did not handle itself becomes an HTTP error with its status."""
        return await http_error(request, StarletteHTTPException(exc.status, str(exc)))

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        """API reference rendered on the server from the OpenAPI schema (works offline)."""
        return pages.render(request, "apidocs.html", spec=app.openapi(), page="docs")

    @app.get("/docs/swagger", include_in_schema=False)
    async def swagger(request: Request) -> HTMLResponse:
        """Interactive Swagger UI (its script and styles come from a CDN, so it needs internet)."""
        html = get_swagger_ui_html(openapi_url="/openapi.json", title="newsdesk API")
        body = bytes(html.body).decode()
        request.state.docs_csp = security.script_hash_csp(
            body, extra_script="https://cdn.jsdelivr.net", extra_style="https://cdn.jsdelivr.net")
        return HTMLResponse(body)

    @app.get("/briefings.xml", include_in_schema=False)
    def atom(request: Request) -> Response:
        ctx: AppContext = request.app.state.ctx
        base = str(request.base_url).rstrip("/")
        xml = deliver.atom_feed(ctx.store, base_url=base)
        return Response(xml, media_type="application/atom+xml; charset=utf-8")

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)
    return app


def _host_name(request: Request) -> str:
    host = request.headers.get("host", "").strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "") and not request.url.path.startswith("/api/")


def _safe_next(path: str) -> str:
    from urllib.parse import quote

    return quote(path if path.startswith("/") and not path.startswith("//") else "/", safe="/")


def run_server(home: Home, host: str, port: int, *, schedule_at: str | None = None,
               log_level: str = "info") -> None:
    """Check the bind policy, start the optional daily schedule, run uvicorn until interrupted."""
    import uvicorn

    config = load_config(home.config_path)
    token = security.require_token_for_bind(host, config)
    hosts = LOOPBACK_NAMES | {host.strip("[]").lower()} if security.is_loopback_host(host) and not token else None
    app = create_app(home, token=token, allowed_hosts=hosts)
    scheduler = None
    if schedule_at:
        from newsdesk.serve.schedule import Scheduler

        scheduler = Scheduler(home, schedule_at)
        scheduler.start()
        app.state.schedule = scheduler
    try:
        uvicorn.run(app, host=host, port=port, log_level=log_level, proxy_headers=False,
                    server_header=False)
    finally:
        if scheduler is not None:
            scheduler.stop()
        app.state.ctx.close()
