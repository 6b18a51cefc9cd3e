-- Four-eyes approval of imports (setting `four_eyes_imports`): a ledger or funding batch imported while it is on
-- waits for another finance user or an admin. NULL: no approval was asked (imported with the setting off, or a
-- register kind); 'pending': waits, and its records count nowhere (store::approval::counts says so, the one
-- rule); 'approved': counts; 'rejected': removed like an undo (status 'undone'). Who decided and when is kept
-- here and in the audit log.
ALTER TABLE import_batch ADD COLUMN approval TEXT CHECK (approval IN ('pending', 'approved', 'rejected'));
ALTER TABLE import_batch ADD COLUMN approval_by TEXT;
ALTER TABLE import_batch ADD COLUMN approval_at TEXT;

-- The pending batches are few; every "does this count" test reads them through this index.
CREATE INDEX import_batch_pending ON import_batch (id) WHERE approval = 'pending';

-- Approving a funding batch changes the allocations and budget lines the overviews count without touching
-- those tables, so it moves the counter the overview inputs cache watches (see 0011).
CREATE TRIGGER import_batch_approval_overview AFTER UPDATE OF approval ON import_batch
WHEN NEW.kind = 'funding'
BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
