-- Import batches (one file, one template, one user, undoable) and the ledger lines they bring in.

CREATE TABLE import_batch (
    id                 INTEGER PRIMARY KEY,
    kind               TEXT    NOT NULL CHECK (kind IN ('ledger', 'providers', 'certifications', 'contracts', 'placements', 'funding')),
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

CREATE INDEX import_batch_sha ON import_batch (file_sha256);

-- One imported ledger line. `identity` (16 bytes of a SHA-256) is the template's key fields or a fingerprint of
-- the whole line plus its occurrence number in the file; it is unique so a re-import cannot add a line twice.
CREATE TABLE ledger_entry (
    id              INTEGER PRIMARY KEY,
    batch_id        INTEGER NOT NULL REFERENCES import_batch (id),
    source_row      INTEGER NOT NULL,
    identity        BLOB    NOT NULL UNIQUE CHECK (length(identity) = 16),
    booking_date    TEXT    NOT NULL,
    fiscal_year     INTEGER,
    period          INTEGER CHECK (period BETWEEN 1 AND 13),
    document        TEXT    NOT NULL DEFAULT '',
    line            TEXT    NOT NULL DEFAULT '',
    gl_account      TEXT    NOT NULL,
    cost_centre     TEXT    NOT NULL,
    task_field      TEXT    NOT NULL DEFAULT '',
    creditor_number TEXT    NOT NULL DEFAULT '',
    creditor_name   TEXT    NOT NULL DEFAULT '',
    invoice_number  TEXT    NOT NULL DEFAULT '',
    description     TEXT    NOT NULL,
    amount_cents    INTEGER NOT NULL
) STRICT;

CREATE INDEX ledger_entry_batch ON ledger_entry (batch_id);
CREATE INDEX ledger_entry_date ON ledger_entry (booking_date);
