"""CLI: ``newsdesk search`` and ``newsdesk ask`` — retrieval and cited answers over your documents."""

from __future__ import annotations

from typing import Optional

import typer
from rich.markup import escape

from newsdesk.cli.common import EXIT_USAGE, fail, out_console, print_json, state


def _filters(kind: Optional[str], source: Optional[str], tag: Optional[str], year: Optional[int],
             since: Optional[str], until: Optional[str]):  # noqa: ANN202
    from newsdesk.collect.documents import _parse_date
    from newsdesk.models import iso
    from newsdesk.store.documents import Filters

    if kind and kind not in ("briefing", "document"):
        fail(f"--kind: {kind!r} is not briefing or document", EXIT_USAGE)

    def _d(opt: str, v: Optional[str]) -> Optional[str]:
        if not v:
            return None
        if len(v) == 10:
            return v if _parse_date(v) else fail(f"{opt}: not a date: {v!r} (use YYYY-MM-DD)", EXIT_USAGE)
        dt = _parse_date(v)
        if dt is None:
            fail(f"{opt}: not a date: {v!r} (use YYYY-MM-DD)", EXIT_USAGE)
        return iso(dt)

    return Filters(kind=kind, source=source, tag=tag, year=year, since=_d("--since", since), until=_d("--until", until))


def search_cmd(
    ctx: typer.Context,
    query: str = typer.Argument(..., help="What to look for."),
    k: int = typer.Option(5, "--k", "-k", min=1, max=100, help="Number of passages."),
    kind: Optional[str] = typer.Option(None, "--kind", help="briefing or document."),
    source: Optional[str] = typer.Option(None, "--source", help="Source path/URL, feed or section (substring)."),
    tag: Optional[str] = typer.Option(None, "--tag", help="Only documents with this tag."),
    year: Optional[int] = typer.Option(None, "--year", help="Only documents dated this year."),
    since: Optional[str] = typer.Option(None, "--since", help="Published on or after (YYYY-MM-DD)."),
    until: Optional[str] = typer.Option(None, "--until", help="Published on or before (YYYY-MM-DD)."),
    mode: str = typer.Option("hybrid", "--mode", help="bm25, dense or hybrid."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Hybrid search (BM25 + embeddings, reciprocal rank fusion) over documents and briefing items."""
    from newsdesk.ask.retrieve import retrieve

    st = state(ctx)
    if mode not in ("bm25", "dense", "hybrid"):
        fail(f"--mode: {mode!r} is not bm25, dense or hybrid", EXIT_USAGE)
    res = retrieve(st.store, st.config, query, k=k, filters=_filters(kind, source, tag, year, since, until), mode=mode)
    if res.notice:
        st.warn(res.notice)
    if as_json:
        print_json([h.to_dict() for h in res.hits])
        return
    if not res.hits:
        st.info("no matches")
    for i, h in enumerate(res.hits, start=1):
        where = f"p. {h.page}" if h.page else (h.heading if h.heading and h.heading != h.title else "")
        meta = " · ".join(x for x in ((h.published or "")[:10], where, f"score {h.score:.4f}") if x)
        out_console.print(f"[bold]{i}. {escape(h.title)}[/] [dim]{escape(meta)}[/]", highlight=False)
        out_console.print(f"   [dim]{escape(h.url or h.source or '')}[/]", highlight=False)
        snippet = " ".join(h.text.split())
        out_console.print("   " + escape(snippet[:300] + ("…" if len(snippet) > 300 else "")), highlight=False)


def ask_cmd(
    ctx: typer.Context,
    question: str = typer.Argument(..., help="Your question."),
    k: Optional[int] = typer.Option(None, "--k", "-k", min=1, max=50, help="Passages to read (default: ask.k)."),
    parent: bool = typer.Option(False, "--parent", help="Search small children, read their large parent passages."),
    kind: Optional[str] = typer.Option(None, "--kind", help="briefing or document."),
    source: Optional[str] = typer.Option(None, "--source", help="Source path/URL, feed or section (substring)."),
    tag: Optional[str] = typer.Option(None, "--tag", help="Only documents with this tag."),
    year: Optional[int] = typer.Option(None, "--year", help="Only documents dated this year."),
    since: Optional[str] = typer.Option(None, "--since", help="Published on or after (YYYY-MM-DD)."),
    until: Optional[str] = typer.Option(None, "--until", help="Published on or before (YYYY-MM-DD)."),
    no_llm: bool = typer.Option(False, "--no-llm", help="Extractive answer even when an LLM is configured."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Answer a question from your documents, with citations; says so when it does not know."""
    from newsdesk.ask.answer import ask

    st = state(ctx)
    if st.config.embeddings.backend == "none":
        st.info("embeddings disabled (embeddings.backend = \"none\"): retrieval is BM25 only")
    res = ask(st.store, st.config, question, k=k, mode="parent" if parent else "chunk",
              filters=_filters(kind, source, tag, year, since, until), llm=False if no_llm else None)
    if as_json:
        print_json(res)
        return
    out_console.print(escape(res["answer"]), highlight=False)
    if res["citations"]:
        out_console.print("")
        out_console.print("[bold]Closest sources:[/]" if res["abstained"] else "[bold]Sources:[/]", highlight=False)
    for i, c in enumerate(res["citations"], start=1):
        where = f", p. {c['page']}" if c.get("page") else (f", § {c['heading']}" if c.get("heading") else "")
        flag = f" [yellow](flagged: {', '.join(c['flags'])})[/]" if c.get("flags") else ""
        out_console.print(escape(f"[{i}] {c['title']}{where} — {c.get('url') or c['source']}") + flag, highlight=False)
    if res["path"] == "llm_fallback":
        st.warn("the LLM answer was unusable or ungrounded; showing the extractive answer")
    st.info(f"{res['path']} · {res['timings_ms']['total']:.0f} ms")


def register(app: typer.Typer) -> None:
    app.command("search")(search_cmd)
    app.command("ask")(ask_cmd)
