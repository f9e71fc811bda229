-- Search: sentence embeddings of papers. The search index itself is derived data on disk; it
-- follows `paper.change_seq` (its watermark is kept in the index's own commit, see
-- `search::index`).
--
-- One row per (paper, model): vectors of different models are never compared. `vector` is the
-- unit-length embedding as little-endian f32. `paper_seq` is the paper's `change_seq` when it was
-- embedded, so a changed paper is embedded again. `vector_id` grows with every write, so a
-- running server loads only the vectors written since it last looked.
CREATE TABLE paper_vector (
    vector_id  INTEGER PRIMARY KEY AUTOINCREMENT,
    paper_id   TEXT NOT NULL REFERENCES paper (paper_id) ON DELETE CASCADE,
    model      TEXT NOT NULL,
    paper_seq  INTEGER NOT NULL,
    vector     BLOB NOT NULL,
    UNIQUE (paper_id, model)
);

CREATE INDEX paper_vector_model ON paper_vector (model, vector_id);

-- The index catch-up reads papers in (change_seq, paper_id) order, from a watermark.
CREATE INDEX paper_change_order ON paper (change_seq, paper_id);
