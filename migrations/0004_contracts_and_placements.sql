-- Contracts with providers, their tariffs, payment milestones, extension options and documents,
-- and the placements of participants (by client number only) on them.

CREATE TABLE contract (
    id               INTEGER PRIMARY KEY,
    reference        TEXT    NOT NULL UNIQUE CHECK (length(reference) BETWEEN 1 AND 50),
    title            TEXT    NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    provider_id      INTEGER NOT NULL REFERENCES provider (id),
    lot              TEXT    NOT NULL DEFAULT '',
    routes           TEXT    NOT NULL,            -- comma-separated route codes, e.g. 'b1,z'
    start_date       TEXT    NOT NULL,
    initial_end_date TEXT    NOT NULL,
    ceiling_cents    INTEGER NOT NULL CHECK (ceiling_cents >= 0),
    notes            TEXT    NOT NULL DEFAULT '',
    version          INTEGER NOT NULL DEFAULT 1,
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    CHECK (initial_end_date >= start_date)
) STRICT;

CREATE INDEX contract_provider ON contract (provider_id);

CREATE TABLE extension_option (
    id                 INTEGER PRIMARY KEY,
    contract_id        INTEGER NOT NULL REFERENCES contract (id) ON DELETE CASCADE,
    new_end_date       TEXT    NOT NULL,
    notice_deadline    TEXT    NOT NULL,
    status             TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'exercised', 'declined')),
    decision_reference TEXT    NOT NULL DEFAULT '',
    decision_date      TEXT
) STRICT;

CREATE INDEX extension_option_contract ON extension_option (contract_id);

CREATE TABLE tariff (
    id           INTEGER PRIMARY KEY,
    contract_id  INTEGER NOT NULL REFERENCES contract (id) ON DELETE CASCADE,
    route        TEXT    NOT NULL CHECK (route IN ('b1', 'z', 'education', 'map', 'knm', 'alfa')),
    valid_from   TEXT    NOT NULL,
    valid_until  TEXT,
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0)
) STRICT;

CREATE INDEX tariff_contract ON tariff (contract_id, route, valid_from);

CREATE TABLE payment_milestone (
    id          INTEGER PRIMARY KEY,
    contract_id INTEGER NOT NULL REFERENCES contract (id) ON DELETE CASCADE,
    route       TEXT    NOT NULL CHECK (route IN ('b1', 'z', 'education', 'map', 'knm', 'alfa')),
    seq         INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    share_bp    INTEGER NOT NULL CHECK (share_bp > 0 AND share_bp <= 10000), -- hundredths of a percent
    due_kind    TEXT    NOT NULL CHECK (due_kind IN ('start', 'months', 'completion')),
    due_months  INTEGER,
    UNIQUE (contract_id, route, seq)
) STRICT;

CREATE TABLE contract_document (
    id          INTEGER PRIMARY KEY,
    contract_id INTEGER NOT NULL REFERENCES contract (id) ON DELETE CASCADE,
    title       TEXT    NOT NULL,
    location    TEXT    NOT NULL
) STRICT;

CREATE TABLE placement (
    id            INTEGER PRIMARY KEY,
    client_number TEXT    NOT NULL,
    cohort        TEXT    NOT NULL CHECK (cohort IN ('wi2021', 'wi2013', 'elip', 'other')),
    route         TEXT    NOT NULL CHECK (route IN ('b1', 'z', 'education', 'map', 'knm', 'alfa')),
    contract_id   INTEGER NOT NULL REFERENCES contract (id),
    start_date    TEXT    NOT NULL,
    planned_end   TEXT    NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('started', 'ongoing', 'completed', 'dropped_out')),
    status_date   TEXT,
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL,
    CHECK (planned_end >= start_date)
) STRICT;

CREATE INDEX placement_contract ON placement (contract_id, start_date);
CREATE INDEX placement_client ON placement (client_number);
