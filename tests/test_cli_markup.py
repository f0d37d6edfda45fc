"""Document titles are printed as text, never interpreted as rich markup."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _nd(home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "newsdesk", "--home", str(home), *args],
                          capture_output=True, text=True, timeout=120)


def test_bracketed_document_title_is_shown_literally(tmp_path: Path) -> None:
    home = tmp_path / "h"
    assert _nd(home, "init").returncode == 0
    with (home / "newsdesk.toml").open("a", encoding="utf-8") as f:
        f.write('\n[embeddings]\nbackend = "none"\n')
    doc = tmp_path / "n.md"
    doc.write_text('---\ntitle: "Notes [/x] on [bold]markup"\n---\nA body long enough to be indexed as a document.\n',
                   encoding="utf-8")
    added = _nd(home, "add", str(doc))
    assert added.returncode == 0, added.stderr
    assert "[/x]" in added.stdout
    listed = _nd(home, "docs", "list")
    assert listed.returncode == 0, listed.stderr
    assert "[/x]" in listed.stdout and "[bold]" in listed.stdout
