"""CLI: ``newsdesk stats`` — run metrics over time and drift flags (see ``newsdesk.monitor``)."""

from __future__ import annotations

import typer
from rich.table import Table

from newsdesk.cli.common import out_console, print_json, state


def register(app: typer.Typer) -> None:
    @app.command("stats")
    def stats(
        ctx: typer.Context,
        days: int = typer.Option(14, "--days", min=1, help="Days of history to show."),
        as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    ) -> None:
        """Quality monitoring: items per day, feeds ok/failed, words, faithfulness, drift flags.

        Exits 1 when a drift flag is raised (a feed failing 3+ times in a row,
        items/day under half the 14-day median, faithfulness below 1.0).
        """
        from newsdesk.monitor import collect_stats

        st = state(ctx)
        report = collect_stats(st.store, days=days)
        if as_json:
            print_json(report.to_dict())
        else:
            table = Table(title=f"newsdesk runs, last {days} days", caption="fetch: fetch runs; ok/fail: feeds; brief: briefings; faith: faithfulness; filt: policy-filtered items")
            table.add_column("day", no_wrap=True)
            for col in ("fetch", "items", "ok", "fail", "brief", "words", "faith", "filt"):
                table.add_column(col, justify="right")
            for d in report.days:
                table.add_row(
                    d.day, str(d.fetch_runs), str(d.items), str(d.feeds_ok), str(d.feeds_failed), str(d.briefings),
                    "" if d.words is None else str(d.words),
                    "" if d.faithfulness is None else f"{d.faithfulness:.3f}", str(d.filtered),
                )
            out_console.print(table)
            if report.filtered:
                out_console.print("[bold]Filtered from the latest briefing[/]")
                for f in report.filtered:
                    out_console.print(f"  {f.get('action')} [{f.get('rule')}] {f.get('title')} ({f.get('reason')})", highlight=False)
            if report.drift:
                out_console.print("[bold yellow]Drift[/]")
                for dr in report.drift:
                    out_console.print(f"  {dr.kind}: {dr.detail}", highlight=False)
            else:
                out_console.print("No drift flags.")
        if report.drift:
            raise typer.Exit(1)
