//! Who may read the history (`/historie/{kind}/{id}`) of which kind of record. Deny by default: a kind the
//! audit log records must be listed here with the permission its before-and-after values need, or its history
//! page does not exist. The audit log keeps whole records, so a kind gets the permission of the most
//! protected screen that shows the same data.

use super::roles::Permission::{self, *};

/// Every entity kind the audit log records: (kind, what the page calls it, the permission to read it).
pub const HISTORY_KINDS: &[(&str, &str, Permission)] = &[
    // Registers and budgets every role reads on screen.
    ("provider", "aanbieder", Read),
    ("certification", "keurmerkbesluit", Read),
    ("contract", "contract", Read),
    ("tariff", "tarief", Read),
    ("payment_milestones", "betaalmomenten", Read),
    ("payment_milestone", "betaalmoment", Read),
    ("extension_option", "verlengingsoptie", Read),
    ("contract_document", "contractdocument", Read),
    ("funding_stream", "financieringsbron", Read),
    ("allocation", "toekenning", Read),
    ("budget_line", "begrotingspost", Read),
    ("cohort_stream", "standaardbron van een doelgroep", Read),
    ("year", "jaarafsluiting", Read),
    ("quality_criteria_set", "toetsingskader", Read),
    ("quality_criterion", "kwaliteitseis", Read),
    ("quality_plan_version", "versie van een kwaliteitsplan", Read),
    ("quality_assessment", "beoordeling van een kwaliteitsplan", Read),
    ("follow_up_action", "verbeteractie", Read),
    ("quality_result", "resultaten van een meetjaar", Read),
    ("scenario", "scenario", Read),
    ("overview_snapshot", "snapshot", Read),
    ("letter_snapshot", "vastgelegde voortgangsbrief", Read),
    // Counts of newcomers per month and group, never persons.
    ("inflow_count", "instroomaantal", Read),
    // One participant each, or reasons written about them: never the policy adviser.
    ("placement", "plaatsing", ParticipantData),
    ("progress_report", "voortgangsrapportage", ParticipantData),
    ("route_change", "routewijziging", ParticipantData),
    ("invoice_difference", "besluit over een factuurverschil", ParticipantData),
    // A batch of either import area (file name, counts): the roles that import.
    ("import_batch", "importbatch", ParticipantData),
    // Ledger lines, their attribution and the rules: finance's screens.
    ("ledger_entry", "grootboekregel", ManageFinance),
    ("ledger_attribution", "toerekening", ManageFinance),
    ("attribution_rule", "toerekenregel", ManageFinance),
    ("creditor", "crediteur", ManageFinance),
    // Users, and backups and restores (their history holds the server's file paths).
    ("user", "gebruiker", Admin),
    ("api_token", "API-token", Admin),
    ("backup", "back-up", Admin),
    ("database", "database", Admin),
    ("retention", "bewaartermijn", Admin),
];

/// The name and permission of a kind's history; None for a kind that has no history page.
pub fn history_kind(kind: &str) -> Option<(&'static str, Permission)> {
    HISTORY_KINDS.iter().find(|(k, _, _)| *k == kind).map(|(_, label, p)| (*label, *p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_is_listed_once_and_participant_kinds_are_closed_to_the_policy_adviser() {
        let mut kinds: Vec<&str> = HISTORY_KINDS.iter().map(|(k, _, _)| *k).collect();
        kinds.sort_unstable();
        let n = kinds.len();
        kinds.dedup();
        assert_eq!(kinds.len(), n, "a kind listed twice");
        for kind in ["placement", "progress_report", "route_change", "invoice_difference", "ledger_entry", "backup"] {
            let (_, p) = history_kind(kind).unwrap();
            assert!(!super::super::roles::Role::PolicyAdviser.may(p), "{kind}");
        }
        assert_eq!(history_kind("participant"), None);
        assert_eq!(history_kind(""), None);
    }
}
