-- A ledger batch's lines are one consecutive run of ledger_entry ids: they are inserted in one write transaction
-- (BEGIN IMMEDIATE), so every id above the previous maximum belongs to it. Queries for one batch use that id
-- range on the table's own key instead of an index on batch_id, which cost a B-tree insert per imported line.
-- The booking_date index goes too: every query takes the year with substr(), which an index cannot serve.
ALTER TABLE import_batch ADD COLUMN first_entry_id INTEGER;
ALTER TABLE import_batch ADD COLUMN last_entry_id INTEGER;

UPDATE import_batch
SET first_entry_id = (SELECT MIN(e.id) FROM ledger_entry e WHERE e.batch_id = import_batch.id),
    last_entry_id  = (SELECT MAX(e.id) FROM ledger_entry e WHERE e.batch_id = import_batch.id)
WHERE kind = 'ledger';

DROP INDEX ledger_entry_batch;
DROP INDEX ledger_entry_date;
