-- Personal API tokens (issue #23). Only a SHA-256 hash of the secret is stored: the secret is shown once when
-- the token is made. A token acts with its user's role, so the role at creation is kept: when an admin changes
-- the user's role, the token stops working instead of quietly gaining or losing rights.

CREATE TABLE api_token (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES app_user (id),
    name         TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    -- The first characters of the secret, shown in lists so a user can tell their tokens apart.
    prefix       TEXT    NOT NULL,
    secret_hash  TEXT    NOT NULL UNIQUE,
    role         TEXT    NOT NULL CHECK (role IN ('admin', 'contract_manager', 'finance', 'policy_adviser')),
    created_at   TEXT    NOT NULL,
    expires_on   TEXT    NOT NULL, -- ISO date; the token works up to and including this day
    last_used_at TEXT,
    revoked_at   TEXT,
    revoked_by   TEXT
) STRICT;

CREATE INDEX api_token_user ON api_token (user_id);
