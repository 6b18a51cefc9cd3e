//! The finance set-up as one workbook: funding streams, attribution rules in order, and the allocations and
//! budget lines of a year, a sheet per kind in the layout of its import template, so `import setup` reads the
//! workbook back as it is (and an edited copy becomes next year's set-up).

use std::collections::HashMap;

use rust_xlsxwriter::{Workbook, XlsxError};

use super::export::{table_sheet, Cell};
use crate::domain::attribution::ContractChoice;
use crate::domain::funding::{Allocation, BudgetLine};
use crate::domain::route::Cohort;
use crate::import::{funding, rules, streams, FieldDef};
use crate::store::{self, Db};

/// The workbook's sheets and the shipped template each is read with, in the order `import setup` loads them
/// (streams first: the other sheets refer to them; budget lines before rules, which may name one).
pub const SHEETS: [(&str, &str); 4] = [
    (STREAMS_SHEET, "standaard-bronnen"),
    (ALLOCATIONS_SHEET, "standaard-financiering"),
    (BUDGET_SHEET, "standaard-financiering"),
    (RULES_SHEET, "standaard-regels"),
];
pub const STREAMS_SHEET: &str = "Bronnen";
pub const ALLOCATIONS_SHEET: &str = "Toekenningen";
pub const BUDGET_SHEET: &str = "Begrotingsposten";
pub const RULES_SHEET: &str = "Regels";

/// The fields, and so the column headers, of a sheet of the workbook.
pub fn fields_of(sheet: &str) -> &'static [FieldDef] {
    match sheet {
        STREAMS_SHEET => streams::FIELDS,
        RULES_SHEET => rules::FIELDS,
        _ => funding::FIELDS,
    }
}

/// A set-up workbook of text cells as a person types them (the demo's set-up): `(sheet, rows)`, each row's cells
/// in the order of the sheet's columns.
pub fn text_workbook(sheets: &[(String, Vec<Vec<String>>)]) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    for (sheet, rows) in sheets {
        let cells = rows.iter().map(|r| r.iter().map(|v| Cell::text(v.as_str())).collect());
        table_sheet(&mut wb, sheet, &columns(fields_of(sheet)), cells)?;
    }
    wb.save_to_buffer()
}

/// Everything the workbook holds, read from the store.
pub struct Setup {
    pub streams: Vec<(crate::domain::funding::FundingStream, Vec<Cohort>)>,
    pub rules: Vec<crate::domain::attribution::Rule>,
    pub allocations: Vec<Allocation>,
    pub budget_lines: Vec<BudgetLine>,
    codes: HashMap<i64, String>,
    /// Every budget line (of any year) by id, for the rules that name one: category and year.
    lines: HashMap<i64, (String, i32)>,
    contracts: HashMap<i64, String>,
}

/// The set-up with the allocations and budget lines of `year` (all years when None), and the budget lines the
/// rules name.
pub async fn load(db: &Db, year: Option<i32>) -> sqlx::Result<Setup> {
    let defaults = store::funding::cohort_streams(db).await?;
    let mut streams: Vec<_> = store::funding::streams(db)
        .await?
        .into_iter()
        .map(|(s, _)| {
            let mut of: Vec<Cohort> = Cohort::ALL.into_iter().filter(|c| defaults.get(c) == Some(&s.id)).collect();
            of.sort_by_key(|c| Cohort::ALL.iter().position(|x| x == c));
            (s, of)
        })
        .collect();
    streams.sort_by(|a, b| a.0.code.cmp(&b.0.code));
    let codes = streams.iter().map(|(s, _)| (s.id, s.code.clone())).collect();
    let in_year = |y: i32| year.is_none_or(|wanted| wanted == y);
    let all_lines = store::funding::budget_lines(db, None).await?;
    let lines = all_lines.iter().map(|l| (l.id, (l.category.clone(), l.year))).collect();
    let contracts = store::contracts::list(db).await?.into_iter().map(|c| (c.id, c.reference)).collect();
    let rules = store::attribution::rules(db).await?;
    // A budget line a rule names goes along whatever its year, so the rules sheet never names one the workbook
    // does not hold.
    let named: Vec<i64> = rules.iter().filter_map(|r| r.budget_line_id).collect();
    Ok(Setup {
        streams,
        rules,
        allocations: store::funding::allocations(db, None).await?.into_iter().filter(|a| in_year(a.year)).collect(),
        budget_lines: all_lines.into_iter().filter(|l| in_year(l.year) || named.contains(&l.id)).collect(),
        codes,
        lines,
        contracts,
    })
}

