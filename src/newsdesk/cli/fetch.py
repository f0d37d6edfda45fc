"""CLI: ``newsdesk fetch`` — collect all enabled feeds into the database.

Exit codes: 0 every feed fetched (or skipped), 1 at least one feed failed
(each failure is printed as one line naming the feed), 2 config error.
The shared run lock (``newsdesk.lock``) keeps two fetch/brief runs from overlapping.
"""

from __future__ import annotations

from typing import Optional

import typer
from rich.markup import escape

from newsdesk.cli.common import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, fail, print_json, state
from newsdesk.lock import run_lock



def register(app: typer.Typer) -> None:
    @app.command("fetch")
    def fetch(
        ctx: typer.Context,
        offline: bool = typer.Option(False, "--offline", help="Only read file:// and local feeds; skip the network."),
        as_json: bool = typer.Option(False, "--json", help="Machine-readable report on stdout."),
        force: bool = typer.Option(False, "--force", help="Also fetch feeds that are backing off after failures."),
        feed: Optional[list[str]] = typer.Option(None, "--feed", help="Only this feed URL (repeatable)."),
    ) -> None:
        """Fetch every enabled feed, store new and updated items, record feed health."""
        from newsdesk.collect.run import FeedResult, collect
        from newsdesk.collect.subscriptions import sync_feeds

        st = state(ctx)
        cfg = st.config
        with run_lock(st.home.lock_path):
            sync_feeds(cfg, st.store)
            total = len(st.store.list_feeds(include_disabled=False))
            if feed:
                unknown = [u for u in feed if st.store.get_feed_by_url(u) is None]
                if unknown:
                    fail(f"--feed: {unknown[0]} is not a subscribed feed (see 'newsdesk feeds list')", EXIT_USAGE)
                total = len(feed)
            with st.progress("fetching feeds", total=total) as bar:

                def on_result(r: FeedResult) -> None:
                    bar.advance()
                    bar.update(description=escape(r.name[:40]))

                report = collect(st.store, cfg, config_path=st.home.config_path, offline=offline,
                                 progress=on_result, feed_urls=feed, force=force)
        if as_json:
            print_json(report.to_dict())
        for r in report.results:
            if r.redirected_to:
                st.info(f"{r.name}: moved permanently; subscription updated to {r.redirected_to}")
            for note in r.notes:
                st.warn(f"{r.name}: {note}")
        for r in report.failed:
            msg = r.error or "failed"
            # the error already starts with the URL; prefix the human name when it differs
            st.warn(f"feed failed: {r.name}: {msg}" if r.name != r.url else f"feed failed: {msg}")
        m = report.metrics()
        st.info(
            f"{m['feeds']} feeds: {m['ok']} ok, {m['not_modified']} not modified, {m['errors']} failed, "
            f"{m['skipped']} skipped; {m['items_new']} new, {m['items_updated']} updated items "
            f"in {report.duration_ms / 1000:.1f}s"
        )
        raise typer.Exit(EXIT_PARTIAL if report.failed else EXIT_OK)
