"""Shared fixtures and data for the "Ask your desk" tests, and the abstention calibration set.

The corpus is written for this project (fictional library, compost talk, cache blog post, cycling
survey). ``LABELLED`` pairs questions with the file that answers them (None = unanswerable); it is the
set the abstention threshold in ``newsdesk.ask.answer`` was calibrated on. Run

    python tests/ask_helpers.py

to print each question's evidence score and the best threshold (documented in docs/ask.md).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

LIBRARY_2021_PAGES = [
    (
        "Riverbend Public Library Annual Report 2021\n\n"
        "The library welcomed 48,200 visitors in 2021, despite reduced opening hours during the spring. "
        "Two new branches opened in the Eastgate and Millbrook neighbourhoods. "
        "Volunteers contributed 3,150 hours to the homework club and the reading buddies programme."
    ),
    (
        "Budget and collections\n\n"
        "The operating budget for 2021 was 3.1 million dollars, most of it spent on staff and rent. "
        "Readers borrowed 12,400 e-books through the digital lending service. "
        "The board approved a plan to replace the ageing self-checkout machines."
    ),
]

LIBRARY_2023_MD = """---
title: Riverbend Public Library Annual Report 2023
published: 2023-03-15
tags: [library, annual-report]
---
# Riverbend Public Library Annual Report 2023

## Visitors

The library welcomed 61,750 visitors in 2023, the highest number since records began.
Evening opening on Thursdays was extended until nine o'clock.

## Collections

Readers borrowed 29,900 e-books through the digital lending service.
A tool lending shelf with 340 tools, from drills to ladders, was launched in the Eastgate branch.
"""

TRANSCRIPT_MD = """---
title: Home Composting Basics (talk transcript)
date: 2024-04-20
video_id: cmpst000001
video_url: https://www.youtube.com/watch?v=cmpst000001
is_generated: true
channel: Green Thumb Evenings
tags: [garden, transcript]
---
Welcome everyone to tonight's session on composting at home.
The most important rule is balance: use about three parts brown material, such as dry leaves or cardboard, to one part green material, such as vegetable scraps.
Turn the pile every two weeks so that air reaches the middle.
A healthy pile warms up quickly, and the centre should reach about 55 degrees Celsius within a few days.
Never add meat or dairy, because they attract rats and smell terrible.
Finished compost is dark, crumbly and smells like a forest floor, which usually takes three to six months.
"""

BLOG_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Why we moved our edge cache to SQLite</title>
<meta name="author" content="Priya Raman">
<meta property="article:published_time" content="2024-06-02T09:00:00Z">
<meta name="keywords" content="engineering, databases">
</head><body>
<nav><a href="/">Home</a> | <a href="/blog">Blog</a></nav>
<article>
<h1>Why we moved our edge cache to SQLite</h1>
<p>For three years our edge cache ran on Redis, and every night the memory usage spiked when the batch jobs started.</p>
<p>We replaced Redis with a single SQLite file in write-ahead-log mode on each edge node.
The new cache serves 1,200 requests per second on a single core, which is more than our busiest node needs.</p>
<p>The migration took the team of four engineers about six weeks, most of it spent on testing failover.</p>
<p>Backups are now a plain file copy taken every fifteen minutes.</p>
</article>
<footer>Copyright Example Engineering. Subscribe to our newsletter.</footer>
</body></html>
"""

CYCLING_MD = """---
title: Bicycle Commuting Survey Results
date: 2022-09-30
tags: [transport, survey]
---
# Bicycle Commuting Survey Results

We surveyed 1,480 commuters in the autumn of 2022.
Sixty-two percent of respondents said protected bike lanes would make them ride more often.
The average one-way commute by bicycle was 7.4 kilometres.
Rain was the most common reason given for taking the bus instead.
"""

