-- A counter that moves with every change to what contracts' commitments are computed from (contracts with their
-- terms and documents, providers' names, placements and their route changes, the cohorts' default streams, and
-- the attributions of ledger lines), in the same transaction as the change: a server may keep each contract's
-- figures, expected payments and "ceiling reached since" in memory until it moves (never longer, so no figure is
-- ever stale). A ledger line's amount and booking date never change after import; its attribution does.
CREATE TABLE commitment_inputs_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
) STRICT;

INSERT INTO commitment_inputs_version (id, n) VALUES (1, 0);

CREATE TRIGGER provider_commitment_insert AFTER INSERT ON provider BEGIN UPDATE commitment_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER provider_commitment_update AFTER UPDATE ON provider BEGIN UPDATE commitment_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER provider_commitment_delete AFTER DELETE ON provider BEGIN UPDATE commitment_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER contract_commitment_insert AFTER INSERT ON contract BEGIN UPDATE commitment_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER contract_commitment_update AFTER UPDATE ON contract BEGIN UPDATE commitment_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER contract_commitment_delete AFTER DELETE ON contract BEGIN UPDATE commitment_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER extension_option_commitment_insert AFTER INSERT ON extension_option BEGIN UPDATE commitment_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER extension_option_commitment_update AFTER UPDATE ON extension_option BEGIN UPDATE commitment_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER extension_option_commitment_delete AFTER DELETE ON extension_option BEGIN UPDATE commitment_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER tariff_commitment_insert AFTER INSERT ON tariff BEGIN UPDATE commitment_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER tariff_commitment_update AFTER UPDATE ON tariff BEGIN UPDATE commitment_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER tariff_commitment_delete AFTER DELETE ON tariff BEGIN UPDATE commitment_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER payment_milestone_commitment_insert AFTER INSERT ON payment_milestone BEGIN UPDATE commitment_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER payment_milestone_commitment_update AFTER UPDATE ON payment_milestone BEGIN UPDATE commitment_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER payment_milestone_commitment_delete AFTER DELETE ON payment_milestone BEGIN UPDATE commitment_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER contract_document_commitment_insert AFTER INSERT ON contract_document BEGIN UPDATE commitment_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER contract_document_commitment_update AFTER UPDATE ON contract_document BEGIN UPDATE commitment_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER contract_document_commitment_delete AFTER DELETE ON contract_document BEGIN UPDATE commitment_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER placement_commitment_insert AFTER INSERT ON placement BEGIN UPDATE commitment_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER placement_commitment_update AFTER UPDATE ON placement BEGIN UPDATE commitment_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER placement_commitment_delete AFTER DELETE ON placement BEGIN UPDATE commitment_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER route_change_commitment_insert AFTER INSERT ON route_change BEGIN UPDATE commitment_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER route_change_commitment_update AFTER UPDATE ON route_change BEGIN UPDATE commitment_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER route_change_commitment_delete AFTER DELETE ON route_change BEGIN UPDATE commitment_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER funding_stream_commitment_insert AFTER INSERT ON funding_stream BEGIN UPDATE commitment_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER funding_stream_commitment_update AFTER UPDATE ON funding_stream BEGIN UPDATE commitment_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER funding_stream_commitment_delete AFTER DELETE ON funding_stream BEGIN UPDATE commitment_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER cohort_stream_commitment_insert AFTER INSERT ON cohort_stream BEGIN UPDATE commitment_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER cohort_stream_commitment_update AFTER UPDATE ON cohort_stream BEGIN UPDATE commitment_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER cohort_stream_commitment_delete AFTER DELETE ON cohort_stream BEGIN UPDATE commitment_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER ledger_attribution_commitment_insert AFTER INSERT ON ledger_attribution BEGIN UPDATE commitment_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER ledger_attribution_commitment_update AFTER UPDATE ON ledger_attribution BEGIN UPDATE commitment_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER ledger_attribution_commitment_delete AFTER DELETE ON ledger_attribution BEGIN UPDATE commitment_inputs_version SET n = n + 1 WHERE id = 1; END;

-- Route changes move a placement's expected payments, which the multi-year overview keeps behind
-- overview_inputs_version (0011): that counter did not move with them.
CREATE TRIGGER route_change_overview_insert AFTER INSERT ON route_change BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER route_change_overview_update AFTER UPDATE ON route_change BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER route_change_overview_delete AFTER DELETE ON route_change BEGIN UPDATE overview_inputs_version SET n = n + 1 WHERE id = 1; END;

-- The placement list, newest start first, paged in SQL.
CREATE INDEX placement_start ON placement (start_date);

-- A placement's timeline reads its reports' exam attempts through their report: without this index, a scan of
-- every attempt.
CREATE INDEX exam_attempt_report ON exam_attempt (report_id);
