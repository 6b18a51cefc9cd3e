-- Multi-year overviews: kept spend aggregates, forecast scenarios and frozen snapshots.

-- Attributed ledger money per booking year, stream, contract and budget line (0: none), kept current by the
-- triggers below in the same transaction as every change to ledger_attribution, so overview pages never scan
-- the ledger. A ledger line's amount and booking date never change after import; removing ledger lines must
-- remove their attributions first (store::imports::undo_batch does), because the cascade from ledger_entry
-- runs after the line is gone and the trigger could no longer see its amount.
CREATE TABLE spend_aggregate (
    year           INTEGER NOT NULL,
    stream_id      INTEGER NOT NULL,
    contract_id    INTEGER NOT NULL DEFAULT 0,
    budget_line_id INTEGER NOT NULL DEFAULT 0,
    amount_cents   INTEGER NOT NULL,
    lines          INTEGER NOT NULL,
    PRIMARY KEY (year, stream_id, contract_id, budget_line_id)
) STRICT;

CREATE TRIGGER ledger_attribution_aggregate_insert AFTER INSERT ON ledger_attribution
BEGIN
    INSERT INTO spend_aggregate (year, stream_id, contract_id, budget_line_id, amount_cents, lines)
    SELECT CAST(substr(e.booking_date, 1, 4) AS INTEGER), NEW.stream_id, COALESCE(NEW.contract_id, 0),
           COALESCE(NEW.budget_line_id, 0), e.amount_cents, 1
    FROM ledger_entry e WHERE e.id = NEW.ledger_entry_id
    ON CONFLICT (year, stream_id, contract_id, budget_line_id)
        DO UPDATE SET amount_cents = amount_cents + excluded.amount_cents, lines = lines + 1;
END;

CREATE TRIGGER ledger_attribution_aggregate_delete AFTER DELETE ON ledger_attribution
BEGIN
    UPDATE spend_aggregate
    SET amount_cents = amount_cents - (SELECT e.amount_cents FROM ledger_entry e WHERE e.id = OLD.ledger_entry_id),
        lines = lines - 1
    WHERE (year, stream_id, contract_id, budget_line_id) =
          (SELECT CAST(substr(e.booking_date, 1, 4) AS INTEGER), OLD.stream_id, COALESCE(OLD.contract_id, 0),
                  COALESCE(OLD.budget_line_id, 0)
           FROM ledger_entry e WHERE e.id = OLD.ledger_entry_id);
    DELETE FROM spend_aggregate WHERE lines = 0;
END;

CREATE TRIGGER ledger_attribution_aggregate_update
AFTER UPDATE OF stream_id, contract_id, budget_line_id ON ledger_attribution
WHEN OLD.stream_id IS NOT NEW.stream_id OR OLD.contract_id IS NOT NEW.contract_id
     OR OLD.budget_line_id IS NOT NEW.budget_line_id
BEGIN
    UPDATE spend_aggregate
    SET amount_cents = amount_cents - (SELECT e.amount_cents FROM ledger_entry e WHERE e.id = OLD.ledger_entry_id),
        lines = lines - 1
    WHERE (year, stream_id, contract_id, budget_line_id) =
          (SELECT CAST(substr(e.booking_date, 1, 4) AS INTEGER), OLD.stream_id, COALESCE(OLD.contract_id, 0),
                  COALESCE(OLD.budget_line_id, 0)
           FROM ledger_entry e WHERE e.id = OLD.ledger_entry_id);
    DELETE FROM spend_aggregate WHERE lines = 0;
    INSERT INTO spend_aggregate (year, stream_id, contract_id, budget_line_id, amount_cents, lines)
    SELECT CAST(substr(e.booking_date, 1, 4) AS INTEGER), NEW.stream_id, COALESCE(NEW.contract_id, 0),
           COALESCE(NEW.budget_line_id, 0), e.amount_cents, 1
    FROM ledger_entry e WHERE e.id = NEW.ledger_entry_id
    ON CONFLICT (year, stream_id, contract_id, budget_line_id)
        DO UPDATE SET amount_cents = amount_cents + excluded.amount_cents, lines = lines + 1;
END;

-- What was attributed before this migration.
INSERT INTO spend_aggregate (year, stream_id, contract_id, budget_line_id, amount_cents, lines)
SELECT CAST(substr(e.booking_date, 1, 4) AS INTEGER), a.stream_id, COALESCE(a.contract_id, 0),
       COALESCE(a.budget_line_id, 0), SUM(e.amount_cents), COUNT(*)
FROM ledger_attribution a JOIN ledger_entry e ON e.id = a.ledger_entry_id
GROUP BY 1, 2, 3, 4;

-- A named forecast scenario: yearly tariff indexation beyond the known tariffs and the planned duration
-- per route (for the completion milestone).
CREATE TABLE scenario (
    id                       INTEGER PRIMARY KEY,
    name                     TEXT    NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
    description              TEXT    NOT NULL DEFAULT '',
    tariff_index_bp          INTEGER NOT NULL CHECK (tariff_index_bp BETWEEN 0 AND 10000),
    duration_b1_months       INTEGER NOT NULL CHECK (duration_b1_months BETWEEN 1 AND 120),
    duration_z_months        INTEGER NOT NULL CHECK (duration_z_months BETWEEN 1 AND 120),
    duration_education_months INTEGER NOT NULL CHECK (duration_education_months BETWEEN 1 AND 120),
    version                  INTEGER NOT NULL DEFAULT 1,
    created_at               TEXT    NOT NULL,
    updated_at               TEXT    NOT NULL
) STRICT;

