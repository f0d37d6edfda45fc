"""CLI: ``newsdesk serve`` (web app + API), ``newsdesk schedule`` (daily job), ``newsdesk deliver``."""

from __future__ import annotations

from typing import Optional

import typer

from newsdesk.cli.common import EXIT_PARTIAL, EXIT_USAGE, fail, print_json, state


def serve(
    ctx: typer.Context,
    host: Optional[str] = typer.Option(None, "--host", help="Address to bind (default serve.host, 127.0.0.1)."),
    port: Optional[int] = typer.Option(None, "--port", help="Port (default serve.port, 8765)."),
    schedule: Optional[str] = typer.Option(None, "--schedule", metavar="HH:MM",
                                           help="Also fetch + brief daily at this time (default serve.schedule_at)."),
) -> None:
    """Run the web app and REST API (OpenAPI at /docs). Binds to loopback unless told otherwise;
    any other address requires a bearer token (serve.token or $NEWSDESK_TOKEN)."""
    from newsdesk.serve.app import run_server
    from newsdesk.serve.schedule import parse_at
    from newsdesk.serve.security import ServeSecurityError, require_token_for_bind

    st = state(ctx)
    cfg = st.config
    host = host or cfg.serve.host
    port = port or cfg.serve.port
    at = schedule or cfg.serve.schedule_at
    if at:
        try:
            parse_at(at)
        except ValueError as e:
            fail(f"--schedule: {e}", EXIT_USAGE)
    try:
        token = require_token_for_bind(host, cfg)
    except ServeSecurityError as e:
        fail(str(e), EXIT_USAGE)
    st.close()
    shown = f"[{host}]" if ":" in host else host
    st.info(f"newsdesk on http://{shown}:{port}/  (API docs: /docs)"
            + ("  — token required" if token else "") + (f"  — daily run at {at}" if at else ""))
    run_server(st.home, host, port, schedule_at=at, log_level="warning" if st.quiet else "info")


def schedule(
    ctx: typer.Context,
    at: Optional[str] = typer.Option(None, "--at", metavar="HH:MM", help="Daily time in briefing.timezone (default serve.schedule_at or 06:30)."),
    print_cron: bool = typer.Option(False, "--print-cron", help="Print a crontab line."),
    print_systemd: bool = typer.Option(False, "--print-systemd", help="Print a systemd service + timer."),
    run: bool = typer.Option(False, "--run", help="Run fetch + brief + deliver once now (under the run lock)."),
    offline: bool = typer.Option(False, "--offline", help="With --run: no network (local/file feeds only)."),
    as_json: bool = typer.Option(False, "--json", help="With --run: print the result as JSON."),
) -> None:
    """Schedule the daily briefing: print cron/systemd units, or run the job once (--run).

    Exit codes with --run: 0 ok, 1 some feeds or a delivery channel failed (the
    briefing is still built), or another run holds the lock.
    """
    from newsdesk.serve.schedule import LockBusy, cron_text, parse_at, run_daily, systemd_text

    st = state(ctx)
    cfg = st.config
    at = at or cfg.serve.schedule_at or "06:30"
    try:
        parse_at(at)
    except ValueError as e:
        fail(f"--at: {e}", EXIT_USAGE)
    tz = cfg.briefing.timezone
    if run:
        st.close()
        try:
            result = run_daily(st.home, offline=offline, log=st.info)
        except LockBusy as e:
            fail(str(e), EXIT_PARTIAL)
        if as_json:
            print_json(result)
        if st.quiet:  # otherwise already printed as the run went
            for line in result["feeds_failed"]:
                st.warn(f"feed failed: {line}")
        if result["feeds_failed"] or any(not d["ok"] for d in result["delivered"]):
            raise typer.Exit(EXIT_PARTIAL)  # the briefing was still built and delivered
        return
    if print_systemd:
        typer.echo(systemd_text(at, st.home, tz), nl=False)
    if print_cron or not print_systemd:
        typer.echo(cron_text(at, st.home, tz), nl=False)


def deliver(
    ctx: typer.Context,
    date: Optional[str] = typer.Option(None, "--date", help="Briefing date YYYY-MM-DD (default: the latest)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Send an archived briefing through the channels enabled in the config's delivery section (email, vault)."""
    from newsdesk.serve import services
    from newsdesk.serve.deliver import deliver_briefing

    st = state(ctx)
    cfg = st.config
    try:
        b = services.get_briefing(st.store, date or "latest")
    except services.ServiceError as e:
        fail(str(e), EXIT_USAGE)
    results = deliver_briefing(cfg, b)
    if as_json:
        print_json([r.to_dict() for r in results])
    if not results:
        st.warn("no delivery channel is enabled ([delivery.email] / [delivery.vault] enabled = true)")
    for r in results:
        (st.info if r.ok else st.warn)(f"{r.channel}: {r.detail}")
    if any(not r.ok for r in results):
        raise typer.Exit(EXIT_PARTIAL)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("schedule")(schedule)
    app.command("deliver")(deliver)