# (question, file expected to answer it or None for unanswerable)
LABELLED: list[tuple[str, str | None]] = [
    ("How many visitors did the library have in 2021?", "library-2021.pdf"),
    ("How many visitors did the library welcome in 2023?", "library-2023.md"),
    ("How many e-books were borrowed in 2021?", "library-2021.pdf"),
    ("How many e-books did readers borrow according to the 2023 report?", "library-2023.md"),
    ("What was the library's operating budget in 2021?", "library-2021.pdf"),
    ("Which neighbourhoods got new library branches?", "library-2021.pdf"),
    ("How many tools are on the tool lending shelf?", "library-2023.md"),
    ("What ratio of brown to green material is recommended for compost?", "compost-talk.md"),
    ("How often should a compost pile be turned?", "compost-talk.md"),
    ("What temperature should the centre of a compost pile reach?", "compost-talk.md"),
    ("Why should meat and dairy stay out of the compost?", "compost-talk.md"),
    ("How many requests per second does the SQLite cache serve?", "edge-cache.html"),
    ("What did the team use for the edge cache before SQLite?", "edge-cache.html"),
    ("How long did the cache migration take?", "edge-cache.html"),
    ("How often are backups of the cache taken?", "edge-cache.html"),
    ("What share of commuters said protected bike lanes would make them ride more?", "cycling-survey.md"),
    ("What was the average bicycle commute distance?", "cycling-survey.md"),
    ("How many commuters took part in the cycling survey?", "cycling-survey.md"),
    ("When did the library extend its Thursday evening opening?", "library-2023.md"),
    ("How many engineers worked on the cache migration?", "edge-cache.html"),
    ("What was the most common reason for taking the bus instead of cycling?", "cycling-survey.md"),
    ("How long does finished compost take?", "compost-talk.md"),
    ("What is the capital of Australia?", None),
    ("What is the population of the Eastgate neighbourhood?", None),
    ("Which company made the self-checkout machines?", None),
    ("Who is the chief librarian in Riverbend?", None),
    ("How many members does the compost club have?", None),
    ("What did the 2023 report say about the library roof?", None),
    ("Which cloud provider hosts the edge nodes?", None),
    ("How much does a new bicycle cost in Riverbend?", None),
    ("Who won the football world cup in 2022?", None),
    ("What is the boiling point of mercury?", None),
    ("How many employees does the library have?", None),
    ("What programming language is the edge cache written in?", None),
    ("How much did the new self-checkout machines cost?", None),
    ("What is the price of a compost bin?", None),
    ("Which airline has the most flights to Toronto?", None),
    ("How many cats live in the city shelter?", None),
    ("What does the mayor think about the new stadium?", None),
    ("What was the weather forecast for Friday?", None),
    ("How much does a monthly bus pass cost?", None),
]


def make_pdf(path: Path, pages: list[str], *, title: str | None = None) -> Path:
    """A text PDF generated with fpdf2 (one string per page, blank lines = paragraph breaks)."""
    from fpdf import FPDF

    pdf = FPDF()
    if title:
        pdf.set_title(title)
    pdf.set_font("Helvetica", size=11)
    for text in pages:
        pdf.add_page()
        for para in text.split("\n\n"):
            pdf.multi_cell(0, 6, para)
            pdf.ln(4)
    pdf.output(str(path))
    return path


def build_corpus(root: Path) -> Path:
    """Write the test corpus into ``root`` and return it."""
    root.mkdir(parents=True, exist_ok=True)
    make_pdf(root / "library-2021.pdf", LIBRARY_2021_PAGES, title="Riverbend Public Library Annual Report 2021")
    (root / "library-2023.md").write_text(LIBRARY_2023_MD, encoding="utf-8")
    (root / "compost-talk.md").write_text(TRANSCRIPT_MD, encoding="utf-8")
    (root / "edge-cache.html").write_text(BLOG_HTML, encoding="utf-8")
    (root / "cycling-survey.md").write_text(CYCLING_MD, encoding="utf-8")
    return root


def make_config(**ask: Any) -> Any:
    from newsdesk.config import Config

    cfg = Config()
    for k, v in ask.items():
        setattr(cfg.ask, k, v)
    return cfg


def index_corpus_dir(store: Any, config: Any, root: Path) -> Any:
    from newsdesk.ask.kb import index_documents
    from newsdesk.collect.documents import load_paths

    return index_documents(store, config, list(load_paths([str(root)])))


