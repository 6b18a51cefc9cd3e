-- Progress reports of providers per placement and period, exam attempts, route changes, the attendance norm and
-- catch-up arrangement on contracts, the PIP date on placements, and decisions on invoice-check differences.
--
-- import_batch.kind gets 'progress' (and 'results', which another branch adds in 0009, so both orders of merging
-- leave the same CHECK). SQLite cannot change a CHECK in place, so the table is rebuilt under the same name.
-- Other tables reference import_batch and migrations run inside a transaction (foreign keys cannot be switched
-- off there), so the foreign key checks are deferred to the commit: dropping the table counts its referenced
-- rows as violations, putting the same ids back in the new table resolves them again, and the commit fails if
-- anything is left unresolved.

PRAGMA defer_foreign_keys = ON;

CREATE TEMP TABLE import_batch_copy AS SELECT * FROM import_batch;

DROP TABLE import_batch;

CREATE TABLE import_batch (
    id                 INTEGER PRIMARY KEY,
    kind               TEXT    NOT NULL CHECK (kind IN ('ledger', 'providers', 'certifications', 'contracts', 'placements', 'funding', 'results', 'progress')),
    template           TEXT    NOT NULL,
    file_name          TEXT    NOT NULL,
    file_sha256        TEXT    NOT NULL CHECK (length(file_sha256) = 64),
    imported_by        TEXT    NOT NULL,
    imported_at        TEXT    NOT NULL,
    rows_read          INTEGER NOT NULL DEFAULT 0,
    rows_imported      INTEGER NOT NULL DEFAULT 0,
    rows_duplicate     INTEGER NOT NULL DEFAULT 0,
    rows_rejected      INTEGER NOT NULL DEFAULT 0,
    amount_total_cents INTEGER NOT NULL DEFAULT 0,
    status             TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'undone')),
    undone_by          TEXT,
    undone_at          TEXT
) STRICT;

INSERT INTO import_batch (id, kind, template, file_name, file_sha256, imported_by, imported_at, rows_read,
    rows_imported, rows_duplicate, rows_rejected, amount_total_cents, status, undone_by, undone_at)
SELECT id, kind, template, file_name, file_sha256, imported_by, imported_at, rows_read,
    rows_imported, rows_duplicate, rows_rejected, amount_total_cents, status, undone_by, undone_at
FROM import_batch_copy;

DROP TABLE import_batch_copy;
CREATE INDEX import_batch_sha ON import_batch (file_sha256);

-- The attendance norm (hundredths of a percent) and an optional rate per catch-up hour the municipality pays.
ALTER TABLE contract ADD COLUMN attendance_norm_bp INTEGER NOT NULL DEFAULT 8000
    CHECK (attendance_norm_bp BETWEEN 0 AND 10000);
ALTER TABLE contract ADD COLUMN catch_up_rate_cents INTEGER CHECK (catch_up_rate_cents IS NULL OR catch_up_rate_cents >= 0);
-- An optional payment per attended hour (on top of, or instead of, the milestones).
ALTER TABLE contract ADD COLUMN hourly_rate_cents INTEGER CHECK (hourly_rate_cents IS NULL OR hourly_rate_cents >= 0);

-- The date the participant's PIP was set: lessons must start within 3 months of it.
ALTER TABLE placement ADD COLUMN pip_date TEXT;

-- One provider report per placement and period (a month '2023-03' or a quarter '2023-K1'). Hours in hundredths.
CREATE TABLE progress_report (
    id                 INTEGER PRIMARY KEY,
    placement_id       INTEGER NOT NULL REFERENCES placement (id),
    provider_id        INTEGER NOT NULL REFERENCES provider (id),
    period             TEXT    NOT NULL,
    period_start       TEXT    NOT NULL,
    period_end         TEXT    NOT NULL,
    first_lesson       TEXT,
    offered_x100       INTEGER NOT NULL CHECK (offered_x100 >= 0),
    attended_x100      INTEGER NOT NULL CHECK (attended_x100 >= 0 AND attended_x100 <= offered_x100),
    absence_x100       INTEGER NOT NULL DEFAULT 0 CHECK (absence_x100 >= 0),
    absence_reason     TEXT    NOT NULL DEFAULT '' CHECK (absence_reason IN ('', 'illness', 'pregnancy', 'appointment', 'own_fault', 'other')),
    catch_up_x100      INTEGER NOT NULL DEFAULT 0 CHECK (catch_up_x100 >= 0),
    level_reading      TEXT    NOT NULL DEFAULT '',
    level_listening    TEXT    NOT NULL DEFAULT '',
    level_speaking     TEXT    NOT NULL DEFAULT '',
    level_writing      TEXT    NOT NULL DEFAULT '',
    remarks            TEXT    NOT NULL DEFAULT '',
    batch_id           INTEGER REFERENCES import_batch (id),
    created_by         TEXT    NOT NULL,
    created_at         TEXT    NOT NULL,
    UNIQUE (placement_id, period),
    CHECK (period_end >= period_start)
) STRICT;

CREATE INDEX progress_report_provider ON progress_report (provider_id, period_start);
CREATE INDEX progress_report_batch ON progress_report (batch_id) WHERE batch_id IS NOT NULL;

CREATE TABLE exam_attempt (
    id          INTEGER PRIMARY KEY,
    report_id   INTEGER NOT NULL REFERENCES progress_report (id) ON DELETE CASCADE,
    placement_id INTEGER NOT NULL REFERENCES placement (id),
    part        TEXT    NOT NULL CHECK (part IN ('reading', 'listening', 'speaking', 'writing', 'knm', 'ona')),
    exam_date   TEXT    NOT NULL,
    passed      INTEGER NOT NULL CHECK (passed IN (0, 1))
) STRICT;

CREATE INDEX exam_attempt_placement ON exam_attempt (placement_id, part, exam_date);

-- A decision on a placement's route: a switch to another route, a pause, a resume, a stop.
CREATE TABLE route_change (
    id            INTEGER PRIMARY KEY,
    placement_id  INTEGER NOT NULL REFERENCES placement (id),
    kind          TEXT    NOT NULL CHECK (kind IN ('switch', 'pause', 'resume', 'stop')),
    new_route     TEXT    CHECK (new_route IS NULL OR new_route IN ('b1', 'z', 'education', 'map', 'knm', 'alfa')),
    decision_date TEXT    NOT NULL,
    reason        TEXT    NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    created_by    TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    CHECK ((kind = 'switch') = (new_route IS NOT NULL))
) STRICT;

CREATE INDEX route_change_placement ON route_change (placement_id, decision_date);

-- A contract manager's decision on a difference the invoice check found: explained, or claimed back.
CREATE TABLE invoice_difference (
    id            INTEGER PRIMARY KEY,
    contract_id   INTEGER NOT NULL REFERENCES contract (id),
    period        TEXT    NOT NULL,
    placement_id  INTEGER REFERENCES placement (id),
    amount_cents  INTEGER NOT NULL,
    decision      TEXT    NOT NULL CHECK (decision IN ('explained', 'claim_back')),
    reason        TEXT    NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    decided_by    TEXT    NOT NULL,
    decided_at    TEXT    NOT NULL
) STRICT;

CREATE INDEX invoice_difference_contract ON invoice_difference (contract_id, period);

-- Every foreign key must still resolve before this commits: a count above 0 fails the CHECK.
CREATE TEMP TABLE fk_check_0010 (problems INTEGER CHECK (problems = 0));
INSERT INTO fk_check_0010 SELECT COUNT(*) FROM pragma_foreign_key_check;
DROP TABLE fk_check_0010;
