-- Accounts and login attempts (for throttling). Sessions live in the session store's own table.

CREATE TABLE app_user (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE COLLATE NOCASE CHECK (length(username) BETWEEN 3 AND 64),
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'contract_manager', 'finance', 'policy_adviser')),
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
) STRICT;

CREATE TABLE login_attempt (
    id       INTEGER PRIMARY KEY,
    username TEXT    NOT NULL,
    address  TEXT    NOT NULL,
    at       INTEGER NOT NULL, -- unix seconds
    success  INTEGER NOT NULL CHECK (success IN (0, 1))
) STRICT;

CREATE INDEX login_attempt_username ON login_attempt (username, at);
CREATE INDEX login_attempt_address ON login_attempt (address, at);
