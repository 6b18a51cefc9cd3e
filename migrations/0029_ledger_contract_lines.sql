-- A contract's attributed ledger lines by booking date, kept by the triggers below in the same transaction as every
-- change to ledger_attribution: the lines behind a contract's figure (the reconciliation's drill-down) are read a
-- page at a time, newest first, without reading the contract's lines of every year (ledger_entry has no index on
-- the booking date, migration 0012). Without rowid: the one B-tree is the index.
CREATE TABLE ledger_contract_line (
    contract_id     INTEGER NOT NULL,
    booking_date    TEXT    NOT NULL,
    ledger_entry_id INTEGER NOT NULL,
    PRIMARY KEY (contract_id, booking_date, ledger_entry_id)
) STRICT, WITHOUT ROWID;

INSERT INTO ledger_contract_line (contract_id, booking_date, ledger_entry_id)
SELECT a.contract_id, e.booking_date, e.id
FROM ledger_attribution a JOIN ledger_entry e ON e.id = a.ledger_entry_id
WHERE a.contract_id IS NOT NULL;

CREATE TRIGGER ledger_attribution_contract_line_insert AFTER INSERT ON ledger_attribution
WHEN NEW.contract_id IS NOT NULL
BEGIN
    INSERT INTO ledger_contract_line (contract_id, booking_date, ledger_entry_id)
    SELECT NEW.contract_id, e.booking_date, e.id FROM ledger_entry e WHERE e.id = NEW.ledger_entry_id;
END;

-- The line's booking date finds the row at once; when the line itself is already gone (a cascade), the row is
-- looked for among the contract's rows.
CREATE TRIGGER ledger_attribution_contract_line_delete AFTER DELETE ON ledger_attribution
WHEN OLD.contract_id IS NOT NULL
BEGIN
    DELETE FROM ledger_contract_line
    WHERE contract_id = OLD.contract_id AND ledger_entry_id = OLD.ledger_entry_id
      AND booking_date = COALESCE((SELECT e.booking_date FROM ledger_entry e WHERE e.id = OLD.ledger_entry_id), booking_date);
END;

CREATE TRIGGER ledger_attribution_contract_line_update AFTER UPDATE OF contract_id, ledger_entry_id ON ledger_attribution
BEGIN
    DELETE FROM ledger_contract_line
    WHERE contract_id = OLD.contract_id AND ledger_entry_id = OLD.ledger_entry_id;
    INSERT INTO ledger_contract_line (contract_id, booking_date, ledger_entry_id)
    SELECT NEW.contract_id, e.booking_date, e.id FROM ledger_entry e
    WHERE e.id = NEW.ledger_entry_id AND NEW.contract_id IS NOT NULL;
END;