/// The columns of a sheet: the labels of the kind's fields, which are its template's headers.
fn columns(fields: &[FieldDef]) -> Vec<(&'static str, f64)> {
    fields.iter().map(|f| (f.label, (f.label.chars().count() as f64 + 4.0).max(12.0))).collect()
}

fn text(s: &str) -> Cell {
    Cell::text(s)
}

fn optional_date(d: Option<time::Date>) -> Cell {
    d.map(Cell::Date).unwrap_or(Cell::Empty)
}

impl Setup {
    fn code(&self, stream: i64) -> Cell {
        text(self.codes.get(&stream).map(String::as_str).unwrap_or_default())
    }

    /// The workbook, sheet by sheet in [`SHEETS`] order.
    pub fn xlsx(&self) -> Result<Vec<u8>, XlsxError> {
        let mut wb = Workbook::new();
        let stream_rows = self.streams.iter().map(|(s, defaults)| {
            vec![
                text(&s.code),
                text(&s.name),
                text(streams::kind_word(s.kind)),
                text(&streams::cohort_list(&s.cohorts)),
                Cell::Date(s.spend_from),
                optional_date(s.spend_until),
                text(if s.carry_over { "ja" } else { "nee" }),
                text(&streams::cohort_list(defaults)),
                text(&s.notes),
            ]
        });
        table_sheet(&mut wb, STREAMS_SHEET, &columns(fields_of(STREAMS_SHEET)), stream_rows)?;
        let funding_columns = columns(fields_of(ALLOCATIONS_SHEET));
        let allocation_rows = self.allocations.iter().map(|a| {
            vec![
                self.code(a.stream_id),
                Cell::Count(a.year.into()),
                text(&a.kind.label().to_lowercase()),
                Cell::Money(a.amount),
                text(&a.reference),
                Cell::Date(a.date),
                Cell::Empty,
            ]
        });
        table_sheet(&mut wb, ALLOCATIONS_SHEET, &funding_columns, allocation_rows)?;
        let budget_rows = self.budget_lines.iter().map(|l| {
            vec![
                self.code(l.stream_id),
                Cell::Count(l.year.into()),
                text("begrotingspost"),
                Cell::Money(l.amount),
                Cell::Empty,
                Cell::Empty,
                text(&l.category),
            ]
        });
        table_sheet(&mut wb, BUDGET_SHEET, &funding_columns, budget_rows)?;
        let rule_rows = self.rules.iter().enumerate().map(|(i, r)| {
            let c = &r.criteria;
            let line = r.budget_line_id.and_then(|id| self.lines.get(&id));
            vec![
                Cell::Count(i as i64 + 1),
                text(&r.name),
                text(c.cost_centre.as_str()),
                text(c.gl_account.as_str()),
                text(c.task_field.as_str()),
                text(c.creditor_number.as_str()),
                text(&c.description_contains),
                optional_date(c.date_from),
                optional_date(c.date_until),
                text(rules::sign_word(c.amount_sign)),
                self.code(r.stream_id),
                line.map(|(category, _)| text(category)).unwrap_or(Cell::Empty),
                line.map(|(_, year)| Cell::Count((*year).into())).unwrap_or(Cell::Empty),
                match &r.contract {
                    ContractChoice::None => Cell::Empty,
                    ContractChoice::ViaCreditor => text(rules::VIA_CREDITOR),
                    ContractChoice::Direct(id) => text(self.contracts.get(id).map(String::as_str).unwrap_or_default()),
                },
            ]
        });
        table_sheet(&mut wb, RULES_SHEET, &columns(fields_of(RULES_SHEET)), rule_rows)?;
        wb.save_to_buffer()
    }
}
