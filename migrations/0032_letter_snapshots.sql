-- The progress letter's frozen figures (issue 25): producing the Word letter of a year stores the figures of its
-- year tables as the snapshot "Voortgangsbrief {year}", so that next year's letter can show what changed since
-- ("verschil met de vorige brief"). One snapshot per letter year; producing that year's letter again replaces it
-- (the audit log keeps what it replaced). A figure's number is kept exactly as INTEGER hundredths: every figure of
-- the letter has at most two decimals (money in cents, percentages and days with one decimal, counts whole).
CREATE TABLE letter_snapshot (
    id            INTEGER PRIMARY KEY,
    year          INTEGER NOT NULL UNIQUE CHECK (year BETWEEN 2000 AND 2100),
    name          TEXT    NOT NULL,
    scenario_name TEXT,
    data_date     TEXT    NOT NULL,
    created_by    TEXT    NOT NULL,
    created_at    TEXT    NOT NULL
);

CREATE TABLE letter_snapshot_figure (
    snapshot_id   INTEGER NOT NULL REFERENCES letter_snapshot (id) ON DELETE CASCADE,
    tbl           TEXT    NOT NULL,
    caption       TEXT    NOT NULL,
    row_label     TEXT    NOT NULL,
    year          INTEGER NOT NULL,
    kind          TEXT    NOT NULL,
    text          TEXT    NOT NULL,
    value_x100    INTEGER
);

CREATE INDEX letter_snapshot_figure_snapshot ON letter_snapshot_figure (snapshot_id);
