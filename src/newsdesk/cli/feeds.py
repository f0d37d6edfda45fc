"""CLI: ``newsdesk feeds add|list|remove|import|export`` — manage subscriptions.

Subscriptions live in the config file (edited with tomlkit so comments stay);
every command syncs the database from the config first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from newsdesk.cli.common import EXIT_PARTIAL, EXIT_USAGE, fail, out_console, print_json, state
from newsdesk.errors import ConfigError, FeedError



feeds_app = typer.Typer(help="Manage feed subscriptions (stored in the config file).", no_args_is_help=True)


def _normalise_url(url: str) -> str:
    """Plain filesystem paths become absolute ``file://`` URLs; ``example.com/feed`` gets ``https://``."""
    import re

    from newsdesk.collect.fetch import is_local

    url = url.strip()
    if is_local(url) and not url.lower().startswith("file:"):
        path = Path(url).expanduser()
        host = url.split("/", 1)[0]
        if (not path.exists() and re.match(r"^[\w-]+(\.[\w-]+)*\.[a-z]{2,}(:\d+)?$", host, re.I)
                and not re.search(r"\.(xml|json|rss|atom|rdf|html?|txt|opml)$", host, re.I)):
            return "https://" + url
        return path.resolve().as_uri()
    return url


@feeds_app.command("add")
def add(
    ctx: typer.Context,
    url: str = typer.Argument(..., help="Feed URL, web page URL (autodiscovery), file:// URL or path."),
    section: str = typer.Option(..., "--section", "-s", help="Configured section the feed belongs to."),
    title: Optional[str] = typer.Option(None, "--title", help="Display name (default: the feed's own title)."),
    fulltext: bool = typer.Option(False, "--fulltext", help="Fetch full articles for teaser-only entries."),
    no_verify: bool = typer.Option(False, "--no-verify", help="Do not fetch the URL first (offline use)."),
) -> None:
    """Subscribe to a feed. A web page URL is resolved to the feed it advertises."""
    from newsdesk.collect.discover import discover_feed
    from newsdesk.collect.fetch import Fetcher
    from newsdesk.collect.parse import parse_feed
    from newsdesk.collect.subscriptions import add_feed_to_config, sync_feeds

    st = state(ctx)
    cfg = st.config
    if cfg.sections and cfg.section(section) is None:
        fail(f"--section: {section!r} is not a configured section "
             f"(known: {', '.join(s.name for s in cfg.ordered_sections())})", EXIT_USAGE)
    url = _normalise_url(url)
    feed_title = title
    if not no_verify:
        with Fetcher(cfg.fetch) as fetcher:
            try:
                found = discover_feed(url, fetcher)
                if found[0] != url:
                    st.info(f"found feed {found[0]}" + (f" (and {len(found) - 1} more)" if len(found) > 1 else ""))
                url = found[0]
                if feed_title is None:
                    resp = fetcher.fetch(url)
                    feed_title = parse_feed(resp.body, url, resp.content_type).title
            except FeedError as e:
                fail(f"{e} (use --no-verify to add it anyway)", EXIT_PARTIAL)
    created = add_feed_to_config(st.home.config_path, url, section, title=feed_title, fulltext=fulltext)
    cfg = st.reload_config()
    sync_feeds(cfg, st.store)
    feed = st.store.get_feed_by_url(url)
    if feed is not None and feed.disabled_reason:
        st.store.update_feed_state(feed.id, disabled_reason=None, consecutive_failures=0, next_fetch_at=None)
    st.info(("added " if created else "updated ") + f"{feed_title or url} -> {section}")
    typer.echo(url)