-- Expected inflow of one newcomer group in one year, with its route mix (hundredths of a percent, summing to
-- 100%) and dropout rate.
CREATE TABLE scenario_inflow (
    scenario_id        INTEGER NOT NULL REFERENCES scenario (id) ON DELETE CASCADE,
    year               INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    inflow_group       TEXT    NOT NULL CHECK (inflow_group IN ('asylum', 'family')),
    inflow_low         INTEGER NOT NULL CHECK (inflow_low >= 0),
    inflow_expected    INTEGER NOT NULL CHECK (inflow_expected >= 0),
    inflow_high        INTEGER NOT NULL CHECK (inflow_high >= 0),
    share_b1_bp        INTEGER NOT NULL CHECK (share_b1_bp >= 0),
    share_z_bp         INTEGER NOT NULL CHECK (share_z_bp >= 0),
    share_education_bp INTEGER NOT NULL CHECK (share_education_bp >= 0),
    dropout_bp         INTEGER NOT NULL CHECK (dropout_bp BETWEEN 0 AND 10000),
    PRIMARY KEY (scenario_id, year, inflow_group),
    CHECK (share_b1_bp + share_z_bp + share_education_bp = 10000)
) STRICT;

-- A frozen overview: the figures as they were, stored (never recomputed).
CREATE TABLE overview_snapshot (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
    from_year     INTEGER NOT NULL,
    to_year       INTEGER NOT NULL,
    scenario_name TEXT,
    created_by    TEXT    NOT NULL,
    created_at    TEXT    NOT NULL
) STRICT;

CREATE TABLE overview_snapshot_row (
    snapshot_id     INTEGER NOT NULL REFERENCES overview_snapshot (id) ON DELETE CASCADE,
    view            TEXT    NOT NULL,
    key             TEXT    NOT NULL,
    label           TEXT    NOT NULL,
    year            INTEGER NOT NULL,
    available_cents INTEGER,
    actual_cents    INTEGER NOT NULL,
    committed_cents INTEGER NOT NULL,
    forecast_cents  INTEGER NOT NULL,
    remaining_cents INTEGER,
    PRIMARY KEY (snapshot_id, view, key, year)
) STRICT;

-- A counter that moves with every change to what overviews are computed from besides the ledger (providers, contracts,
-- placements, funding, scenarios), so a server may keep those inputs in memory until it moves.
CREATE TABLE overview_inputs_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
) STRICT;

INSERT INTO overview_inputs_version (id, n) VALUES (1, 0);

CREATE TRIGGER placement_overview_insert AFTER INSERT ON placement BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER placement_overview_update AFTER UPDATE ON placement BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER placement_overview_delete AFTER DELETE ON placement BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER contract_overview_insert AFTER INSERT ON contract BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER contract_overview_update AFTER UPDATE ON contract BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER contract_overview_delete AFTER DELETE ON contract BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER tariff_overview_insert AFTER INSERT ON tariff BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER tariff_overview_update AFTER UPDATE ON tariff BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER tariff_overview_delete AFTER DELETE ON tariff BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER payment_milestone_overview_insert AFTER INSERT ON payment_milestone BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER payment_milestone_overview_update AFTER UPDATE ON payment_milestone BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER payment_milestone_overview_delete AFTER DELETE ON payment_milestone BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER extension_option_overview_insert AFTER INSERT ON extension_option BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER extension_option_overview_update AFTER UPDATE ON extension_option BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER extension_option_overview_delete AFTER DELETE ON extension_option BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER cohort_stream_overview_insert AFTER INSERT ON cohort_stream BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER cohort_stream_overview_update AFTER UPDATE ON cohort_stream BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER cohort_stream_overview_delete AFTER DELETE ON cohort_stream BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER funding_stream_overview_insert AFTER INSERT ON funding_stream BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER funding_stream_overview_update AFTER UPDATE ON funding_stream BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER funding_stream_overview_delete AFTER DELETE ON funding_stream BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER allocation_overview_insert AFTER INSERT ON allocation BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER allocation_overview_update AFTER UPDATE ON allocation BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER allocation_overview_delete AFTER DELETE ON allocation BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER budget_line_overview_insert AFTER INSERT ON budget_line BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER budget_line_overview_update AFTER UPDATE ON budget_line BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER budget_line_overview_delete AFTER DELETE ON budget_line BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER scenario_overview_insert AFTER INSERT ON scenario BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER scenario_overview_update AFTER UPDATE ON scenario BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER scenario_overview_delete AFTER DELETE ON scenario BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER scenario_inflow_overview_insert AFTER INSERT ON scenario_inflow BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER scenario_inflow_overview_update AFTER UPDATE ON scenario_inflow BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER scenario_inflow_overview_delete AFTER DELETE ON scenario_inflow BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER provider_overview_insert AFTER INSERT ON provider BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER provider_overview_update AFTER UPDATE ON provider BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER provider_overview_delete AFTER DELETE ON provider BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
