"""CLI: ``newsdesk items list`` — browse collected items."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from newsdesk.cli.common import EXIT_USAGE, fail, out_console, print_json, state
from newsdesk.config import parse_duration
from newsdesk.models import utcnow



items_app = typer.Typer(help="Browse collected items.", no_args_is_help=True)


def parse_since(text: str) -> datetime:
    """``36h`` / ``2d`` (a duration back from now) or an ISO date/datetime (UTC when no zone given)."""
    try:
        return utcnow() - parse_duration(text)
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"--since: {text!r} is neither a duration (24h, 2d) nor a date (2025-10-13)") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


@items_app.command("list")
def list_(
    ctx: typer.Context,
    since: Optional[str] = typer.Option(None, "--since", help="Duration (24h, 2d) or date (2025-10-13)."),
    feed: Optional[str] = typer.Option(None, "--feed", help="Only items of this feed URL."),
    section: Optional[str] = typer.Option(None, "--section", help="Only items of this section."),
    limit: int = typer.Option(50, "--limit", min=1, help="At most this many items."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Collected items, newest first."""
    from newsdesk.collect.subscriptions import sync_feeds

    st = state(ctx)
    sync_feeds(st.config, st.store)
    try:
        since_dt = parse_since(since) if since else None
    except ValueError as e:
        fail(str(e), EXIT_USAGE)
    feed_id = None
    if feed:
        f = st.store.get_feed_by_url(feed)
        if f is None:
            fail(f"--feed: {feed} is not a known feed (see 'newsdesk feeds list')", EXIT_USAGE)
        feed_id = f.id
    if section and st.config.sections and st.config.section(section) is None:
        fail(f"--section: {section!r} is not a configured section", EXIT_USAGE)
    items = st.store.list_items(since=since_dt, feed_id=feed_id, section=section, limit=limit)
    if as_json:
        print_json([i.to_dict() for i in items])
        return
    table = Table(title=f"{len(items)} items")
    for col in ("published", "section", "feed", "title"):
        table.add_column(col, overflow="fold")
    for i in items:
        cells = (i.published or f"({i.first_seen})", i.section or "", i.feed_title or i.feed_url or "", i.title)
        table.add_row(*(escape(c) for c in cells))
    out_console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(items_app, name="items")
