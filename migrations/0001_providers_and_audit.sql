-- Providers (taalaanbieders), their Blik op Werk mark decisions, and the append-only audit log.

CREATE TABLE provider (
    id             INTEGER PRIMARY KEY,
    name           TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kvk            TEXT    NOT NULL UNIQUE CHECK (length(kvk) = 8),
    address        TEXT    NOT NULL DEFAULT '',
    contact_person TEXT    NOT NULL DEFAULT '',
    email          TEXT    NOT NULL DEFAULT '',
    phone          TEXT    NOT NULL DEFAULT '',
    notes          TEXT    NOT NULL DEFAULT '',
    active         INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    version        INTEGER NOT NULL DEFAULT 1,
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL
) STRICT;

CREATE INDEX provider_name ON provider (name COLLATE NOCASE);

CREATE TABLE certification (
    id                  INTEGER PRIMARY KEY,
    provider_id         INTEGER NOT NULL REFERENCES provider (id),
    status              TEXT    NOT NULL CHECK (status IN ('fixed_term', 'indefinite', 'suspended', 'withdrawn', 'lapsed', 'refused')),
    decision_date       TEXT    NOT NULL,
    valid_from          TEXT    NOT NULL,
    valid_until         TEXT,
    suspended_from      TEXT,
    suspended_until     TEXT,
    registration_number TEXT    NOT NULL DEFAULT '',
    note                TEXT    NOT NULL DEFAULT '',
    created_at          TEXT    NOT NULL
) STRICT;

CREATE INDEX certification_provider ON certification (provider_id, decision_date);

-- Who changed what, when, with the values before and after. Rows are never changed or removed.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    entity      TEXT    NOT NULL,
    entity_id   TEXT    NOT NULL,
    before_json TEXT,
    after_json  TEXT
) STRICT;

CREATE INDEX audit_entity ON audit_log (entity, entity_id);
CREATE INDEX audit_at ON audit_log (at);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'het auditlog kan niet worden gewijzigd');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'het auditlog kan niet worden gewijzigd');
END;
