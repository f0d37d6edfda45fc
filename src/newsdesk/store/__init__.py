"""Storage. ``open_store`` returns the SQLite backend; see ``base.Store`` for the interface."""

from newsdesk.store.base import Store, UpsertResult
from newsdesk.store.sqlite import SQLiteStore, open_store

__all__ = ["Store", "SQLiteStore", "UpsertResult", "open_store"]
