-- 0002: the briefing archive. Every run is kept (several per date: seq 1, 2, ...).
-- briefing_items records which item (at which content_hash) a briefing reported,
-- so a later briefing repeats an item only when its content changed.
CREATE TABLE briefings (
    id           INTEGER PRIMARY KEY,
    date         TEXT NOT NULL,              -- YYYY-MM-DD in the configured time zone
    seq          INTEGER NOT NULL,           -- 1 for the first run of that date, then 2, 3...
    generated_at TEXT NOT NULL,              -- UTC ISO timestamp
    json         TEXT NOT NULL,              -- the whole briefing (schemas/briefing.schema.json)
    words        INTEGER NOT NULL DEFAULT 0,
    stories      INTEGER NOT NULL DEFAULT 0,
    run_id       INTEGER REFERENCES runs(id) ON DELETE SET NULL,
    UNIQUE (date, seq)
);
CREATE INDEX briefings_date ON briefings(date, seq);

CREATE TABLE briefing_sections (
    briefing_id INTEGER NOT NULL REFERENCES briefings(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL,               -- ok | no_updates | failed | partial
    stories     INTEGER NOT NULL DEFAULT 0,
    errors      TEXT NOT NULL DEFAULT '[]',  -- JSON list of strings
    PRIMARY KEY (briefing_id, position)
);

CREATE TABLE briefing_items (
    briefing_id  INTEGER NOT NULL REFERENCES briefings(id) ON DELETE CASCADE,
    item_id      INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    content_hash TEXT NOT NULL,
    section      TEXT NOT NULL,
    story_index  INTEGER NOT NULL,           -- position of the story inside its section
    story_id     TEXT NOT NULL,
    PRIMARY KEY (briefing_id, item_id)
);
CREATE INDEX briefing_items_item ON briefing_items(item_id);
