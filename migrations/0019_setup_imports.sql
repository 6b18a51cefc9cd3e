-- The finance set-up as files (issue 22): funding streams (kind 'streams', template standaard-bronnen),
-- attribution rules (kind 'rules', standaard-regels) and the whole set-up workbook (kind 'setup': streams, rules,
-- allocations and budget lines in one batch) come in through the import engine. import_batch.kind accepts the
-- three, and streams, rules and cohort defaults keep the batch that brought them, so `import undo` removes exactly
-- those. The CHECK is widened as in 0009 (rewriting the table's SQL; see there why not a rebuild).

PRAGMA writable_schema = ON;
UPDATE sqlite_schema
SET sql = replace(sql, '''results'', ''progress''))', '''results'', ''progress'', ''streams'', ''rules'', ''setup''))')
WHERE type = 'table' AND name = 'import_batch';
PRAGMA writable_schema = OFF;

-- Refuse to go on (rolling the migration back) when the rewrite did not take, e.g. on a hand-edited schema.
CREATE TEMP TABLE migration_0019_check (ok INTEGER NOT NULL CHECK (ok = 1));
INSERT INTO migration_0019_check (ok)
SELECT instr(sql, '''streams'', ''rules'', ''setup''))') > 0 FROM sqlite_schema WHERE type = 'table' AND name = 'import_batch';
DROP TABLE migration_0019_check;

ALTER TABLE funding_stream ADD COLUMN batch_id INTEGER REFERENCES import_batch (id);
ALTER TABLE attribution_rule ADD COLUMN batch_id INTEGER REFERENCES import_batch (id);
-- A cohort default set by an import (only where the cohort had none): undo removes it again.
ALTER TABLE cohort_stream ADD COLUMN batch_id INTEGER REFERENCES import_batch (id);
