//! A provider's quality report: what the screen and the workbook show (plans, follow-up actions, results
//! against the norms), the workbook itself, and the norm lookup every screen with results uses.

use std::collections::HashMap;

use time::Date;

use crate::domain::certification::MarkStatus;
use crate::domain::quality::{check_norms, is_overdue, ExamComponent, Norm, NormCheck};
use crate::store::providers::Provider;
use crate::store::quality::{CriteriaSet, FollowUpAction, PlanVersion, StoredResult};
use crate::store::{self, Db};

/// The norms a provider's results are held to: the criteria set of its latest plan version (`plans` are the
/// provider's own), or else the newest criteria set. The quality dashboard, the provider report and the indicators
/// all ask here, so a result has one outcome everywhere.
///
/// `sets` are all criteria sets (a handful), read once per page: the dashboard asked for a provider's set once
/// per provider, 30 queries at ten times a big city. `cache` keeps each set's norms by set id.
pub async fn norms_for(
    db: &Db,
    sets: &[CriteriaSet],
    plans: &[PlanVersion],
    cache: &mut HashMap<i64, Vec<(String, Norm)>>,
) -> sqlx::Result<(Option<CriteriaSet>, Vec<(String, Norm)>)> {
    let latest = plans.iter().max_by_key(|p| (p.submitted_on, p.id));
    let set = match latest {
        Some(p) => sets.iter().find(|s| s.id == p.criteria_set_id),
        // The newest set (highest id), as for a new plan version.
        None => sets.iter().max_by_key(|s| s.id),
    };
    let Some(set) = set.cloned() else { return Ok((None, Vec::new())) };
    if let std::collections::hash_map::Entry::Vacant(slot) = cache.entry(set.id) {
        let norms = store::quality::criteria(db, set.id)
            .await?
            .into_iter()
            .filter_map(|c| c.norm.map(|n| (c.code, n)))
            .collect();
        slot.insert(norms);
    }
    let norms = cache.get(&set.id).cloned().unwrap_or_default();
    Ok((Some(set), norms))
}

/// Each result compared with every norm it has a value for (`domain::quality::check_norms`).
pub fn compare(results: Vec<StoredResult>, norms: &[(String, Norm)]) -> Vec<ResultChecks> {
    results
        .into_iter()
        .map(|r| {
            let checks = check_norms(&r.result, norms.iter().map(|(c, n)| (c.as_str(), *n)));
            ResultChecks { result: r, checks }
        })
        .collect()
}

/// Results of one year and route with their comparisons.
pub struct ResultChecks {
    pub result: StoredResult,
    pub checks: Vec<NormCheck>,
}

/// Everything the report shows, for the screen and the xlsx alike.
pub struct ProviderReport {
    pub provider: Provider,
    pub mark: MarkStatus,
    pub plans: Vec<PlanVersion>,
    pub actions: Vec<FollowUpAction>,
    pub norms_from: Option<CriteriaSet>,
    pub results: Vec<ResultChecks>,
    pub today: Date,
}

