"""Run every benchmark: ``python bench/run_all.py [--quick] [--only NAME ...]``.

Each benchmark runs in its own process (no shared caches between them) and
writes ``bench/results/<name>.json`` with machine info. Not part of the test
suite. ``--quick`` uses fewer repeats and only the 10k-chunk latency size.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = {
    "ingest": "bench_ingest.py",
    "e2e": "bench_e2e.py",
    "summarizer": "bench_summarizer.py",
    "embedding": "bench_embed.py",
    "latency": "bench_latency.py",
    "hnsw_recall": "bench_hnsw_recall.py",
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="fewer repeats, smaller sizes")
    ap.add_argument("--only", nargs="*", choices=sorted(BENCHES), help="run only these")
    a = ap.parse_args()
    failed = []
    for name, script in BENCHES.items():
        if a.only and name not in a.only:
            continue
        t0 = time.perf_counter()
        print(f"== {name}", flush=True)
        rc = subprocess.call([sys.executable, str(HERE / script), *(["--quick"] if a.quick else [])], cwd=HERE)
        print(f"   {name}: exit {rc} in {time.perf_counter() - t0:.1f}s", flush=True)
        if rc:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
