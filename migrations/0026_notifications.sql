-- What needs attention reaches users (issue #24): an e-mail address and a digest choice per user, the items each
-- user marked as seen, and each user's secret calendar address.

-- NULL: no address (no digest can be sent). The digest choice is the user's own, on /account/meldingen.
ALTER TABLE app_user ADD COLUMN email TEXT CHECK (email IS NULL OR (length(email) BETWEEN 3 AND 254 AND email LIKE '%_@_%'));
ALTER TABLE app_user ADD COLUMN digest TEXT NOT NULL DEFAULT 'none' CHECK (digest IN ('none', 'daily', 'weekly'));

-- An item counts as seen while a row for its subject holds a level at least as high as the item's: a deadline
-- seen at 60 days shows again at 30 (level 2), a queue seen at 40 lines shows again at 41 (see
-- report::notifications). Seen items stay listed apart on /meldingen; nothing is deleted.
CREATE TABLE notification_seen (
    user_id INTEGER NOT NULL REFERENCES app_user (id),
    subject TEXT    NOT NULL,
    level   INTEGER NOT NULL,
    seen_at TEXT    NOT NULL,
    PRIMARY KEY (user_id, subject)
) STRICT;

-- One calendar address per user: only the SHA-256 of its secret is kept, so the table cannot be used to read
-- anyone's calendar. A new address replaces the old (the row is replaced), revoking deletes the row.
CREATE TABLE calendar_feed (
    user_id     INTEGER PRIMARY KEY REFERENCES app_user (id),
    secret_hash TEXT    NOT NULL UNIQUE,
    created_at  TEXT    NOT NULL
) STRICT;
