-- Funding streams, their allocations and budget lines, the default stream per cohort, creditor links to
-- providers, attribution rules, and closed years.

CREATE TABLE funding_stream (
    id          INTEGER PRIMARY KEY,
    code        TEXT    NOT NULL UNIQUE CHECK (length(code) BETWEEN 1 AND 30),
    name        TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind        TEXT    NOT NULL CHECK (kind IN ('specific_grant', 'municipality_fund', 'own_funds', 'other')),
    cohorts     TEXT    NOT NULL DEFAULT '',   -- comma-separated cohort codes; empty: any cohort
    spend_from  TEXT    NOT NULL,
    spend_until TEXT,
    carry_over  INTEGER NOT NULL DEFAULT 0 CHECK (carry_over IN (0, 1)),
    notes       TEXT    NOT NULL DEFAULT '',
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
) STRICT;

CREATE TABLE allocation (
    id           INTEGER PRIMARY KEY,
    stream_id    INTEGER NOT NULL REFERENCES funding_stream (id),
    year         INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    kind         TEXT    NOT NULL CHECK (kind IN ('advance', 'final_settlement', 'correction')),
    amount_cents INTEGER NOT NULL,
    reference    TEXT    NOT NULL,
    decided_on   TEXT    NOT NULL,
    batch_id     INTEGER,              -- set when it came in through an import
    created_at   TEXT    NOT NULL
) STRICT;

CREATE INDEX allocation_stream_year ON allocation (stream_id, year);

CREATE TABLE budget_line (
    id           INTEGER PRIMARY KEY,
    stream_id    INTEGER NOT NULL REFERENCES funding_stream (id),
    category     TEXT    NOT NULL CHECK (length(category) BETWEEN 1 AND 100),
    year         INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
    batch_id     INTEGER,
    created_at   TEXT    NOT NULL,
    UNIQUE (stream_id, category, year)
) STRICT;

-- Which stream carries the commitments of placements of each cohort (configurable).
CREATE TABLE cohort_stream (
    cohort    TEXT    PRIMARY KEY CHECK (cohort IN ('wi2021', 'wi2013', 'elip', 'other')),
    stream_id INTEGER NOT NULL REFERENCES funding_stream (id)
) STRICT;

-- A creditor in the financial system that is one of our providers.
CREATE TABLE creditor_link (
    creditor_number TEXT    PRIMARY KEY,
    provider_id     INTEGER NOT NULL REFERENCES provider (id)
) STRICT;

CREATE TABLE attribution_rule (
    id                    INTEGER PRIMARY KEY,
    position              INTEGER NOT NULL,
    name                  TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    cost_centre           TEXT    NOT NULL DEFAULT '',
    gl_account            TEXT    NOT NULL DEFAULT '',
    task_field            TEXT    NOT NULL DEFAULT '',
    creditor_number       TEXT    NOT NULL DEFAULT '',
    description_contains  TEXT    NOT NULL DEFAULT '',
    date_from             TEXT,
    date_until            TEXT,
    stream_id             INTEGER NOT NULL REFERENCES funding_stream (id),
    budget_line_id        INTEGER REFERENCES budget_line (id),
    contract_id           INTEGER REFERENCES contract (id),
    contract_via_creditor INTEGER NOT NULL DEFAULT 0 CHECK (contract_via_creditor IN (0, 1)),
    created_at            TEXT    NOT NULL
) STRICT;

CREATE TABLE year_close (
    year      INTEGER PRIMARY KEY,
    closed_by TEXT    NOT NULL,
    closed_at TEXT    NOT NULL
) STRICT;

-- Where each imported ledger line is attributed, and why (a rule, or a person with a reason). A line with
-- no row here is in the unattributed queue, so attributed + unattributed = imported by construction.
CREATE TABLE ledger_attribution (
    ledger_entry_id INTEGER PRIMARY KEY REFERENCES ledger_entry (id) ON DELETE CASCADE,
    stream_id       INTEGER NOT NULL REFERENCES funding_stream (id),
    budget_line_id  INTEGER REFERENCES budget_line (id),
    contract_id     INTEGER REFERENCES contract (id),
    source          TEXT    NOT NULL CHECK (source IN ('rule', 'manual')),
    rule_id         INTEGER REFERENCES attribution_rule (id) ON DELETE SET NULL,
    assigned_by     TEXT,
    reason          TEXT,
    assigned_at     TEXT    NOT NULL,
    CHECK (source = 'rule' OR (assigned_by IS NOT NULL AND length(reason) > 0))
) STRICT;

CREATE INDEX ledger_attribution_stream ON ledger_attribution (stream_id);
CREATE INDEX ledger_attribution_contract ON ledger_attribution (contract_id);
