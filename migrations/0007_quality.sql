-- Provider quality: the municipality's criteria sets (versioned, frozen once used), quality plan
-- versions with their document and assessment per criterion, follow-up actions, and results per
-- measurement year. Percentages, scores and group sizes are INTEGER hundredths (80,5% = 8050).

CREATE TABLE quality_criteria_set (
    id          INTEGER PRIMARY KEY,
    tender      TEXT    NOT NULL CHECK (length(tender) BETWEEN 1 AND 200),
    version_no  INTEGER NOT NULL CHECK (version_no >= 1),
    title       TEXT    NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    -- Set when the first assessment uses the set; from then on its criteria cannot change.
    frozen_at   TEXT,
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT    NOT NULL,
    UNIQUE (tender, version_no)
) STRICT;

CREATE TABLE quality_criterion (
    id               INTEGER PRIMARY KEY,
    set_id           INTEGER NOT NULL REFERENCES quality_criteria_set (id),
    code             TEXT    NOT NULL CHECK (length(code) BETWEEN 1 AND 20),
    title            TEXT    NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description      TEXT    NOT NULL DEFAULT '',
    scoring          TEXT    NOT NULL CHECK (scoring IN ('met_partly', 'scale_1_5')),
    knock_out        INTEGER NOT NULL DEFAULT 0 CHECK (knock_out IN (0, 1)),
    norm_metric      TEXT    CHECK (norm_metric IN ('nt2_share', 'group_size', 'pass_rate', 'satisfaction', 'completion_rate', 'dropout_rate')),
    norm_comparison  TEXT    CHECK (norm_comparison IN ('at_least', 'at_most')),
    norm_hundredths  INTEGER,
    seq              INTEGER NOT NULL,
    version          INTEGER NOT NULL DEFAULT 1,
    UNIQUE (set_id, code),
    CHECK ((norm_metric IS NULL) = (norm_comparison IS NULL) AND (norm_metric IS NULL) = (norm_hundredths IS NULL))
) STRICT;

CREATE TABLE quality_plan_version (
    id                 INTEGER PRIMARY KEY,
    contract_id        INTEGER NOT NULL REFERENCES contract (id),
    version_no         INTEGER NOT NULL CHECK (version_no >= 1),
    criteria_set_id    INTEGER NOT NULL REFERENCES quality_criteria_set (id),
    submitted_on       TEXT    NOT NULL,
    status             TEXT    NOT NULL CHECK (status IN ('submitted', 'in_review', 'approved', 'revision_requested', 'rejected')),
    file_name          TEXT    NOT NULL,
    document_kind      TEXT    NOT NULL CHECK (document_kind IN ('pdf', 'docx', 'xlsx')),
    size_bytes         INTEGER NOT NULL CHECK (size_bytes BETWEEN 1 AND 20971520),
    sha256             TEXT    NOT NULL,
    document           BLOB    NOT NULL,
    decision_reasoning TEXT    NOT NULL DEFAULT '',
    decided_by         TEXT,
    decided_on         TEXT,
    version            INTEGER NOT NULL DEFAULT 1,
    created_at         TEXT    NOT NULL,
    updated_at         TEXT    NOT NULL,
    UNIQUE (contract_id, version_no)
) STRICT;

CREATE TABLE quality_assessment (
    id              INTEGER PRIMARY KEY,
    plan_version_id INTEGER NOT NULL REFERENCES quality_plan_version (id),
    criterion_id    INTEGER NOT NULL REFERENCES quality_criterion (id),
    score           TEXT    NOT NULL CHECK (score IN ('met', 'partly', 'not_met', '1', '2', '3', '4', '5')),
    finding         TEXT    NOT NULL DEFAULT '',
    assessor        TEXT    NOT NULL,
    assessed_on     TEXT    NOT NULL,
    -- Copied from the previous plan version and not yet looked at again.
    carried_over    INTEGER NOT NULL DEFAULT 0 CHECK (carried_over IN (0, 1)),
    UNIQUE (plan_version_id, criterion_id)
) STRICT;

CREATE TABLE follow_up_action (
    id                INTEGER PRIMARY KEY,
    provider_id       INTEGER NOT NULL REFERENCES provider (id),
    plan_version_id   INTEGER REFERENCES quality_plan_version (id),
    source            TEXT    NOT NULL CHECK (source IN ('assessment', 'meeting')),
    description       TEXT    NOT NULL CHECK (length(description) BETWEEN 1 AND 2000),
    owner             TEXT    NOT NULL CHECK (length(owner) BETWEEN 1 AND 200),
    created_on        TEXT    NOT NULL,
    due_date          TEXT    NOT NULL,
    status            TEXT    NOT NULL CHECK (status IN ('open', 'in_progress', 'done', 'cancelled')),
    provider_response TEXT    NOT NULL DEFAULT '',
    version           INTEGER NOT NULL DEFAULT 1,
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    CHECK (due_date >= created_on)
) STRICT;

CREATE INDEX follow_up_action_provider ON follow_up_action (provider_id, due_date);
CREATE INDEX follow_up_action_status ON follow_up_action (status, due_date);

CREATE TABLE quality_result (
    id                    INTEGER PRIMARY KEY,
    provider_id           INTEGER NOT NULL REFERENCES provider (id),
    year                  INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    route                 TEXT    NOT NULL CHECK (route IN ('b1', 'z', 'education', 'map', 'knm', 'alfa')),
    started               INTEGER NOT NULL CHECK (started >= 0),
    completed             INTEGER NOT NULL CHECK (completed >= 0),
    dropped_out           INTEGER NOT NULL CHECK (dropped_out >= 0),
    pass_lezen            INTEGER,
    pass_luisteren        INTEGER,
    pass_schrijven        INTEGER,
    pass_spreken          INTEGER,
    pass_knm              INTEGER,
    satisfaction          INTEGER,
    nt2_share             INTEGER,
    group_size            INTEGER,
    version               INTEGER NOT NULL DEFAULT 1,
    created_at            TEXT    NOT NULL,
    updated_at            TEXT    NOT NULL,
    UNIQUE (provider_id, year, route),
    CHECK (completed + dropped_out <= started)
) STRICT;
