-- E-mail digests (issue #24). One row per user and period ('2026-12-07' daily, '2026-W49' weekly): the unique key
-- is the claim, taken in a transaction before sending, so a restart or a second server never sends the same
-- digest twice. A failed send stays 'failed' with its error and is retried until `attempts` reaches the limit;
-- admins see failures on /beheer/meldingen. 'empty': the period had nothing to say, so nothing was sent.
CREATE TABLE digest (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES app_user (id),
    period     TEXT    NOT NULL,
    status     TEXT    NOT NULL CHECK (status IN ('sending', 'sent', 'empty', 'failed')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    items      INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    claimed_at TEXT    NOT NULL,
    sent_at    TEXT,
    UNIQUE (user_id, period)
) STRICT;

-- What each sent digest said, per subject and level: the next digest tells only what is new or more pressing.
CREATE TABLE digest_item (
    user_id INTEGER NOT NULL REFERENCES app_user (id),
    subject TEXT    NOT NULL,
    level   INTEGER NOT NULL,
    sent_at TEXT    NOT NULL,
    PRIMARY KEY (user_id, subject)
) STRICT;
