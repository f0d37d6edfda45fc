"""CLI: ``newsdesk brief`` (build, render, archive the morning briefing) and ``newsdesk briefings`` (the archive).

``newsdesk brief`` fetches first (unless ``--no-fetch``), builds the briefing
(``newsdesk.brief.build``), archives it in the database (every run is kept:
``briefings.seq`` 1, 2, ... per date), writes ``briefings/YYYY-MM-DD.{md,html,json}``
under the home (or ``--out``) and records a ``runs`` row (kind ``brief``).

A second run on the same date overwrites the files with the latest briefing;
the database archive keeps every run (``newsdesk briefings`` lists them).

Exit codes: 0 ok, 1 some feeds failed (the briefing is still written), 2 usage
or configuration error.
"""

from __future__ import annotations

import re
from datetime import date as Date
from pathlib import Path
from typing import Any, Optional

import typer

from newsdesk.cli.common import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, fail, print_json, state
from newsdesk.errors import ConfigError

FORMATS = ("md", "html", "json")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _parse_date(text: str | None) -> Date | None:
    if text is None:
        return None
    if not _DATE.match(text):
        fail(f"--date: {text!r} is not a date (use YYYY-MM-DD)", EXIT_USAGE)
    try:
        return Date.fromisoformat(text)
    except ValueError as e:
        fail(f"--date: {text!r}: {e}", EXIT_USAGE)


def write_outputs(b: dict[str, Any], out_dir: Path, formats: tuple[str, ...]) -> list[Path]:
    """Write ``YYYY-MM-DD.<ext>`` files (overwriting the previous run of that date)."""
    from newsdesk.render import render

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = out_dir / f"{b['date']}.{fmt}"
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(render(b, fmt), encoding="utf-8")
        tmp.replace(path)  # atomic: a reader never sees half a file
        paths.append(path)
    return paths


def run_metrics(b: dict[str, Any]) -> dict[str, Any]:
    """Metrics stored in the ``runs`` row of a briefing (read by ``newsdesk stats``)."""
    s = b["stats"]
    return {
        "date": b["date"],
        "seq": b.get("seq"),
        "words": s["words"],
        "stories": s["stories"],
        "reading_minutes": s["reading_minutes"],
        "faithfulness": s["faithfulness"],
        "summary_sentences": s["summary_sentences"],
        "items_considered": s["items_considered"],
        "duplicates_removed": s["duplicates_removed"],
        "clusters_merged": s["clusters_merged"],
        "feeds_ok": s["feeds_ok"],
        "feeds_failed": s["feeds_failed"],
        "sections_failed": sum(1 for sec in b["sections"] if sec["status"] == "failed"),
        "sections_partial": sum(1 for sec in b["sections"] if sec["status"] == "partial"),
        "filtered": s["filtered"],
    }


def _index_items(st: Any, cfg: Any, b: dict[str, Any]) -> None:
    """Hand the briefed items to the knowledge base, when that module is installed."""
    try:
        from newsdesk.ask import kb  # type: ignore[attr-defined]

        index_items = kb.index_items
    except (ImportError, AttributeError):
        return
    ids = [src["item_id"] for sec in b["sections"] for story in sec["stories"] for src in story["sources"]]
    if not ids:
        return
    items = st.store.get_items(list(dict.fromkeys(ids)))
    try:
        with st.progress("indexing briefed items", total=None) as bar:
            index_items(st.store, cfg, items, progress=bar)
    except Exception as e:  # the briefing is already saved; indexing can be redone
        st.warn(f"knowledge base indexing failed: {e}")


def register(app: typer.Typer) -> None:
    @app.command("brief")
    def brief(
        ctx: typer.Context,
        date: Optional[str] = typer.Option(None, "--date", help="Briefing for this day (YYYY-MM-DD, configured time zone)."),
        since: Optional[str] = typer.Option(None, "--since", help="Window length, e.g. 36h or 2d (default: briefing.lookback)."),
        no_fetch: bool = typer.Option(False, "--no-fetch", help="Use what is stored; do not fetch feeds first."),
        offline: bool = typer.Option(False, "--offline", help="Fetch only file:// and local feeds."),
        fmt: str = typer.Option("all", "--format", "-f", help="md, html, json or all."),
        out: Optional[Path] = typer.Option(None, "--out", help="Directory for the files (default: <home>/briefings)."),
    ) -> None:
        """Build today's briefing: fetch, select, de-duplicate, cluster, summarise, write md/html/json."""
        from newsdesk.brief.build import build_briefing
        from newsdesk.config import parse_duration
        from newsdesk.store.briefings import save_briefing

        if fmt not in (*FORMATS, "all"):
            fail(f"--format: {fmt!r} is not one of md, html, json, all", EXIT_USAGE)
        day = _parse_date(date)
        if since is not None:
            try:
                parse_duration(since)
            except ValueError as e:
                fail(f"--since: {e}", EXIT_USAGE)
        st = state(ctx)
        try:
            cfg = st.config
        except ConfigError as e:
            fail(str(e), EXIT_USAGE)

        from newsdesk.collect.subscriptions import sync_feeds

        report = None
        sync_feeds(cfg, st.store)
        if not no_fetch:
            from newsdesk.cli.fetch import run_lock
            from newsdesk.collect.run import collect

            with run_lock(st.home.lock_path):
                total = len(st.store.list_feeds(include_disabled=False))
                with st.progress("fetching feeds", total=total) as bar:
                    report = collect(st.store, cfg, config_path=st.home.config_path, offline=offline,
                                     progress=lambda r: bar.advance())
            for r in report.failed:
                st.warn(f"feed failed: {r.name}: {r.error or 'failed'}")

        run_id = st.store.start_run("brief")
        b = build_briefing(st.store, cfg, date=day, since=since, report=report)
        b["run_id"] = run_id
        save_briefing(st.store, b, run_id=run_id)
        st.store.finish_run(run_id, run_metrics(b))

        formats = FORMATS if fmt == "all" else (fmt,)
        if fmt == "json" and out is None:
            from newsdesk.render import public

            print_json(public(b))
        else:
            for path in write_outputs(b, out or st.home.briefings_dir, formats):
                st.info(f"wrote {path}")
        s = b["stats"]
        st.info(
            f"briefing {b['date']} #{b['seq']}: {s['stories']} stories, {s['words']} words "
            f"(~{s['reading_minutes']} min), {s['duplicates_removed']} duplicates removed, "
            f"{s['feeds_failed']} feed(s) failed"
        )
        _index_items(st, cfg, b)
        raise typer.Exit(EXIT_PARTIAL if s["feeds_failed"] else EXIT_OK)

    @app.command("briefings")
    def briefings(
        ctx: typer.Context,
        as_json: bool = typer.Option(False, "--json", help="Machine-readable list on stdout."),
        limit: int = typer.Option(30, "--limit", help="How many to list (newest first)."),
    ) -> None:
        """List archived briefings (every run is kept)."""
        from newsdesk.store.briefings import list_briefings

        st = state(ctx)
        rows = list_briefings(st.store, limit=limit)
        if as_json:
            print_json(rows)
            return
        if not rows:
            st.info("no briefings yet; run 'newsdesk brief'")
            return
        for r in rows:
            typer.echo(f"{r['date']} #{r['seq']}  {r['generated_at']}  {r['stories']:>3} stories  {r['words']:>5} words")
