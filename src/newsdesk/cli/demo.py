"""CLI: ``newsdesk demo`` — the whole pipeline, offline, on the bundled demo data.

Steps: a fresh home (temporary unless ``--dir``), the demo config, an offline
fetch of the demo feeds (one of them is deliberately malformed and fails), the
briefing in Markdown, HTML and JSON, the demo documents added to the knowledge
base, one answerable and one unanswerable question asked, and the briefing
evaluated. It prints where everything is.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any, Optional

import typer

from rich.markup import escape

from newsdesk.cli.common import EXIT_PARTIAL, out_console, state
from newsdesk.home import Home


def _pick_questions(questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    answerable = next((q for q in questions if q.get("answerable")), None)
    unanswerable = next((q for q in questions if not q.get("answerable")), None)
    return [q for q in (answerable, unanswerable) if q]


def run_demo(root: Path, *, say: Any = print, ask_questions: bool = True) -> dict[str, Any]:
    """Run the demo pipeline into ``root``; returns the paths and headline numbers."""
    from newsdesk.brief.run import run_brief
    from newsdesk.config import load_config
    from newsdesk.demo.data import DATA_DIR, demo_config_text, demo_date
    from newsdesk.store import open_store

    home = Home(root).ensure()
    home.config_path.write_text(demo_config_text(DATA_DIR), encoding="utf-8")
    config = load_config(home.config_path)
    store = open_store(home.db_path)
    out: dict[str, Any] = {"home": str(home.root)}
    try:
        result = run_brief(store, config, home, date=demo_date(), fetch=True, offline=True, say=say)
        b = result.briefing
        out["briefing_files"] = [str(p) for p in result.paths]
        out["feeds_failed"] = [f"{r.name}: {r.error}" for r in (result.report.failed if result.report else [])]
        s = b["stats"]
        out["briefing"] = {k: s[k] for k in ("stories", "words", "duplicates_removed", "feeds_ok", "feeds_failed", "faithfulness")}

        # Knowledge base: the demo documents (briefed items were indexed by run_brief).
        from newsdesk.ask.kb import index_documents
        from newsdesk.collect.documents import expand_inputs, load_one

        docs_dir = DATA_DIR / "docs"
        loaded = [load_one(ref, config.fetch) for ref in expand_inputs([str(docs_dir)])]
        report = index_documents(store, config, loaded)
        out["documents"] = len(report.docs)
        say(f"added {len(report.docs)} demo documents to the knowledge base")

        if ask_questions:
            from newsdesk.ask.answer import ask

            questions = json.loads((DATA_DIR / "questions.json").read_text(encoding="utf-8"))
            answers = []
            for q in _pick_questions(questions):
                answers.append(ask(store, config, q["question"], filters=None))
            answers_path = home.root / "answers.json"
            answers_path.write_text(json.dumps(answers, ensure_ascii=False, indent=2), encoding="utf-8")
            out["answers_file"] = str(answers_path)
            out["answers"] = answers

        from newsdesk.eval.briefing import evaluate_briefing, store_lookup

        ev = evaluate_briefing(b, store_lookup(store))
        out["eval"] = ev.to_dict()
    finally:
        store.close()
    return out


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        ctx: typer.Context,
        directory: Optional[Path] = typer.Option(None, "--dir", help="Home for the demo (default: a new temporary directory)."),
        as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    ) -> None:
        """Run the whole pipeline offline on the bundled demo data and print where the outputs are."""
        st = state(ctx)
        root = directory.resolve() if directory else Path(tempfile.mkdtemp(prefix="newsdesk-demo-"))
        if directory and (root / "newsdesk.db").exists():
            st.warn(f"{root} already holds a demo; re-running on it (nothing is duplicated)")
        out = run_demo(root, say=st.info)
        if as_json:
            from newsdesk.cli.common import print_json

            print_json(out)
            raise typer.Exit(0 if out["eval"]["ok"] else EXIT_PARTIAL)
        c = out_console
        b = out["briefing"]
        c.print(f"\n[bold]newsdesk demo[/] — home: {escape(out['home'])}", highlight=False)
        c.print(
            f"briefing: {b['stories']} stories, {b['words']} words, {b['duplicates_removed']} duplicates removed, "
            f"faithfulness {b['faithfulness']:.2f}, feeds ok {b['feeds_ok']}, failed {b['feeds_failed']}",
            highlight=False,
        )
        for f in out["feeds_failed"]:
            c.print(escape(f"  expected failure (the demo ships a malformed feed): {f}"), highlight=False)
        for a in out.get("answers", []):
            c.print(f"\n[bold]Q:[/] {escape(a['question'])}", highlight=False)
            c.print(f"[bold]A:[/] {escape(a['answer'])}", highlight=False)
            for i, cit in enumerate(a["citations"][:3], start=1):
                where = f", p. {cit['page']}" if cit.get("page") else ""
                c.print(escape(f"   [{i}] {cit['title']}{where} — {cit.get('url') or cit.get('source')}"), highlight=False)
        ev = out["eval"]
        c.print(f"\nbriefing check: {'passed' if ev['ok'] else 'FAILED'}", highlight=False)
        c.print("\noutputs:", highlight=False)
        for p in out["briefing_files"]:
            c.print(escape(f"  {p}"), highlight=False)
        if out.get("answers_file"):
            c.print(escape(f"  {out['answers_file']}"), highlight=False)
        c.print(escape(f"\nbrowse it:  newsdesk --home {out['home']} serve"), highlight=False)
        raise typer.Exit(0 if ev["ok"] else EXIT_PARTIAL)
