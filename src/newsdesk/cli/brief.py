"""CLI: ``newsdesk brief`` (build, render, archive the morning briefing) and ``newsdesk briefings`` (the archive).

``newsdesk brief`` runs :func:`newsdesk.brief.run.run_brief` (the same job the
scheduler in ``newsdesk serve`` and ``newsdesk demo`` run): it fetches first
(unless ``--no-fetch``) under the run lock, builds the briefing
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
from typing import Optional

import typer

from newsdesk.brief.run import FORMATS, run_metrics, write_outputs  # noqa: F401  (re-exported for callers)
from newsdesk.cli.common import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, fail, print_json, state
from newsdesk.errors import ConfigError

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
        no_deliver: bool = typer.Option(False, "--no-deliver", help="Skip the email / vault delivery configured in the config's delivery section."),
    ) -> None:
        """Build today's briefing: fetch, select, de-duplicate, cluster, summarise, write md/html/json."""
        from newsdesk.config import parse_duration

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

        from newsdesk.brief.run import run_brief
        from newsdesk.lock import LockBusy

        def say(message: str) -> None:
            if message.startswith("feed failed") or "FAILED" in message:
                st.warn(message)
            else:
                st.info(message)

        to_stdout = fmt == "json" and out is None
        try:
            with st.progress("fetching feeds", total=None) as bar:
                result = run_brief(
                    st.store, cfg, st.home, date=day, since=since, fetch=not no_fetch, offline=offline,
                    formats=FORMATS if fmt == "all" else (fmt,), out_dir=out, write=not to_stdout,
                    index=False, deliver=not no_deliver, say=say, fetch_progress=lambda r: bar.advance(),
                )
        except LockBusy as e:
            fail(str(e), EXIT_PARTIAL)
        b = result.briefing
        if to_stdout:
            from newsdesk.render import public

            print_json(public(b))
        s = b["stats"]
        st.info(
            f"briefing {b['date']} #{b['seq']}: {s['stories']} stories, {s['words']} words "
            f"(~{s['reading_minutes']} min), {s['duplicates_removed']} duplicates removed, "
            f"{s['feeds_failed']} feed(s) failed"
        )
        with st.progress("indexing briefed items for ask", total=None) as bar:
            try:
                from newsdesk.brief.run import index_briefed_items

                notice = index_briefed_items(st.store, cfg, b, progress=bar)
            except ImportError:  # the ask module is optional
                notice = None
        if notice:
            st.warn(notice)
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
