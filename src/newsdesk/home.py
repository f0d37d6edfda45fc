"""Where newsdesk keeps its files.

Precedence: ``--home DIR`` > ``$NEWSDESK_HOME`` > the platform user data dir
(``~/.local/share/newsdesk`` on Linux).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs


@dataclass(frozen=True)
class Home:
    root: Path

    @property
    def config_path(self) -> Path:
        return self.root / "newsdesk.toml"

    @property
    def db_path(self) -> Path:
        return self.root / "newsdesk.db"

    @property
    def briefings_dir(self) -> Path:
        return self.root / "briefings"

    @property
    def index_dir(self) -> Path:
        return self.root / "index"

    @property
    def lock_path(self) -> Path:
        return self.root / "newsdesk.lock"

    def ensure(self) -> "Home":
        self.root.mkdir(parents=True, exist_ok=True)
        return self


def resolve_home(explicit: str | os.PathLike[str] | None = None) -> Home:
    if explicit:
        return Home(Path(explicit).expanduser().resolve())
    env = os.environ.get("NEWSDESK_HOME")
    if env:
        return Home(Path(env).expanduser().resolve())
    return Home(Path(platformdirs.user_data_dir("newsdesk", appauthor=False)))
