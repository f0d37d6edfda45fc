"""The ``newsdesk`` command.

Each command group lives in its own module under ``newsdesk.cli`` and exposes
``register(app)``; this file only wires them and handles global options and
exit codes.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from newsdesk import __version__
from newsdesk.cli import common
from newsdesk.cli.common import EXIT_PARTIAL, EXIT_USAGE, State, err_console
from newsdesk.config import starter_config_text
from newsdesk.errors import ConfigError, NewsdeskError
from newsdesk.home import resolve_home

app = typer.Typer(
    name="newsdesk",
    help="Self-hosted, offline-first morning briefing and research desk.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"newsdesk {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    home: Optional[Path] = typer.Option(None, "--home", help="Data directory (default: $NEWSDESK_HOME or the platform data dir)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output (for cron). Errors still print."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    ctx.obj = State(home=resolve_home(home), quiet=quiet)
    ctx.call_on_close(ctx.obj.close)


@app.command()
def init(
    ctx: typer.Context,
    force: bool = typer.Option(False, "--force", help="Overwrite an existing config."),
) -> None:
    """Create the home directory, a starter config (14 sections with real feeds) and the database."""
    st = common.state(ctx)
    st.home.ensure()
    path = st.home.config_path
    if path.exists() and not force:
        st.info(f"config already exists: {path} (use --force to overwrite)")
    else:
        path.write_text(starter_config_text(), encoding="utf-8")
        st.info(f"wrote {path}")
    from newsdesk.collect.subscriptions import sync_feeds

    cfg = st.reload_config()
    sync_feeds(cfg, st.store)
    st.info(f"database ready: {st.home.db_path} (schema v{st.store.schema_version()})")
    typer.echo(str(st.home.root))


def _register_all() -> None:
    from newsdesk.cli import ask, brief, demo, docs, evalcmd, feeds, fetch, items, serve, stats

    for mod in (feeds, fetch, items, brief, docs, ask, serve, evalcmd, stats, demo):
        mod.register(app)


_register_all()


def run() -> None:
    """Console-script entry point: maps errors to exit codes (2 usage/config, 1 partial failure)."""
    try:
        app()  # standalone: click maps usage errors to exit 2 itself
    except ConfigError as e:
        err_console.print(f"[red]config error:[/] {e}", highlight=False)
        sys.exit(EXIT_USAGE)
    except NewsdeskError as e:
        err_console.print(f"[red]error:[/] {e}", highlight=False)
        sys.exit(EXIT_PARTIAL)
