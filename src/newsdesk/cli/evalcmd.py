"""CLI: ``newsdesk eval`` — briefing checks, retrieval metrics (BEIR format), QA metrics and LLM judge."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Optional

import typer
from rich.table import Table

from newsdesk.cli.common import EXIT_PARTIAL, EXIT_USAGE, fail, out_console, print_json, state

eval_app = typer.Typer(help="Evaluate briefings, retrieval and question answering.", no_args_is_help=True)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _load_sources(path: Path) -> dict[int, str]:
    """A ``{item_id: text}`` JSON object, or JSONL lines with ``item_id``/``id`` and ``text``."""
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as e:
        fail(f"{path}: cannot read sources: {e}")
    try:
        data = json.loads(raw)
        if isinstance(data, dict):
            return {int(k): str(v) for k, v in data.items()}
        if isinstance(data, list):
            return {int(d.get("item_id", d.get("id"))): str(d.get("text") or "") for d in data}
    except (json.JSONDecodeError, ValueError, TypeError, AttributeError):
        pass
    out: dict[int, str] = {}
    for n, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            out[int(d.get("item_id", d.get("id")))] = str(d.get("text") or "")
        except (json.JSONDecodeError, ValueError, TypeError, AttributeError):
            fail(f"{path}:{n}: not a JSON object with item_id and text")
    return out


def _print_table(title: str, rows: list[tuple[str, Any]]) -> None:
    t = Table(title=title, show_header=False)
    t.add_column("metric")
    t.add_column("value", justify="right")
    for k, v in rows:
        t.add_row(k, "" if v is None else (f"{v:.4f}" if isinstance(v, float) else str(v)))
    out_console.print(t)


@eval_app.command("briefing")
def eval_briefing(
    ctx: typer.Context,
    target: Optional[str] = typer.Argument(None, help="A briefing JSON file, a date (YYYY-MM-DD) from the archive, or nothing for the latest."),
    sources: Optional[Path] = typer.Option(None, "--sources", help="JSON map item_id -> cleaned text, for files evaluated without the database."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable report."),
) -> None:
    """Check a briefing: faithfulness, HTML entities, mojibake, duplicates, invented text, failed sections.

    Exits 1 on any violation.
    """
    from newsdesk.eval.briefing import evaluate_briefing, store_lookup

    st = state(ctx)
    briefing: dict[str, Any] | None = None
    use_db = st.home.db_path.exists()
    if target and Path(target).exists():
        try:
            briefing = json.loads(Path(target).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as e:
            fail(f"{target}: not a briefing JSON file: {e}")
    elif target and not _DATE.match(target):
        fail(f"{target}: no such file, and not a date (YYYY-MM-DD)")
    else:
        if not use_db:
            fail(f"{st.home.db_path}: no database; pass a briefing JSON file")
        from newsdesk.store.briefings import get_briefing, latest_briefing

        briefing = get_briefing(st.store, target) if target else latest_briefing(st.store)
        if briefing is None:
            fail(f"no briefing for {target}" if target else "the archive has no briefing yet; run 'newsdesk brief'")
    if not isinstance(briefing, dict):
        fail(f"{target}: not a briefing JSON object")
    src: Any = None
    if sources is not None:
        src = _load_sources(sources)
    elif use_db:
        src = store_lookup(st.store)
    failures = flags = None
    if use_db:
        from newsdesk.eval.briefing import store_feed_failures, store_item_flags

        failures = store_feed_failures(st.store, briefing.get("generated_at"))
        flags = store_item_flags(st.store)
    report = evaluate_briefing(briefing, src, failures, flags)
    if use_db:
        from newsdesk.monitor import record_run

        record_run(st.store, "eval", {"target": "briefing", "date": report.date, "faithfulness": report.faithfulness,
                                      "violations": len(report.violations), "words": report.words})
    if as_json:
        print_json(report.to_dict())
    else:
        _print_table(f"briefing {report.date or ''}", [
            ("sections", report.sections), ("stories", report.stories), ("summary sentences", report.sentences),
            ("faithfulness (verbatim share)", report.faithfulness), ("unverified sentences", report.unverified),
            ("words", report.words), ("reading time (min, 238 wpm)", f"{report.reading_minutes:.1f}"),
            ("HTML entities", report.entities), ("mojibake strings", report.mojibake),
            ("duplicate stories", report.duplicates), ("summaries on title-only items", report.invented_on_title_only),
            ("failed sections", report.failed_sections), ("failed shown as 'No updates.'", report.failed_shown_as_empty),
            ("filtered by policy", len(report.filtered)),
        ])
        for f in report.filtered:
            out_console.print(f"  filtered: {f.get('action')} [{f.get('rule')}] {f.get('title')} ({f.get('reason')})", highlight=False)
        for v in report.violations:
            out_console.print(f"[red]FAIL[/] {v.check}: {v.where}: {v.detail}", highlight=False)
        if report.ok:
            out_console.print("[green]PASS[/] no violations")
    if not report.ok:
        raise typer.Exit(EXIT_PARTIAL)


def register(app: typer.Typer) -> None:
    app.add_typer(eval_app, name="eval")


@eval_app.command("retrieval")
def eval_retrieval(
    ctx: typer.Context,
    dataset: Path = typer.Option(..., "--dataset", help="BEIR-format directory: corpus.jsonl, queries.jsonl, qrels/test.tsv."),
    modes: str = typer.Option("bm25,dense,hybrid", "--modes", help="Comma-separated: bm25, dense, hybrid."),
    split: str = typer.Option("test", "--split", help="qrels file to use (qrels/<split>.tsv)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable report."),
) -> None:
    """nDCG@10, Recall@10, Recall@100 and MRR@10 per retrieval mode, on a temporary index of the dataset."""
    from newsdesk.config import Config
    from newsdesk.eval.retrieval import MODES, DatasetError, evaluate_retrieval, load_beir

    st = state(ctx)
    wanted = [m.strip() for m in modes.split(",") if m.strip()]
    bad = [m for m in wanted if m not in MODES]
    if bad or not wanted:
        fail(f"--modes: unknown mode(s) {bad or modes!r} (use bm25, dense, hybrid)")
    try:
        ds = load_beir(dataset, split)
    except DatasetError as e:
        fail(str(e))
    config = st.config if st.home.config_path.exists() else Config()
    st.info(f"indexing {len(ds.corpus)} documents, {len(ds.queries)} queries")
    with st.progress("embedding corpus", None) as bar:
        report = evaluate_retrieval(ds, config, wanted, bar)
    for n in report.notices:
        st.warn(n)
    if as_json:
        print_json(report.to_dict())
        return
    t = Table(title=f"retrieval: {dataset} ({report.docs} docs, {report.queries} queries)",
              caption="ms/query: mean; query vectors are memoised, so modes after the first dense one skip encoding")
    for col in ("mode", "nDCG@10", "Recall@10", "Recall@100", "MRR@10", "ms/query"):
        t.add_column(col, justify="right" if col != "mode" else "left")
    for mode, m in report.modes.items():
        t.add_row(mode, f"{m['ndcg@10']:.3f}", f"{m['recall@10']:.3f}", f"{m['recall@100']:.3f}", f"{m['mrr@10']:.3f}",
                  f"{report.seconds[mode] * 1000:.1f}")
    out_console.print(t)


@eval_app.command("qa")
def eval_qa(
    ctx: typer.Context,
    dataset: Path = typer.Option(..., "--dataset", help="JSONL (or JSON list): question, answerable, expected, source."),
    docs: Optional[Path] = typer.Option(None, "--docs", help="Answer from these files (indexed into a temporary store) instead of your indexed documents."),
    baseline: bool = typer.Option(True, "--baseline/--no-baseline", help="Also score the naive recipe (1000/100 chunks, dense top-3, first chunk, never abstains); needs --docs."),
    use_judge: bool = typer.Option(True, "--judge/--no-judge", help="LLM-as-judge scores when an LLM is configured."),
    extractive: bool = typer.Option(False, "--extractive", help="Answer with the extractive path even when an LLM is configured."),
    details: bool = typer.Option(False, "--details", help="Per-question results in the text output (always in --json)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable report."),
) -> None:
    """Answer-contains-fact rate, citation accuracy, abstention precision/recall (+ LLM judge), vs a naive baseline."""
    from newsdesk.config import Config
    from newsdesk.eval.qa import BaselineRAG, QADatasetError, evaluate_qa, load_qa, newsdesk_system, run_newsdesk_on_docs

    st = state(ctx)
    try:
        items = load_qa(dataset)
    except QADatasetError as e:
        fail(str(e))
    if docs is not None and not docs.is_dir():
        fail(f"--docs {docs}: not a directory")
    config = st.config if st.home.config_path.exists() else Config()
    judge_llm = None
    if use_judge and config.llm.backend != "none":
        from newsdesk.ask.llm import llm_from_config

        judge_llm = llm_from_config(config)
    reports = []
    with st.progress("answering", len(items)) as bar:
        if docs is not None:
            reports.append(run_newsdesk_on_docs(items, config, docs, judge_llm=judge_llm, use_llm=not extractive, progress=bar))
        else:
            if not st.home.db_path.exists():
                fail(f"{st.home.db_path}: no database; index documents with 'newsdesk docs add' or pass --docs DIR")
            reports.append(evaluate_qa(items, newsdesk_system(st.store, config, use_llm=not extractive),
                                       judge_llm=judge_llm, progress=bar))
    if baseline and docs is not None:
        from newsdesk.ask.embed import EmbeddingError

        try:
            base = BaselineRAG(docs)
            with st.progress("baseline", len(items)) as bar:
                reports.append(evaluate_qa(items, base, name=base.name, judge_llm=judge_llm, progress=bar))
        except EmbeddingError as e:
            st.warn(f"baseline skipped: {e}")
    elif baseline:
        st.info("baseline skipped: it needs --docs DIR (it chunks the files itself)")
    if as_json:
        print_json({"dataset": str(dataset), "systems": [r.to_dict() for r in reports]})
        return
    t = Table(title=f"QA: {dataset} ({len(items)} questions, {sum(i.answerable for i in items)} answerable)")
    t.add_column("metric")
    for r in reports:
        t.add_column(r.system.split(" (")[0], justify="right")
    rows = ["fact_rate", "all_facts_rate", "citation_accuracy", "abstention_precision", "abstention_recall", "answer_words"]
    for key in rows:
        t.add_row(key, *["n/a" if getattr(r, key) is None else f"{getattr(r, key):.3f}" for r in reports])
    if judge_llm is not None:
        for m in reports[0].judge:
            t.add_row(f"judge: {m}", *["n/a" if r.judge.get(m) is None else f"{r.judge[m]:.3f}" for r in reports])
        t.add_row("judge errors", *[str(r.judge_errors) for r in reports])
    out_console.print(t)
    if details:
        for r in reports:
            out_console.print(f"[bold]{r.system}[/]")
            for d in r.details:
                mark = "abstained" if d.abstained else f"{d.facts_found}/{d.facts} facts"
                out_console.print(f"  {'A' if d.answerable else 'U'} {mark:>10}  {d.question}", highlight=False)
                for j in d.judge:
                    out_console.print(f"      {j['metric']}: {j['score']} - {j['explanation'] or j['error']}", highlight=False)
