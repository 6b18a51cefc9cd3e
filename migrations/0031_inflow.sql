-- Inflow (issue 25): counts, never persons, of people newly subject to the Wet inburgering 2021 linked to the
-- municipality per month and group, and the Ondertussengroep's size (Wi2013, ELIP) per quarter. They come in
-- through the import engine (kind 'instroom', template standaard-instroom) or are entered on /instroom.
-- import_batch.kind accepts 'instroom'; the CHECK is widened as in 0009 and 0019 (rewriting the table's SQL).

PRAGMA writable_schema = ON;
UPDATE sqlite_schema
SET sql = replace(sql, '''setup''))', '''setup'', ''instroom''))')
WHERE type = 'table' AND name = 'import_batch';
PRAGMA writable_schema = OFF;

-- Refuse to go on (rolling the migration back) when the rewrite did not take, e.g. on a hand-edited schema.
CREATE TEMP TABLE migration_0031_check (ok INTEGER NOT NULL CHECK (ok = 1));
INSERT INTO migration_0031_check (ok)
SELECT instr(sql, '''instroom''') > 0 FROM sqlite_schema WHERE type = 'table' AND name = 'import_batch';
DROP TABLE migration_0031_check;

-- One count per period and group. A period is a month ('2022-03') for the newcomer groups and a quarter
-- ('2022-K1') for the Ondertussengroep, whose size is a stock measured at the quarter's end, not an inflow.
CREATE TABLE inflow_count (
    id          INTEGER PRIMARY KEY,
    period      TEXT    NOT NULL,
    year        INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    grp         TEXT    NOT NULL CHECK (grp IN ('asylum_housed', 'asylum_azc', 'family', 'other', 'wi2013', 'elip')),
    count       INTEGER NOT NULL CHECK (count BETWEEN 0 AND 1000000),
    version     INTEGER NOT NULL DEFAULT 1,
    batch_id    INTEGER REFERENCES import_batch (id),
    created_by  TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    CHECK (substr(period, 1, 4) = printf('%04d', year)),
    CHECK ((grp IN ('wi2013', 'elip')) = (period GLOB '[0-9][0-9][0-9][0-9]-K[1-4]')),
    CHECK ((grp IN ('wi2013', 'elip')) OR period GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]'),
    UNIQUE (period, grp)
) STRICT;

CREATE INDEX inflow_count_year ON inflow_count (year);
CREATE INDEX inflow_count_batch ON inflow_count (batch_id) WHERE batch_id IS NOT NULL;
