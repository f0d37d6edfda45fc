-- 0001: feeds, items, fetch log, run metrics, FTS5 over items.
CREATE TABLE feeds (
    id                   INTEGER PRIMARY KEY,
    url                  TEXT NOT NULL UNIQUE,
    title                TEXT,
    section              TEXT,
    enabled              INTEGER NOT NULL DEFAULT 1,
    fulltext             INTEGER NOT NULL DEFAULT 0,
    site_url             TEXT,
    etag                 TEXT,
    last_modified        TEXT,
    last_status          INTEGER,
    last_error           TEXT,
    last_fetched_at      TEXT,
    last_ok_at           TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    next_fetch_at        TEXT,
    disabled_reason      TEXT,
    created_at           TEXT NOT NULL
);

CREATE TABLE items (
    id             INTEGER PRIMARY KEY,
    feed_id        INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    guid           TEXT NOT NULL,
    url            TEXT,
    canonical_url  TEXT,
    title          TEXT NOT NULL DEFAULT '',
    author         TEXT,
    published      TEXT,
    raw_html       TEXT,
    content_html   TEXT,
    text           TEXT NOT NULL DEFAULT '',
    content_hash   TEXT NOT NULL,
    flags          TEXT NOT NULL DEFAULT '[]',
    first_seen     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    UNIQUE (feed_id, guid)
);
CREATE INDEX items_canonical_url ON items(canonical_url);
CREATE INDEX items_published ON items(published);
CREATE INDEX items_first_seen ON items(first_seen);
CREATE INDEX items_content_hash ON items(content_hash);

CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,              -- fetch | brief | ...
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    metrics     TEXT NOT NULL DEFAULT '{}'  -- JSON
);

CREATE TABLE fetch_log (
    id            INTEGER PRIMARY KEY,
    run_id        INTEGER REFERENCES runs(id) ON DELETE SET NULL,
    feed_id       INTEGER REFERENCES feeds(id) ON DELETE CASCADE,
    url           TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    duration_ms   INTEGER,
    status        INTEGER,
    outcome       TEXT NOT NULL,             -- ok | not_modified | error | skipped
    error         TEXT,
    items_new     INTEGER NOT NULL DEFAULT 0,
    items_updated INTEGER NOT NULL DEFAULT 0,
    bytes         INTEGER
);
CREATE INDEX fetch_log_feed ON fetch_log(feed_id, started_at);

CREATE VIRTUAL TABLE items_fts USING fts5(
    title, text, content='items', content_rowid='id', tokenize='porter unicode61'
);
CREATE TRIGGER items_ai AFTER INSERT ON items BEGIN
    INSERT INTO items_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
END;
CREATE TRIGGER items_ad AFTER DELETE ON items BEGIN
    INSERT INTO items_fts(items_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
END;
CREATE TRIGGER items_au AFTER UPDATE OF title, text ON items BEGIN
    INSERT INTO items_fts(items_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
    INSERT INTO items_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
END;
