-- Records that came in through an import keep the batch that brought them, so `taalbudget import undo BATCH`
-- removes exactly them. NULL: entered on a screen (or by the demo). allocation and budget_line have the column
-- since 0006.

ALTER TABLE provider ADD COLUMN batch_id INTEGER REFERENCES import_batch (id);
ALTER TABLE certification ADD COLUMN batch_id INTEGER REFERENCES import_batch (id);
ALTER TABLE contract ADD COLUMN batch_id INTEGER REFERENCES import_batch (id);
ALTER TABLE tariff ADD COLUMN batch_id INTEGER REFERENCES import_batch (id);
ALTER TABLE payment_milestone ADD COLUMN batch_id INTEGER REFERENCES import_batch (id);
ALTER TABLE placement ADD COLUMN batch_id INTEGER REFERENCES import_batch (id);

CREATE INDEX provider_batch ON provider (batch_id) WHERE batch_id IS NOT NULL;
CREATE INDEX certification_batch ON certification (batch_id) WHERE batch_id IS NOT NULL;
CREATE INDEX contract_batch ON contract (batch_id) WHERE batch_id IS NOT NULL;
CREATE INDEX tariff_batch ON tariff (batch_id) WHERE batch_id IS NOT NULL;
CREATE INDEX payment_milestone_batch ON payment_milestone (batch_id) WHERE batch_id IS NOT NULL;
CREATE INDEX placement_batch ON placement (batch_id) WHERE batch_id IS NOT NULL;
CREATE INDEX allocation_batch ON allocation (batch_id) WHERE batch_id IS NOT NULL;
CREATE INDEX budget_line_batch ON budget_line (batch_id) WHERE batch_id IS NOT NULL;
