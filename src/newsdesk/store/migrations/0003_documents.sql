-- 0003: documents (user files and indexed briefing items), their chunks, FTS5 over chunks, embedding cache.
CREATE TABLE documents (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL DEFAULT 'document' CHECK (kind IN ('document', 'briefing')),
    source        TEXT NOT NULL UNIQUE,
    title         TEXT NOT NULL DEFAULT '',
    url           TEXT,
    tags          TEXT NOT NULL DEFAULT '[]',
    metadata      TEXT NOT NULL DEFAULT '{}',
    content_hash  TEXT NOT NULL,
    published     TEXT,
    year          INTEGER,
    feed          TEXT,
    section       TEXT,
    item_id       INTEGER,
    chunking      TEXT,
    added_at      TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX documents_kind ON documents(kind);
CREATE INDEX documents_year ON documents(year);
CREATE INDEX documents_published ON documents(published);
CREATE INDEX documents_item ON documents(item_id);

CREATE TABLE chunks (
    id            INTEGER PRIMARY KEY,
    doc_id        INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    parent_id     INTEGER REFERENCES chunks(id) ON DELETE CASCADE,
    role          TEXT NOT NULL DEFAULT 'chunk' CHECK (role IN ('chunk', 'child', 'parent')),
    ord           INTEGER NOT NULL,
    text          TEXT NOT NULL,
    title         TEXT NOT NULL DEFAULT '',
    page          INTEGER,
    heading       TEXT,
    char_start    INTEGER,
    char_end      INTEGER,
    content_hash  TEXT NOT NULL
);
CREATE INDEX chunks_doc ON chunks(doc_id, role, ord);
CREATE INDEX chunks_parent ON chunks(parent_id);
CREATE INDEX chunks_role ON chunks(role, id);

CREATE VIRTUAL TABLE chunks_fts USING fts5(
    title, text, content='chunks', content_rowid='id', tokenize='porter unicode61'
);
CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
END;
CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
END;
CREATE TRIGGER chunks_au AFTER UPDATE OF title, text ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
    INSERT INTO chunks_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
END;

CREATE TABLE embeddings (
    content_hash  TEXT NOT NULL,
    model         TEXT NOT NULL,
    dim           INTEGER NOT NULL,
    vector        BLOB NOT NULL,
    PRIMARY KEY (content_hash, model)
);
