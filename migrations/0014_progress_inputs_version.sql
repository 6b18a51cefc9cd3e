-- A counter that moves with every change to what the provider scorecard is computed from (placements, their
-- contracts and providers, progress reports, exam attempts, route changes), in the same transaction as the change:
-- a server may keep computed scorecards in memory until it moves (never longer, so no figure is ever stale).
CREATE TABLE progress_inputs_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
) STRICT;

INSERT INTO progress_inputs_version (id, n) VALUES (1, 0);

CREATE TRIGGER placement_progress_insert AFTER INSERT ON placement BEGIN UPDATE progress_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER placement_progress_update AFTER UPDATE ON placement BEGIN UPDATE progress_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER placement_progress_delete AFTER DELETE ON placement BEGIN UPDATE progress_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER contract_progress_insert AFTER INSERT ON contract BEGIN UPDATE progress_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER contract_progress_update AFTER UPDATE ON contract BEGIN UPDATE progress_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER contract_progress_delete AFTER DELETE ON contract BEGIN UPDATE progress_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER provider_progress_insert AFTER INSERT ON provider BEGIN UPDATE progress_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER provider_progress_update AFTER UPDATE ON provider BEGIN UPDATE progress_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER provider_progress_delete AFTER DELETE ON provider BEGIN UPDATE progress_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER progress_report_progress_insert AFTER INSERT ON progress_report BEGIN UPDATE progress_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER progress_report_progress_update AFTER UPDATE ON progress_report BEGIN UPDATE progress_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER progress_report_progress_delete AFTER DELETE ON progress_report BEGIN UPDATE progress_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER exam_attempt_progress_insert AFTER INSERT ON exam_attempt BEGIN UPDATE progress_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER exam_attempt_progress_update AFTER UPDATE ON exam_attempt BEGIN UPDATE progress_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER exam_attempt_progress_delete AFTER DELETE ON exam_attempt BEGIN UPDATE progress_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER route_change_progress_insert AFTER INSERT ON route_change BEGIN UPDATE progress_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER route_change_progress_update AFTER UPDATE ON route_change BEGIN UPDATE progress_inputs_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER route_change_progress_delete AFTER DELETE ON route_change BEGIN UPDATE progress_inputs_version SET n = n + 1 WHERE id = 1; END;