@feeds_app.command("list")
def list_(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    all_: bool = typer.Option(False, "--all", help="Include feeds removed from the config."),
) -> None:
    """Subscriptions with their health: last fetch, HTTP status, failures, last error."""
    from newsdesk.collect.subscriptions import feed_dict, feed_health as health, list_subscriptions

    st = state(ctx)
    feeds = list_subscriptions(st.config, st.store, include_removed=all_)
    if as_json:
        print_json([feed_dict(f) for f in feeds])
        return
    table = Table(title=f"{len(feeds)} feeds")
    for col in ("section", "feed", "health", "last fetch", "status", "fails", "last error"):
        table.add_column(col, overflow="fold")
    for f in feeds:
        cells = (
            f.section or "", f"{f.title or ''}\n{f.url}" if f.title else f.url, health(f),
            f.last_fetched_at or "", str(f.last_status or ""), str(f.consecutive_failures or ""),
            (f.last_error or "")[:120],
        )
        table.add_row(*(escape(c) for c in cells))
    out_console.print(table)


@feeds_app.command("remove")
def remove(
    ctx: typer.Context,
    url: str = typer.Argument(..., help="URL of the subscription to remove."),
) -> None:
    """Unsubscribe. Items already collected are kept."""
    from newsdesk.collect.subscriptions import remove_feed_from_config, sync_feeds

    st = state(ctx)
    url = _normalise_url(url)
    if not remove_feed_from_config(st.home.config_path, url):
        if st.config.weather.url == url:
            fail(f"{url}: is the weather feed; change [weather] url in {st.home.config_path}", EXIT_USAGE)
        fail(f"{url}: not subscribed (see 'newsdesk feeds list')", EXIT_USAGE)
    sync_feeds(st.reload_config(), st.store)
    st.info(f"removed {url} (its items are kept)")


@feeds_app.command("import")
def import_(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="OPML file."),
    section: Optional[str] = typer.Option(
        None, "--section", "-s", help="Section for feeds whose OPML category matches no configured section."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Import subscriptions from OPML (categories that name a configured section are kept)."""
    from newsdesk.collect.opml import read_opml_file
    from newsdesk.collect.subscriptions import add_feeds_to_config, sync_feeds

    st = state(ctx)
    cfg = st.config
    names = [s.name for s in cfg.sections]
    if section is not None and names and section not in names:
        fail(f"--section: {section!r} is not a configured section (known: {', '.join(names)})", EXIT_USAGE)
    found = read_opml_file(file, names, section)
    placed = [f for f in found if f.section]
    unplaced = [f for f in found if not f.section]
    added = add_feeds_to_config(
        st.home.config_path,
        [{"url": f.url, "section": f.section, "title": f.title} for f in placed],
    )
    sync_feeds(st.reload_config(), st.store)
    result = {
        "found": len(found), "added": added,
        "already_subscribed": [f.url for f in placed if f.url not in added],
        "no_section": [{"url": f.url, "category": f.category} for f in unplaced],
    }
    if as_json:
        print_json(result)
    else:
        st.info(f"{file}: {len(found)} feeds, {len(added)} added, "
                f"{len(result['already_subscribed'])} already subscribed")
    for f in unplaced:
        st.warn(f"{file}: {f.url} (category {f.category!r}) matches no configured section; "
                f"pass --section to import it")
    if unplaced:
        raise typer.Exit(EXIT_PARTIAL)


@feeds_app.command("export")
def export(
    ctx: typer.Context,
    file: Optional[Path] = typer.Argument(None, help="Write OPML here (default: standard output)."),
) -> None:
    """Export subscriptions as OPML, grouped by section."""
    from newsdesk.collect.opml import export_opml
    from newsdesk.collect.subscriptions import configured_feeds

    st = state(ctx)
    cfg = st.config
    text = export_opml(
        [(f.url, f.title, f.section) for f in configured_feeds(cfg)],
        section_order=[s.name for s in cfg.ordered_sections()],
    )
    if file is None:
        typer.echo(text, nl=False)
    else:
        try:
            file.write_text(text, encoding="utf-8")
        except OSError as e:
            fail(f"{file}: cannot write: {e.strerror or e}", EXIT_USAGE)
        st.info(f"wrote {file}")


def register(app: typer.Typer) -> None:
    app.add_typer(feeds_app, name="feeds")


__all__ = ["register", "ConfigError"]