/// The report as a workbook: a summary sheet and one sheet each for plans, actions, results and norms,
/// each with a bold, frozen header row and readable column widths.
pub fn report_xlsx(r: &ProviderReport) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use crate::report::export::{table_sheet, write_cell, write_header, Cell};
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let date = |d: Option<Date>| d.map(Cell::Date).unwrap_or(Cell::Empty);
    let decimal = |d: Option<rust_decimal::Decimal>| d.map(Cell::Number).unwrap_or(Cell::Empty);
    {
        let ws = wb.add_worksheet();
        ws.set_name("Samenvatting")?;
        write_header(ws, 0, &[("Kwaliteitsrapport", 34.0), (r.provider.name.as_str(), 60.0)])?;
        let open = r.actions.iter().filter(|a| !a.status.is_closed()).count();
        let overdue = r.actions.iter().filter(|a| is_overdue(a.status, a.due_date, r.today)).count();
        let latest = r.plans.iter().max_by_key(|p| (p.submitted_on, p.id));
        let lines = [
            ("Stand van", Cell::Date(r.today)),
            ("KvK-nummer", Cell::text(&r.provider.kvk)),
            ("Keurmerk", Cell::Text(r.mark.words())),
            (
                "Laatste kwaliteitsplan",
                Cell::Text(
                    latest
                        .map(|p| format!("{} versie {}: {}", p.contract_reference, p.version_no, p.status.label()))
                        .unwrap_or_else(|| "Geen plan ingediend".into()),
                ),
            ),
            ("Open verbeterpunten", Cell::Count(open as i64)),
            ("Verbeterpunten te laat", Cell::Count(overdue as i64)),
            (
                "Normen uit toetsingskader",
                Cell::Text(r.norms_from.as_ref().map(|s| s.label()).unwrap_or_else(|| "—".into())),
            ),
            ("Oranje betekent", Cell::text("de norm gemist met hoogstens 10% van de normwaarde")),
        ];
        for (i, (k, v)) in lines.iter().enumerate() {
            ws.write_string_with_format(i as u32 + 1, 0, *k, &bold)?;
            write_cell(ws, i as u32 + 1, 1, v)?;
        }
    }
    table_sheet(
        &mut wb,
        "Kwaliteitsplannen",
        &[
            ("Contract", 20.0),
            ("Versie", 8.0),
            ("Ingediend", 12.0),
            ("Status", 22.0),
            ("Besloten op", 12.0),
            ("Besluit door", 18.0),
            ("Onderbouwing", 60.0),
            ("Bestand", 36.0),
        ],
        r.plans.iter().map(|p| {
            vec![
                Cell::text(&p.contract_reference),
                Cell::Count(p.version_no),
                Cell::Date(p.submitted_on),
                Cell::text(p.status.label()),
                date(p.decided_on),
                Cell::Text(p.decided_by.clone().unwrap_or_default()),
                Cell::text(&p.decision_reasoning),
                Cell::text(&p.file_name),
            ]
        }),
    )?;
    table_sheet(
        &mut wb,
        "Verbeterpunten",
        &[
            ("Omschrijving", 60.0),
            ("Bron", 26.0),
            ("Eigenaar", 20.0),
            ("Aangemaakt", 12.0),
            ("Streefdatum", 12.0),
            ("Status", 16.0),
            ("Te laat", 9.0),
            ("Reactie aanbieder", 50.0),
        ],
        r.actions.iter().map(|a| {
            vec![
                Cell::text(&a.description),
                Cell::text(a.source.label()),
                Cell::text(&a.owner),
                Cell::Date(a.created_on),
                Cell::Date(a.due_date),
                Cell::text(a.status.label()),
                Cell::text(if is_overdue(a.status, a.due_date, r.today) { "ja" } else { "nee" }),
                Cell::text(&a.provider_response),
            ]
        }),
    )?;
    let mut headers: Vec<(String, f64)> = vec![
        ("Meetjaar".into(), 10.0),
        ("Route".into(), 10.0),
        ("Gestart".into(), 10.0),
        ("Afgerond".into(), 10.0),
        ("Uitgevallen".into(), 12.0),
    ];
    headers.extend(ExamComponent::ALL.iter().map(|c| (format!("Geslaagd {} (%)", c.in_sentence()), 16.0)));
    headers.extend([("Tevredenheid".into(), 13.0), ("NT2-docenten (%)".into(), 16.0), ("Groepsgrootte".into(), 14.0)]);
    table_sheet(
        &mut wb,
        "Resultaten",
        &headers,
        r.results.iter().map(|rc| {
            let x = &rc.result.result;
            let mut row = vec![
                Cell::Count(x.year.into()),
                Cell::text(x.route.short_label()),
                Cell::Count(x.started),
                Cell::Count(x.completed),
                Cell::Count(x.dropped_out),
            ];
            row.extend(ExamComponent::ALL.iter().map(|c| decimal(x.pass_rates.get(c).copied())));
            row.extend([decimal(x.satisfaction), decimal(x.nt2_share), decimal(x.group_size)]);
            row
        }),
    )?;
    table_sheet(
        &mut wb,
        "Normen",
        &[
            ("Meetjaar", 10.0),
            ("Route", 10.0),
            ("Eis", 10.0),
            ("Meet", 44.0),
            ("Norm", 18.0),
            ("Resultaat", 14.0),
            ("Toelichting", 24.0),
            ("Uitkomst", 20.0),
            ("Kleur", 10.0),
        ],
        r.results.iter().flat_map(|rc| {
            rc.checks.iter().map(move |c| {
                vec![
                    Cell::Count(rc.result.result.year.into()),
                    Cell::text(rc.result.result.route.short_label()),
                    // A criterion code such as "12" stays the code it is.
                    Cell::text(&c.criterion_code),
                    Cell::text(c.norm.metric.label()),
                    Cell::Text(c.norm.describe()),
                    // As on screen, with its unit, next to the norm it is compared with.
                    Cell::Text(c.norm.metric.format(c.value)),
                    Cell::text(&c.note),
                    Cell::text(c.outcome.label()),
                    Cell::text(c.outcome.colour()),
                ]
            })
        }),
    )?;
    wb.save_to_buffer()
}
