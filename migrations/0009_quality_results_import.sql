-- Results per measurement year can come in through the import engine (kind 'results', template
-- standaard-resultaten): import_batch.kind accepts 'results', and quality_result keeps the batch that brought a row
-- so `taalbudget import undo BATCH` removes exactly those rows.
--
-- Why not the usual create-copy-drop-rename rebuild of import_batch: ledger_entry and the register tables reference
-- import_batch(id), and with foreign keys on (our connections always have them on, and sqlx runs every SQLite
-- migration inside a transaction, where PRAGMA foreign_keys cannot be switched off) dropping the old table fails on
-- those references. SQLite documents a simpler procedure for loosening a CHECK constraint (ALTER TABLE, "Making
-- other kinds of table schema changes"): rewrite the table's SQL in sqlite_schema. Adding a value to the IN list
-- only widens the check; every stored row still satisfies it and the on-disk format does not change. The ALTER
-- TABLE below it bumps the schema cookie, so every connection rereads the schema.

PRAGMA writable_schema = ON;
UPDATE sqlite_schema
SET sql = replace(sql, '''placements'', ''funding''))', '''placements'', ''funding'', ''results''))')
WHERE type = 'table' AND name = 'import_batch';
PRAGMA writable_schema = OFF;

-- Refuse to go on (rolling the migration back) when the rewrite did not take, e.g. on a hand-edited schema.
CREATE TEMP TABLE migration_0009_check (ok INTEGER NOT NULL CHECK (ok = 1));
INSERT INTO migration_0009_check (ok)
SELECT instr(sql, '''funding'', ''results''))') > 0 FROM sqlite_schema WHERE type = 'table' AND name = 'import_batch';
DROP TABLE migration_0009_check;

ALTER TABLE quality_result ADD COLUMN batch_id INTEGER REFERENCES import_batch (id);
CREATE INDEX quality_result_batch ON quality_result (batch_id) WHERE batch_id IS NOT NULL;
