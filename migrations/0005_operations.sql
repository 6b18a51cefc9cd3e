-- Operations: the backups that were made (from the admin page or the command line), for the
-- "last backup" overview and for downloads.

CREATE TABLE backup_log (
    id             INTEGER PRIMARY KEY,
    made_at        TEXT    NOT NULL,
    made_by        TEXT    NOT NULL,
    origin         TEXT    NOT NULL CHECK (origin IN ('web', 'cli')),
    path           TEXT    NOT NULL,
    bytes          INTEGER NOT NULL CHECK (bytes >= 0),
    tables         INTEGER NOT NULL,
    rows           INTEGER NOT NULL,
    schema_version INTEGER NOT NULL
) STRICT;

CREATE INDEX backup_log_made_at ON backup_log (made_at);
