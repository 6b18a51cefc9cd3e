-- Pages that walk the whole ledger (issue #21): kept totals and a counter instead of a scan per request.

-- Imported ledger money and lines per booking year, kept current by the triggers below in the same transaction
-- as every ledger line added or removed. With spend_aggregate (attributed money per year) it gives the
-- reconciliation's imported and unattributed totals and the size of the queue without reading the ledger.
-- A line's amount and booking date never change after import.
CREATE TABLE ledger_year_total (
    year         INTEGER PRIMARY KEY,
    amount_cents INTEGER NOT NULL,
    lines        INTEGER NOT NULL
) STRICT;

-- A counter that moves with every change to what the ledger pages compute besides the overview's inputs (ledger
-- lines, their attributions, the rules, creditor links, marks and closed years), in the same transaction as the
-- change: a server may keep the rules' plan and the reconciliation's line signals in memory until it (or
-- overview_inputs_version) moves, never longer.
CREATE TABLE ledger_inputs_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
) STRICT;

INSERT INTO ledger_inputs_version (id, n) VALUES (1, 0);

CREATE TRIGGER ledger_entry_year_total_insert AFTER INSERT ON ledger_entry
BEGIN
    INSERT INTO ledger_year_total (year, amount_cents, lines)
    VALUES (CAST(substr(NEW.booking_date, 1, 4) AS INTEGER), NEW.amount_cents, 1)
    ON CONFLICT (year) DO UPDATE SET amount_cents = amount_cents + excluded.amount_cents, lines = lines + 1;
    UPDATE ledger_inputs_version SET n = n + 1 WHERE id = 1;
END;

CREATE TRIGGER ledger_entry_year_total_delete AFTER DELETE ON ledger_entry
BEGIN
    UPDATE ledger_year_total SET amount_cents = amount_cents - OLD.amount_cents, lines = lines - 1
    WHERE year = CAST(substr(OLD.booking_date, 1, 4) AS INTEGER);
    DELETE FROM ledger_year_total WHERE lines = 0;
    UPDATE ledger_inputs_version SET n = n + 1 WHERE id = 1;
END;

-- The unattributed lines by booking date (newest first is how the queue shows them), kept by the triggers below:
-- a line enters when imported and whenever its attribution goes, and leaves when attributed or removed. The
-- ledger has no index on the booking date (migration 0012), so without this the queue page sorted the ledger.
-- Without rowid: the one B-tree is the index.
CREATE TABLE ledger_queue (
    booking_date    TEXT    NOT NULL,
    ledger_entry_id INTEGER NOT NULL,
    PRIMARY KEY (booking_date, ledger_entry_id)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER ledger_entry_queue_insert AFTER INSERT ON ledger_entry
BEGIN
    INSERT INTO ledger_queue (booking_date, ledger_entry_id) VALUES (NEW.booking_date, NEW.id);
END;

CREATE TRIGGER ledger_entry_queue_delete AFTER DELETE ON ledger_entry
BEGIN
    DELETE FROM ledger_queue WHERE booking_date = OLD.booking_date AND ledger_entry_id = OLD.id;
END;

CREATE TRIGGER ledger_attribution_queue_insert AFTER INSERT ON ledger_attribution
BEGIN
    DELETE FROM ledger_queue
    WHERE booking_date = (SELECT e.booking_date FROM ledger_entry e WHERE e.id = NEW.ledger_entry_id)
      AND ledger_entry_id = NEW.ledger_entry_id;
END;

-- A line whose attribution goes back to the queue, unless the line itself is going (then it is gone already).
CREATE TRIGGER ledger_attribution_queue_delete AFTER DELETE ON ledger_attribution
BEGIN
    INSERT OR IGNORE INTO ledger_queue (booking_date, ledger_entry_id)
    SELECT e.booking_date, e.id FROM ledger_entry e WHERE e.id = OLD.ledger_entry_id;
END;

CREATE TRIGGER ledger_attribution_ledger_insert AFTER INSERT ON ledger_attribution BEGIN UPDATE ledger_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER ledger_attribution_ledger_update AFTER UPDATE ON ledger_attribution BEGIN UPDATE ledger_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER ledger_attribution_ledger_delete AFTER DELETE ON ledger_attribution BEGIN UPDATE ledger_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER attribution_rule_ledger_insert AFTER INSERT ON attribution_rule BEGIN UPDATE ledger_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER attribution_rule_ledger_update AFTER UPDATE ON attribution_rule BEGIN UPDATE ledger_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER attribution_rule_ledger_delete AFTER DELETE ON attribution_rule BEGIN UPDATE ledger_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER creditor_link_ledger_insert AFTER INSERT ON creditor_link BEGIN UPDATE ledger_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER creditor_link_ledger_update AFTER UPDATE ON creditor_link BEGIN UPDATE ledger_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER creditor_link_ledger_delete AFTER DELETE ON creditor_link BEGIN UPDATE ledger_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER certification_ledger_insert AFTER INSERT ON certification BEGIN UPDATE ledger_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER certification_ledger_update AFTER UPDATE ON certification BEGIN UPDATE ledger_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER certification_ledger_delete AFTER DELETE ON certification BEGIN UPDATE ledger_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER year_close_ledger_insert AFTER INSERT ON year_close BEGIN UPDATE ledger_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER year_close_ledger_update AFTER UPDATE ON year_close BEGIN UPDATE ledger_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER year_close_ledger_delete AFTER DELETE ON year_close BEGIN UPDATE ledger_inputs_version SET n = n + 1 WHERE id = 1; END;

-- What was imported and what waits before this migration.
INSERT INTO ledger_year_total (year, amount_cents, lines)
SELECT CAST(substr(booking_date, 1, 4) AS INTEGER), SUM(amount_cents), COUNT(*) FROM ledger_entry GROUP BY 1;

INSERT INTO ledger_queue (booking_date, ledger_entry_id)
SELECT e.booking_date, e.id FROM ledger_entry e
WHERE NOT EXISTS (SELECT 1 FROM ledger_attribution a WHERE a.ledger_entry_id = e.id);
