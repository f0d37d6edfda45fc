"""Shared CLI plumbing: the per-invocation state, JSON output, progress bars, exit codes."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from newsdesk.config import Config, load_config
from newsdesk.home import Home
from newsdesk.store import SQLiteStore, open_store

# Exit codes (documented in the README).
EXIT_OK = 0
EXIT_PARTIAL = 1  # the run completed but some sources failed
EXIT_USAGE = 2  # usage or configuration error

err_console = Console(stderr=True, soft_wrap=True)
out_console = Console(soft_wrap=True)


@dataclass
class State:
    home: Home
    quiet: bool = False
    _config: Config | None = field(default=None, repr=False)
    _store: SQLiteStore | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.home.config_path)
        return self._config

    def reload_config(self) -> Config:
        self._config = None
        return self.config

    @property
    def store(self) -> SQLiteStore:
        if self._store is None:
            self.home.ensure()
            self._store = open_store(self.home.db_path)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def info(self, message: str) -> None:
        """Human progress notes on stderr; silenced by --quiet."""
        if not self.quiet:
            err_console.print(escape(message), highlight=False)

    def warn(self, message: str) -> None:
        """Problems are printed even with --quiet (cron mails them)."""
        err_console.print(f"[yellow]warning:[/] {escape(message)}", highlight=False)

    @contextmanager
    def progress(self, description: str, total: int | None) -> Iterator[Any]:
        """A rich progress bar on stderr; a no-op with --quiet or when stderr is not a terminal."""
        if self.quiet or not err_console.is_terminal:
            yield _NullProgress()
            return
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), console=err_console, transient=True,
            auto_refresh=False,  # no refresh thread: collect() may fork parse workers, which wants one thread
        ) as p:
            task = p.add_task(description, total=total)
            yield _TaskProgress(p, task)


class _NullProgress:
    def advance(self, n: int = 1) -> None:
        pass

    def update(self, **kw: Any) -> None:
        pass


class _TaskProgress:
    def __init__(self, progress: Progress, task: Any):
        self._p, self._t = progress, task

    def advance(self, n: int = 1) -> None:
        self._p.advance(self._t, n)
        self._p.refresh()

    def update(self, **kw: Any) -> None:
        self._p.update(self._t, **kw)
        self._p.refresh()


def state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    assert isinstance(obj, State)
    return obj


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    err_console.print(f"[red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code)
