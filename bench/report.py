"""Render the benchmark results (bench/results/*.json) as Markdown tables for docs/PERFORMANCE.md."""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def load(name: str) -> dict | None:
    p = RESULTS / f"{name}.json"
    return json.loads(p.read_text(encoding="utf-8")) if p.exists() else None


def main() -> None:
    out = []
    m = None
    e2e = load("e2e")
    if e2e:
        m = e2e["machine"]
        r = e2e["result"]
        out += ["### End to end", "",
                "| run | median s | p95 s | items/s |", "|---|---|---|---|",
                f"| cold (fresh home) | {e2e['cold_seconds']['median']:.2f} | {e2e['cold_seconds']['p95']:.2f} | {e2e['items_per_second_cold']} |",
                f"| warm re-run (nothing new) | {e2e['warm_rerun_seconds']['median']:.2f} | {e2e['warm_rerun_seconds']['p95']:.2f} | |", "",
                f"Result: {r['items_stored']} items stored, {r['stories']} stories, {r['words']} words, faithfulness {r['faithfulness']}, "
                f"feeds ok {r['feeds_ok']} / failed {r['feeds_failed']}. Repeats: {e2e['cold_seconds']['n']}.", ""]
    ing = load("ingest")
    if ing:
        ips = ing["items_per_second"]
        out += ["### Ingest", "", "| system | median s (1000 items) | items/s |", "|---|---|---|",
                f"| feedparser.parse only (peer) | {ing['feedparser_seconds']['median']:.3f} | {ips['feedparser']} |",
                f"| newsdesk parse + clean + screen | {ing['newsdesk_parse_clean_screen_seconds']['median']:.3f} | {ips['newsdesk_parse_clean_screen']} |",
                f"| newsdesk parse + clean + screen + store | {ing['newsdesk_parse_clean_screen_store_seconds']['median']:.3f} | {ips['newsdesk_with_store']} |",
                "", f"Ratio newsdesk (with store) / feedparser: **{ing['ratio_newsdesk_full_over_feedparser']}x** the time. Repeats: {ing['feedparser_seconds']['n']}.", ""]
        pipe = ing.get("pipeline")
        if pipe:
            pips = pipe["items_per_second"]
            out += ["| pipeline (same run, peer timed after each collect) | median s (1000 items) | items/s |", "|---|---|---|",
                    f"| feedparser.parse only (peer, 1 thread) | {pipe['feedparser_seconds']['median']:.3f} | {pips['feedparser']} |",
                    f"| newsdesk `collect(offline=True)`: {pipe['parse_worker_processes']} parse worker processes + store | "
                    f"{pipe['newsdesk_collect_seconds']['median']:.3f} | {pips['newsdesk_collect']} |",
                    "", f"Ratio newsdesk pipeline ({pipe['parse_worker_processes']} worker processes) / single-threaded feedparser: "
                    f"**{pipe['ratio_newsdesk_collect_over_feedparser']}x** the time; per core (table above): "
                    f"**{ing['ratio_newsdesk_full_over_feedparser']}x**. Repeats: {pipe['newsdesk_collect_seconds']['n']}.", ""]
    lat = load("latency")
    if lat:
        out += ["### Search and ask latency", "",
                "| chunks | newsdesk search p50 / p95 ms | peer search p50 / p95 ms | search ratio (p50) | newsdesk ask p50 / p95 ms | ask ratio (p50) | HNSW recall@10 vs exact |",
                "|---|---|---|---|---|---|---|"]
        for s in lat["sizes"]:
            out.append(f"| {s['chunks']:,} | {s['newsdesk_search_ms']['median']:.1f} / {s['newsdesk_search_ms']['p95']:.1f} | "
                       f"{s['peer_search_ms']['median']:.1f} / {s['peer_search_ms']['p95']:.1f} | {s['ratio_search_p50_newsdesk_over_peer']} | "
                       f"{s['newsdesk_ask_ms']['median']:.1f} / {s['newsdesk_ask_ms']['p95']:.1f} | {s['ratio_ask_p50_newsdesk_over_peer']} | "
                       f"{s.get('dense_recall@10_hnsw_vs_exact', 'n/a')} |")
        out += ["", "| chunks | newsdesk index s | vectors to SQLite s | first query (HNSW build) s | peer build s |", "|---|---|---|---|---|"]
        for s in lat["sizes"]:
            out.append(f"| {s['chunks']:,} | {s['newsdesk_index_seconds']} | {s['vector_store_seconds']} | "
                       f"{s['newsdesk_first_query_seconds(builds HNSW)']} | {s['peer_build_seconds']} |")
        out.append("")
    emb = load("embedding")
    if emb:
        tps = emb["texts_per_second"]
        c = emb["cache"]
        out += ["### Embedding", "", f"{emb['texts']} texts, {emb['chars_mean']} characters on average.", "",
                "| system | median s | texts/s |", "|---|---|---|",
                f"| SentenceTransformer.encode (peer) | {emb['sentence_transformers_seconds']['median']:.2f} | {tps['sentence_transformers']} |",
                f"| newsdesk LocalEmbedder.embed | {emb['newsdesk_embed_seconds']['median']:.2f} | {tps['newsdesk_embed']} |",
                f"| newsdesk embed_missing, cache cold ({c['vectors_computed_cold']} vectors: both chunk layouts) | {c['cold_seconds']['median']:.2f} | |",
                f"| newsdesk embed_missing, cache warm | {c['warm_seconds']['median']:.4f} | |", "",
                f"Ratio newsdesk / peer (same texts): **{emb['ratio_newsdesk_over_peer']}x**; warm cache vs re-encoding: "
                f"**{c.get('warm_speedup_x_vs_peer')}x** faster.", ""]
    summ = load("summarizer")
    if summ:
        out += ["### Summarizer", "", f"{summ['items']} items; reference: {summ['reference']}; budget: {summ['budget']}.", "",
                "| system | items/s | ROUGE-1 F | ROUGE-2 F | ROUGE-L F | mean words |", "|---|---|---|---|---|---|"]
        for name, s in summ["systems"].items():
            out.append(f"| {name} | {s['items_per_second']} | {s['rouge1_f']} | {s['rouge2_f']} | {s['rougeL_f']} | {s['mean_words']} |")
        out += ["", f"Time ratio newsdesk / summa: **{summ['ratio_time_newsdesk_over_summa']}x**.", ""]
    hr = load("hnsw_recall")
    if hr:
        out += ["### HNSW recall vs exact search", "", f"{hr['vectors']:,} vectors; {hr['params']}.", "",
                "| vectors | recall@10 (newsdesk ef) | recall@10 (ef=800) | build s |", "|---|---|---|---|"]
        for k in ("random_unit_vectors", "clustered_vectors"):
            r = hr[k]
            out.append(f"| {k.replace('_', ' ')} | {r['recall@10_newsdesk_ef']} | {r['recall@10_ef_800']} | {r['build_seconds']} |")
        out.append("")
    if m:
        out = ["### Machine", "", f"{m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB RAM, GPU: {m['gpu']}, Python {m['python']}, "
               f"torch {m['torch']} ({m['torch_threads']} threads), load average at start {m['loadavg_at_start'][0]:.1f}. "
               f"Commit {m['commit']}.", ""] + out
    print("\n".join(out))


if __name__ == "__main__":
    main()
