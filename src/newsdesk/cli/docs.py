"""CLI: ``newsdesk add`` and ``newsdesk docs list|remove`` — the document library behind "Ask your desk"."""

from __future__ import annotations

from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from newsdesk.cli.common import EXIT_PARTIAL, EXIT_USAGE, fail, out_console, print_json, state
from newsdesk.errors import DocumentError

docs_app = typer.Typer(help="List or remove the documents you added.", no_args_is_help=True)


def add(
    ctx: typer.Context,
    inputs: list[str] = typer.Argument(..., help="Files, directories (recursive), http(s) URLs or youtube:VIDEO_ID."),
    tag: list[str] = typer.Option([], "--tag", "-t", help="Tag to attach (repeatable)."),
    title: Optional[str] = typer.Option(None, "--title", help="Title (only with a single input)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Add documents: PDF, Markdown/text (YAML front matter), HTML, web pages, YouTube transcripts.

    Re-adding an unchanged document does nothing; a changed one is re-chunked and re-indexed.
    """
    from newsdesk.ask.kb import index_documents
    from newsdesk.collect.documents import expand_inputs, load_one

    st = state(ctx)
    cfg = st.config
    refs = list(expand_inputs(inputs))
    if title and len(refs) != 1:
        fail("--title: only allowed when adding a single document", EXIT_USAGE)
    errors: list[str] = []
    loaded = []
    with st.progress("Loading documents", total=len(refs)) as bar:
        for ref in refs:
            try:
                doc = load_one(ref, cfg.fetch)
            except DocumentError as e:
                errors.append(str(e))
                st.warn(str(e))
            else:
                if title:
                    doc.title = title
                for t in tag:
                    if t not in doc.tags:
                        doc.tags.append(t)
                loaded.append(doc)
            bar.advance()
    with st.progress("Embedding chunks", total=None) as bar:
        report = index_documents(st.store, cfg, loaded, bar)
    if report.notice:
        st.warn(report.notice)
    if as_json:
        print_json({**report.to_dict(), "errors": errors})
    else:
        for d in report.docs:
            out_console.print(f"{d['status']:9} #{d['id']:<4} {escape(d['title'] or '')}  [dim]{escape(d['source'] or '')}[/]", highlight=False)
        st.info(f"{report.new} new, {report.updated} updated, {report.unchanged} unchanged, "
                f"{len(errors)} failed; {report.embedded} chunks embedded")
    if errors:
        raise typer.Exit(EXIT_PARTIAL)


@docs_app.command("list")
def list_(
    ctx: typer.Context,
    kind: Optional[str] = typer.Option(None, "--kind", help="document or briefing."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Documents in the library with their date, tags and chunk count."""
    from newsdesk.store.documents import DocumentStore

    st = state(ctx)
    rows = DocumentStore(st.store).list(kind)
    if as_json:
        print_json(rows)
        return
    table = Table("id", "kind", "title", "published", "tags", "chunks", "source", box=None)
    for r in rows:
        cells = (str(r["id"]), r["kind"], r["title"], (r["published"] or "")[:10], ", ".join(r["tags"]),
                 str(r["n_chunks"]), r["source"])
        table.add_row(*(escape(c or "") for c in cells))  # titles are document text, not rich markup
    out_console.print(table)


@docs_app.command("remove")
def remove(
    ctx: typer.Context,
    ident: str = typer.Argument(..., help="Document id (see `docs list`), path or URL."),
) -> None:
    """Remove a document and its chunks from the library."""
    from pathlib import Path

    from newsdesk.store.documents import DocumentStore

    st = state(ctx)
    ds = DocumentStore(st.store)
    doc = ds.remove(ident)
    if doc is None and not ident.isdigit() and Path(ident).exists():
        doc = ds.remove(str(Path(ident).expanduser().resolve()))
    if doc is None:
        fail(f"{ident}: no such document (see `newsdesk docs list`)", EXIT_USAGE)
    st.info(f"removed #{doc['id']} {doc['title']}")


def register(app: typer.Typer) -> None:
    app.command("add")(add)
    app.add_typer(docs_app, name="docs")