def calibrate(tmp: Path | None = None, backend: str = "local") -> dict[str, Any]:
    """Evidence scores of LABELLED and the threshold that best separates answerable from unanswerable."""
    import tempfile

    from newsdesk.ask.answer import ask
    from newsdesk.store.sqlite import SQLiteStore

    tmp = tmp or Path(tempfile.mkdtemp())
    store = SQLiteStore(tmp / "newsdesk.db")
    cfg = make_config(abstain_threshold=-10.0)
    cfg.embeddings.backend = backend
    index_corpus_dir(store, cfg, build_corpus(tmp / "corpus"))
    rows = []
    for q, expected in LABELLED:
        r = ask(store, cfg, q, debug=True)
        top = r["citations"][0]["source"] if r["citations"] else ""
        rows.append({"question": q, "answerable": expected is not None, "evidence": r["debug"]["evidence"], "parts": r["debug"]["parts"],
                     "right_source": bool(expected and top.endswith(expected))})
    pos = sorted(r["evidence"] for r in rows if r["answerable"])
    neg = sorted(r["evidence"] for r in rows if not r["answerable"])
    values = sorted({r["evidence"] for r in rows})
    best = None
    for lo, hi in zip([values[0] - 0.05] + values, values + [values[-1] + 0.05]):
        t = round((lo + hi) / 2, 3)  # midpoint of each gap between observed scores
        acc = (sum(e >= t for e in pos) + sum(e < t for e in neg)) / len(rows)
        if best is None or acc > best[0]:
            best = (acc, t)
    store.close()
    return {"rows": rows, "n_answerable": len(pos), "n_unanswerable": len(neg), "min_answerable": pos[0],
            "max_unanswerable": neg[-1], "best_accuracy": best[0], "best_threshold": best[1],
            "right_source": sum(r["right_source"] for r in rows)}


if __name__ == "__main__":  # pragma: no cover - calibration report
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    out = calibrate(backend=sys.argv[1] if len(sys.argv) > 1 else "local")
    for r in out["rows"]:
        print(f"{r['evidence']:.3f}  {'A' if r['answerable'] else 'U'}  {'ok ' if r['right_source'] else '   '} {r['question']}  {r['parts']}")
    print({k: v for k, v in out.items() if k != "rows"})


# --------------------------------------------------------------------------- pytest fixtures and servers

import json as _json
import threading as _threading
from http.server import BaseHTTPRequestHandler as _Handler, ThreadingHTTPServer as _Server

import pytest


class LocalServer:
    """A tiny HTTP server on 127.0.0.1 whose replies come from ``respond(path, body) -> (status, bytes, delay)``."""

    def __init__(self, respond: Any):
        self.requests: list[dict[str, Any]] = []
        outer = self

        class H(_Handler):
            def do_POST(self) -> None:  # noqa: N802
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n)
                outer.requests.append({"path": self.path, "headers": dict(self.headers), "body": raw})
                status, body, delay = outer.respond(self.path, raw)
                if delay:
                    import time as _t

                    _t.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *a: Any) -> None:
                pass

        self.respond = respond
        self.server = _Server(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.thread = _threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def chat_reply(content: Any) -> bytes:
    return _json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}).encode()


@pytest.fixture(scope="session")
def model_corpus(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The test corpus indexed with the real embedding model (loaded once per session)."""
    from newsdesk.store.sqlite import SQLiteStore

    tmp = tmp_path_factory.mktemp("askmodel")
    store = SQLiteStore(tmp / "newsdesk.db")
    cfg = make_config()
    root = build_corpus(tmp / "corpus")
    index_corpus_dir(store, cfg, root)
    yield store, cfg, root
    store.close()


@pytest.fixture
def bm25_corpus(tmp_path: Path) -> Any:
    """The test corpus indexed without embeddings (``embeddings.backend = "none"``): fast, BM25 only."""
    from newsdesk.store.sqlite import SQLiteStore

    store = SQLiteStore(tmp_path / "newsdesk.db")
    cfg = make_config()
    cfg.embeddings.backend = "none"
    root = build_corpus(tmp_path / "corpus")
    index_corpus_dir(store, cfg, root)
    yield store, cfg, root
    store.close()
