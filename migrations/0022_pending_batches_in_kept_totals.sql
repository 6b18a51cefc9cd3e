-- Four-eyes approval (0018) meets the kept ledger totals (0015): the lines of a batch waiting for approval count
-- nowhere, so they stay out of ledger_year_total (the imported money per year, and with spend_aggregate the size
-- of the unattributed queue) until the batch is approved. They do enter ledger_queue: the queue lists them,
-- marked "wacht op goedkeuring", and store::approval::counts keeps them out of every figure read from it.
-- A pending batch is created before its lines and its lines are removed (rejection) while it still waits, so
-- the insert and delete triggers see the batch's state as it is for each line.

DROP TRIGGER ledger_entry_year_total_insert;
DROP TRIGGER ledger_entry_year_total_delete;

CREATE TRIGGER ledger_entry_year_total_insert AFTER INSERT ON ledger_entry
WHEN NOT EXISTS (SELECT 1 FROM import_batch b WHERE b.id = NEW.batch_id AND b.approval = 'pending')
BEGIN
    INSERT INTO ledger_year_total (year, amount_cents, lines)
    VALUES (CAST(substr(NEW.booking_date, 1, 4) AS INTEGER), NEW.amount_cents, 1)
    ON CONFLICT (year) DO UPDATE SET amount_cents = amount_cents + excluded.amount_cents, lines = lines + 1;
    UPDATE ledger_inputs_version SET n = n + 1 WHERE id = 1;
END;

CREATE TRIGGER ledger_entry_year_total_delete AFTER DELETE ON ledger_entry
WHEN NOT EXISTS (SELECT 1 FROM import_batch b WHERE b.id = OLD.batch_id AND b.approval = 'pending')
BEGIN
    UPDATE ledger_year_total SET amount_cents = amount_cents - OLD.amount_cents, lines = lines - 1
    WHERE year = CAST(substr(OLD.booking_date, 1, 4) AS INTEGER);
    DELETE FROM ledger_year_total WHERE lines = 0;
    UPDATE ledger_inputs_version SET n = n + 1 WHERE id = 1;
END;

-- Approval: the batch's lines count from now on, in the same transaction that attributes them.
CREATE TRIGGER import_batch_approved_year_total AFTER UPDATE OF approval ON import_batch
WHEN OLD.approval = 'pending' AND NEW.approval = 'approved'
BEGIN
    INSERT INTO ledger_year_total (year, amount_cents, lines)
    SELECT CAST(substr(booking_date, 1, 4) AS INTEGER), SUM(amount_cents), COUNT(*)
    FROM ledger_entry WHERE batch_id = NEW.id GROUP BY 1
    ON CONFLICT (year) DO UPDATE SET amount_cents = amount_cents + excluded.amount_cents, lines = lines + excluded.lines;
    UPDATE ledger_inputs_version SET n = n + 1 WHERE id = 1;
END;

-- Any other change of a batch's approval moves what the ledger pages keep in memory.
CREATE TRIGGER import_batch_approval_ledger AFTER UPDATE OF approval ON import_batch
BEGIN UPDATE ledger_inputs_version SET n = n + 1 WHERE id = 1; END;

-- Pending batches of before this migration: their lines leave the totals until approved.
DELETE FROM ledger_year_total;
INSERT INTO ledger_year_total (year, amount_cents, lines)
SELECT CAST(substr(e.booking_date, 1, 4) AS INTEGER), SUM(e.amount_cents), COUNT(*) FROM ledger_entry e
WHERE NOT EXISTS (SELECT 1 FROM import_batch b WHERE b.id = e.batch_id AND b.approval = 'pending')
GROUP BY 1;
