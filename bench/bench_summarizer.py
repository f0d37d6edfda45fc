"""Extractive summarizer vs ``summa`` TextRank on the same items: speed and ROUGE against the lead.

Items: every demo-feed item with at least 5 sentences (prose written for the
project's demo) plus generated bench items. Reference: each item's first three
sentences (lead-3), the usual proxy for news. Both systems get the same
~60-word budget (newsdesk ``max_words=60, max_sentences=3``; summa
``words=60``). ROUGE-1/2/L F1 from ``rouge-score`` with stemming.

Caveat stated in the results: newsdesk's scorer has a lead bias, so a lead-3
reference favours it; TextRank picks central sentences wherever they are.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

from common import ROOT, ratio, summary, write_result
from gen import article, title


def items(quick: bool) -> list[tuple[str, str]]:
    from newsdesk.brief.sentences import split_sentences
    from newsdesk.collect.parse import parse_feed

    out = []
    for p in sorted((ROOT / "src" / "newsdesk" / "demo" / "data" / "feeds").glob("*")):
        try:
            pf = parse_feed(p.read_bytes(), p.resolve().as_uri())
        except Exception:  # noqa: BLE001 - the demo includes a deliberately broken feed
            continue
        for r in pf.entries:
            if len(split_sentences(r.text)) >= 5:
                out.append((r.title, r.text))
    rng = random.Random(5)
    for _ in range(40 if quick else 150):
        out.append((title(rng), " ".join(article(rng, rng.randint(6, 12)))))
    return out


def run(quick: bool) -> dict:
    from rouge_score import rouge_scorer
    from summa import summarizer as summa_summarizer

    from newsdesk.brief.sentences import split_sentences
    from newsdesk.brief.summarize import summarize

    data = items(quick)
    refs = [" ".join(split_sentences(text)[:3]) for _, text in data]
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    results = {}
    repeats = 2 if quick else 3
    for name in ("newsdesk", "summa_textrank"):
        times, outs = [], []
        for _ in range(repeats):
            outs = []
            t0 = time.perf_counter()
            for i, (t, text) in enumerate(data):
                if name == "newsdesk":
                    outs.append(" ".join(s.text for s in summarize([(i, text)], t, max_words=60, max_sentences=3)))
                else:
                    outs.append(summa_summarizer.summarize(text, words=60).replace("\n", " "))
            times.append(time.perf_counter() - t0)
        sc = [scorer.score(ref, hyp) for ref, hyp in zip(refs, outs)]
        results[name] = {
            "seconds_all_items": summary(times),
            "items_per_second": round(len(data) / statistics.median(times), 1),
            "rouge1_f": round(statistics.mean(s["rouge1"].fmeasure for s in sc), 4),
            "rouge2_f": round(statistics.mean(s["rouge2"].fmeasure for s in sc), 4),
            "rougeL_f": round(statistics.mean(s["rougeL"].fmeasure for s in sc), 4),
            "empty_summaries": sum(1 for o in outs if not o.strip()),
            "mean_words": round(statistics.mean(len(o.split()) for o in outs), 1),
        }
    nd, tr = results["newsdesk"], results["summa_textrank"]
    return {
        "items": len(data), "reference": "lead-3 of each item (favours lead-biased systems such as newsdesk)",
        "budget": "about 60 words / 3 sentences for both", "systems": results,
        "ratio_time_newsdesk_over_summa": ratio(nd["seconds_all_items"]["median"], tr["seconds_all_items"]["median"]),
    }


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    write_result("summarizer", run(a.quick), a.quick)
