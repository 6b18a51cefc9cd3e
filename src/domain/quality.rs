//! Provider quality: the municipality's criteria and their measurable norms, plan statuses and scores,
//! follow-up actions, and results per measurement year with their comparison against the norms.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde::{Deserialize, Serialize};
use time::Date;

use super::dates;
use super::fixed::{Fixed, Quantity};
use super::route::Route;
use super::validation::{text, FieldErrors};

/// A decimal the Dutch way: `80,5`, `7`, `16`.
pub use super::fixed::dutch_decimal as display_decimal;

/// Stored as INTEGER hundredths (80,5 -> 8050): a [`Fixed`].
pub fn to_hundredths(d: Decimal) -> i64 {
    Fixed::from_decimal(d).hundredths()
}

pub fn from_hundredths(h: i64) -> Decimal {
    Fixed::from_hundredths(h).decimal().normalize()
}

/// A quality figure as typed; its range depends on the metric, so the callers check it.
const NUMBER: Quantity = Quantity {
    noun: "getal",
    percent: true,
    min: None,
    max: None,
    min_exclusive: false,
    negative: None,
    out_of_range: "",
};

/// Parses a number typed as `80`, `80,5`, `80.5` or `80%` with at most two decimals.
pub fn parse_number(input: &str) -> Result<Decimal, String> {
    Fixed::parse(input, &NUMBER).map(|f| f.decimal().normalize())
}

// ---------------------------------------------------------------------------------------------
// Criteria and scores

/// How a criterion is scored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scoring {
    /// Voldaan / deels voldaan / niet voldaan.
    MetPartly,
    /// A score from 1 (poor) to 5 (excellent).
    Scale1To5,
}

impl Scoring {
    pub const ALL: [Scoring; 2] = [Scoring::MetPartly, Scoring::Scale1To5];

    pub fn code(self) -> &'static str {
        match self {
            Scoring::MetPartly => "met_partly",
            Scoring::Scale1To5 => "scale_1_5",
        }
    }

    pub fn parse(code: &str) -> Option<Scoring> {
        Scoring::ALL.into_iter().find(|s| s.code() == code.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            Scoring::MetPartly => "Voldaan / deels / niet voldaan",
            Scoring::Scale1To5 => "Score 1 tot en met 5",
        }
    }

    /// The scores a reviewer can give, best first: (code, label).
    pub fn options(self) -> Vec<(&'static str, &'static str)> {
        match self {
            Scoring::MetPartly => vec![("met", "Voldaan"), ("partly", "Deels voldaan"), ("not_met", "Niet voldaan")],
            Scoring::Scale1To5 => vec![
                ("5", "5 (uitstekend)"),
                ("4", "4 (goed)"),
                ("3", "3 (voldoende)"),
                ("2", "2 (onvoldoende)"),
                ("1", "1 (slecht)"),
            ],
        }
    }

    /// Reads a score on this scale; anything else is refused with the scale in the message.
    pub fn parse_score(self, input: &str) -> Result<Score, String> {
        let t = input.trim();
        let score = match self {
            Scoring::MetPartly => match t {
                "met" => Some(Score::Met),
                "partly" => Some(Score::Partly),
                "not_met" => Some(Score::NotMet),
                _ => None,
            },
            Scoring::Scale1To5 => t.parse::<u8>().ok().filter(|n| (1..=5).contains(n)).map(Score::Points),
        };
        score.ok_or_else(|| match self {
            Scoring::MetPartly => {
                format!("'{t}' is geen geldige score; kies voldaan, deels voldaan of niet voldaan.")
            }
            Scoring::Scale1To5 => format!("Score '{t}' valt buiten de schaal; geef een score van 1 tot en met 5."),
        })
    }
}

/// A reviewer's score for one criterion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Score {
    Met,
    Partly,
    NotMet,
    Points(u8),
}

impl Score {
    pub fn code(self) -> String {
        match self {
            Score::Met => "met".into(),
            Score::Partly => "partly".into(),
            Score::NotMet => "not_met".into(),
            Score::Points(n) => n.to_string(),
        }
    }

    /// For values already in the database (the CHECK constraint allows only known codes).
    pub fn from_stored(code: &str) -> Option<Score> {
        match code {
            "met" => Some(Score::Met),
            "partly" => Some(Score::Partly),
            "not_met" => Some(Score::NotMet),
            n => n.parse::<u8>().ok().filter(|n| (1..=5).contains(n)).map(Score::Points),
        }
    }

    pub fn label(self) -> String {
        match self {
            Score::Met => "Voldaan".into(),
            Score::Partly => "Deels voldaan".into(),
            Score::NotMet => "Niet voldaan".into(),
            Score::Points(n) => format!("{n} van 5"),
        }
    }

    /// Whether this score fails a knock-out criterion: "niet voldaan", or 1 or 2 on the five-point scale.
    pub fn fails_knock_out(self) -> bool {
        matches!(self, Score::NotMet | Score::Points(1) | Score::Points(2))
    }
}

/// What a measurable norm measures in a provider's results.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Share of lessons given by registered NT2 teachers (percent).
    Nt2Share,
    /// Average group size (participants).
    GroupSize,
    /// Pass rate per exam component (percent); the lowest component counts.
    PassRate,
    /// Participant satisfaction (mark 1 to 10).
    Satisfaction,
    /// Completed as a share of started (percent).
    CompletionRate,
    /// Dropped out as a share of started (percent).
    DropoutRate,
}

impl Metric {
    pub const ALL: [Metric; 6] = [
        Metric::Nt2Share,
        Metric::GroupSize,
        Metric::PassRate,
        Metric::Satisfaction,
        Metric::CompletionRate,
        Metric::DropoutRate,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Metric::Nt2Share => "nt2_share",
            Metric::GroupSize => "group_size",
            Metric::PassRate => "pass_rate",
            Metric::Satisfaction => "satisfaction",
            Metric::CompletionRate => "completion_rate",
            Metric::DropoutRate => "dropout_rate",
        }
    }

    pub fn parse(code: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.code() == code.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            Metric::Nt2Share => "Lessen door geregistreerde NT2-docenten",
            Metric::GroupSize => "Groepsgrootte",
            Metric::PassRate => "Slagingspercentage (laagste examenonderdeel)",
            Metric::Satisfaction => "Tevredenheid deelnemers",
            Metric::CompletionRate => "Afgerond (van gestart)",
            Metric::DropoutRate => "Uitval (van gestart)",
        }
    }

    /// A value with its unit: `80,5%`, `7,4`, `14`.
    pub fn format(self, value: Decimal) -> String {
        match self {
            Metric::GroupSize | Metric::Satisfaction => display_decimal(value),
            _ => format!("{}%", display_decimal(value)),
        }
    }

    fn bounds(self) -> (Decimal, Decimal) {
        match self {
            Metric::GroupSize => (Decimal::ONE, dec!(100)),
            Metric::Satisfaction => (Decimal::ONE, dec!(10)),
            _ => (Decimal::ZERO, Decimal::ONE_HUNDRED),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    AtLeast,
    AtMost,
}

impl Comparison {
    pub const ALL: [Comparison; 2] = [Comparison::AtLeast, Comparison::AtMost];

    pub fn code(self) -> &'static str {
        match self {
            Comparison::AtLeast => "at_least",
            Comparison::AtMost => "at_most",
        }
    }

    pub fn parse(code: &str) -> Option<Comparison> {
        Comparison::ALL.into_iter().find(|c| c.code() == code.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            Comparison::AtLeast => "minstens",
            Comparison::AtMost => "hoogstens",
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::AtLeast => "≥",
            Comparison::AtMost => "≤",
        }
    }
}

/// A measurable norm, e.g. `nt2_share >= 80` or `group_size <= 16`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Norm {
    pub metric: Metric,
    pub comparison: Comparison,
    pub value: Decimal,
}

impl Norm {
    /// `minstens 80%`
    pub fn describe(&self) -> String {
        format!("{} {}", self.comparison.label(), self.metric.format(self.value))
    }
}

/// How a result compares with a norm. Shown with its word and the numbers, never by colour alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Hash)]
pub enum NormOutcome {
    /// Meets the norm.
    Green,
    /// Misses the norm, but by no more than the amber band.
    Amber,
    /// Misses the norm by more than the amber band.
    Red,
}

impl NormOutcome {
    pub fn label(self) -> &'static str {
        match self {
            NormOutcome::Green => "voldoet",
            NormOutcome::Amber => "net onder de norm",
            NormOutcome::Red => "voldoet niet",
        }
    }

    /// The word used in exports and as colour name: groen, oranje, rood.
    pub fn colour(self) -> &'static str {
        match self {
            NormOutcome::Green => "groen",
            NormOutcome::Amber => "oranje",
            NormOutcome::Red => "rood",
        }
    }

    pub fn css_class(self) -> &'static str {
        match self {
            NormOutcome::Green => "status-ok",
            NormOutcome::Amber => "status-warn",
            NormOutcome::Red => "status-bad",
        }
    }
}

/// The amber band: a result that misses its norm by at most this share **of the norm value** is amber.
/// "At least 80%" is green from 80, amber from 72 up to 80 and red below 72; "at most 16" is green up
/// to 16, amber above 16 up to 17,6 and red above 17,6. The norm value itself is always green and the
/// band's far edge is still amber.
pub const AMBER_BAND: Decimal = dec!(0.10);

/// Compares a result value with a norm (see [`AMBER_BAND`]).
pub fn evaluate_norm(norm: &Norm, value: Decimal) -> NormOutcome {
    let band = (norm.value * AMBER_BAND).abs();
    let shortfall = match norm.comparison {
        Comparison::AtLeast => norm.value - value,
        Comparison::AtMost => value - norm.value,
    };
    if shortfall <= Decimal::ZERO {
        NormOutcome::Green
    } else if shortfall <= band {
        NormOutcome::Amber
    } else {
        NormOutcome::Red
    }
}

/// What a user typed into the criterion form.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct CriterionForm {
    pub code: String,
    pub title: String,
    pub description: String,
    pub scoring: String,
    pub knock_out: Option<String>,
    pub norm_metric: String,
    pub norm_comparison: String,
    pub norm_value: String,
    pub version: Option<i64>,
}

/// A criterion's fields after validation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CriterionDraft {
    pub code: String,
    pub title: String,
    pub description: String,
    pub scoring: Scoring,
    pub knock_out: bool,
    pub norm: Option<Norm>,
}

pub fn validate_criterion(form: &CriterionForm) -> Result<CriterionDraft, FieldErrors> {
    let mut e = FieldErrors::new();
    let code = text(&mut e, "code", "Code", &form.code, 20, true);
    if !code.is_empty() && !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') {
        e.add("code", "Een code bestaat uit letters, cijfers, punten en streepjes, bijvoorbeeld K-03.");
    }
    let title = text(&mut e, "title", "Titel", &form.title, 200, true);
    let description = text(&mut e, "description", "Omschrijving", &form.description, 4000, false);
    let scoring = Scoring::parse(&form.scoring);
    if scoring.is_none() {
        e.add("scoring", "Kies hoe deze eis wordt beoordeeld.");
    }
    let norm = match (form.norm_metric.trim(), form.norm_comparison.trim(), form.norm_value.trim()) {
        ("", "", "") => None,
        (m, c, v) => {
            let metric = Metric::parse(m);
            if metric.is_none() {
                e.add("norm_metric", "Kies wat de norm meet, of laat de hele norm leeg.");
            }
            let comparison = Comparison::parse(c);
            if comparison.is_none() {
                e.add("norm_comparison", "Kies 'minstens' of 'hoogstens', of laat de hele norm leeg.");
            }
            let value = match parse_number(v) {
                Ok(value) => Some(value),
                Err(_) if v.is_empty() => {
                    e.add("norm_value", "Geef de normwaarde, of laat de hele norm leeg.");
                    None
                }
                Err(m) => {
                    e.add("norm_value", m);
                    None
                }
            };
            match (metric, comparison, value) {
                (Some(metric), Some(comparison), Some(value)) => {
                    let (lo, hi) = metric.bounds();
                    if value < lo || value > hi {
                        e.add(
                            "norm_value",
                            format!(
                                "Een norm voor {} ligt tussen {} en {}.",
                                metric.label().to_lowercase(),
                                display_decimal(lo),
                                display_decimal(hi)
                            ),
                        );
                    }
                    Some(Norm { metric, comparison, value })
                }
                _ => None,
            }
        }
    };
    match scoring {
        Some(scoring) if e.is_empty() => {
            Ok(CriterionDraft { code, title, description, scoring, knock_out: form.knock_out.is_some(), norm })
        }
        _ => Err(e),
    }
}

// ---------------------------------------------------------------------------------------------
// Quality plans and their assessment

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    Submitted,
    InReview,
    Approved,
    RevisionRequested,
    Rejected,
}

impl PlanStatus {
    pub const ALL: [PlanStatus; 5] = [
        PlanStatus::Submitted,
        PlanStatus::InReview,
        PlanStatus::Approved,
        PlanStatus::RevisionRequested,
        PlanStatus::Rejected,
    ];

    /// The decisions that close a plan version.
    pub const DECISIONS: [PlanStatus; 3] = [PlanStatus::Approved, PlanStatus::RevisionRequested, PlanStatus::Rejected];

    pub fn code(self) -> &'static str {
        match self {
            PlanStatus::Submitted => "submitted",
            PlanStatus::InReview => "in_review",
            PlanStatus::Approved => "approved",
            PlanStatus::RevisionRequested => "revision_requested",
            PlanStatus::Rejected => "rejected",
        }
    }

    pub fn parse(code: &str) -> Option<PlanStatus> {
        PlanStatus::ALL.into_iter().find(|s| s.code() == code.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            PlanStatus::Submitted => "Ingediend",
            PlanStatus::InReview => "In beoordeling",
            PlanStatus::Approved => "Goedgekeurd",
            PlanStatus::RevisionRequested => "Aanpassing gevraagd",
            PlanStatus::Rejected => "Afgewezen",
        }
    }

    /// A decided version is frozen: its assessment and decision no longer change.
    pub fn is_frozen(self) -> bool {
        PlanStatus::DECISIONS.contains(&self)
    }

    pub fn css_class(self) -> &'static str {
        match self {
            PlanStatus::Approved => "status-ok",
            PlanStatus::Rejected => "status-bad",
            _ => "status-warn",
        }
    }
}

/// A criterion as the assessment needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CriterionRef {
    pub id: i64,
    pub code: String,
    pub scoring: Scoring,
    pub knock_out: bool,
}

/// One row of the assessment form, as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AssessmentInput {
    pub criterion_id: i64,
    pub score: String,
    pub finding: String,
}

/// A validated score and finding for one criterion.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AssessmentDraft {
    pub criterion_id: i64,
    pub score: Score,
    pub finding: String,
}

/// Validates the assessment form. Rows without score and finding are left alone; every other row
/// needs a score on its criterion's scale. Errors are per criterion id.
pub fn validate_assessment(
    criteria: &[CriterionRef],
    inputs: &[AssessmentInput],
) -> Result<Vec<AssessmentDraft>, BTreeMap<i64, String>> {
    let mut errors = BTreeMap::new();
    let mut out = Vec::new();
    for input in inputs {
        let Some(c) = criteria.iter().find(|c| c.id == input.criterion_id) else {
            errors.insert(input.criterion_id, "Deze eis hoort niet bij het toetsingskader van deze versie.".into());
            continue;
        };
        let mut fe = FieldErrors::new();
        let finding = text(&mut fe, "finding", &format!("Bevinding bij {}", c.code), &input.finding, 4000, false);
        if let Some(m) = fe.get("finding") {
            errors.insert(c.id, m.to_string());
            continue;
        }
        if input.score.trim().is_empty() {
            if !finding.is_empty() {
                errors.insert(c.id, format!("Geef bij {} ook een score.", c.code));
            }
            continue;
        }
        match c.scoring.parse_score(&input.score) {
            Ok(score) => out.push(AssessmentDraft { criterion_id: c.id, score, finding }),
            Err(m) => {
                errors.insert(c.id, format!("{}: {m}", c.code));
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Checks an overall decision against the assessment: a reasoning is always needed, and approval needs
/// every criterion scored and no knock-out criterion failed.
pub fn validate_plan_decision(
    decision: &str,
    reasoning: &str,
    criteria: &[CriterionRef],
    scores: &[(i64, Score)],
) -> Result<(PlanStatus, String), FieldErrors> {
    let mut e = FieldErrors::new();
    let status = PlanStatus::parse(decision).filter(|s| s.is_frozen());
    if status.is_none() {
        e.add("decision", "Kies een besluit: goedkeuren, aanpassing vragen of afwijzen.");
    }
    let reasoning = text(&mut e, "reasoning", "Onderbouwing", reasoning, 4000, true);
    if status == Some(PlanStatus::Approved) {
        let missing: Vec<&str> =
            criteria.iter().filter(|c| !scores.iter().any(|(id, _)| *id == c.id)).map(|c| c.code.as_str()).collect();
        let failed: Vec<&str> = criteria
            .iter()
            .filter(|c| c.knock_out && scores.iter().any(|(id, s)| *id == c.id && s.fails_knock_out()))
            .map(|c| c.code.as_str())
            .collect();
        if !missing.is_empty() {
            e.add(
                "decision",
                format!("Goedkeuren kan pas als elke eis een score heeft; nog open: {}.", missing.join(", ")),
            );
        } else if !failed.is_empty() {
            e.add("decision", format!("Goedkeuren kan niet: knock-outeis {} is niet voldaan.", failed.join(", ")));
        }
    }
    match status {
        Some(s) if e.is_empty() => Ok((s, reasoning)),
        _ => Err(e),
    }
}

// ---------------------------------------------------------------------------------------------
// Follow-up actions

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    Open,
    InProgress,
    Done,
    Cancelled,
}

impl ActionStatus {
    pub const ALL: [ActionStatus; 4] =
        [ActionStatus::Open, ActionStatus::InProgress, ActionStatus::Done, ActionStatus::Cancelled];

    pub fn code(self) -> &'static str {
        match self {
            ActionStatus::Open => "open",
            ActionStatus::InProgress => "in_progress",
            ActionStatus::Done => "done",
            ActionStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(code: &str) -> Option<ActionStatus> {
        ActionStatus::ALL.into_iter().find(|s| s.code() == code.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            ActionStatus::Open => "Open",
            ActionStatus::InProgress => "In behandeling",
            ActionStatus::Done => "Afgerond",
            ActionStatus::Cancelled => "Vervallen",
        }
    }

    pub fn is_closed(self) -> bool {
        matches!(self, ActionStatus::Done | ActionStatus::Cancelled)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionSource {
    Assessment,
    Meeting,
}

impl ActionSource {
    pub const ALL: [ActionSource; 2] = [ActionSource::Assessment, ActionSource::Meeting];

    pub fn code(self) -> &'static str {
        match self {
            ActionSource::Assessment => "assessment",
            ActionSource::Meeting => "meeting",
        }
    }

    pub fn parse(code: &str) -> Option<ActionSource> {
        ActionSource::ALL.into_iter().find(|s| s.code() == code.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            ActionSource::Assessment => "Beoordeling kwaliteitsplan",
            ActionSource::Meeting => "Gesprek met de aanbieder",
        }
    }
}

/// Overdue: not closed and the due date has passed.
pub fn is_overdue(status: ActionStatus, due: Date, today: Date) -> bool {
    !status.is_closed() && due < today
}

/// What a user typed into an action form (new or update).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ActionForm {
    pub source: String,
    pub plan_version_id: String,
    pub description: String,
    pub owner: String,
    pub due_date: String,
    pub status: String,
    pub provider_response: String,
    pub version: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ActionDraft {
    pub source: ActionSource,
    pub description: String,
    pub owner: String,
    pub due_date: Date,
    pub status: ActionStatus,
    pub provider_response: String,
}

/// Validates an action created (or first created) on `created_on`: the due date may not lie before it.
pub fn validate_action(form: &ActionForm, created_on: Date) -> Result<ActionDraft, FieldErrors> {
    let mut e = FieldErrors::new();
    let source = ActionSource::parse(&form.source);
    if source.is_none() {
        e.add("source", "Kies waar het verbeterpunt uit voortkomt.");
    }
    let description = text(&mut e, "description", "Omschrijving", &form.description, 2000, true);
    let owner = text(&mut e, "owner", "Eigenaar", &form.owner, 200, true);
    let due = match dates::parse_form(&form.due_date) {
        Ok(Some(d)) => Some(d),
        Ok(None) => {
            e.add("due_date", "Streefdatum is verplicht.");
            None
        }
        Err(m) => {
            e.add("due_date", m);
            None
        }
    };
    if let Some(d) = due {
        if d < created_on {
            e.add(
                "due_date",
                format!(
                    "De streefdatum ({}) ligt vóór de aanmaakdatum van het verbeterpunt ({}).",
                    dates::display(d),
                    dates::display(created_on)
                ),
            );
        }
    }
    let status =
        if form.status.trim().is_empty() { Some(ActionStatus::Open) } else { ActionStatus::parse(&form.status) };
    if status.is_none() {
        e.add("status", "Kies een status uit de lijst.");
    }
    let provider_response =
        text(&mut e, "provider_response", "Reactie van de aanbieder", &form.provider_response, 4000, false);
    match (source, due, status) {
        (Some(source), Some(due_date), Some(status)) if e.is_empty() => {
            Ok(ActionDraft { source, description, owner, due_date, status, provider_response })
        }
        _ => Err(e),
    }
}

// ---------------------------------------------------------------------------------------------
// Results per measurement year

/// The exam components a pass rate is reported for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum ExamComponent {
    Lezen,
    Luisteren,
    Schrijven,
    Spreken,
    Knm,
}

impl ExamComponent {
    pub const ALL: [ExamComponent; 5] = [
        ExamComponent::Lezen,
        ExamComponent::Luisteren,
        ExamComponent::Schrijven,
        ExamComponent::Spreken,
        ExamComponent::Knm,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ExamComponent::Lezen => "lezen",
            ExamComponent::Luisteren => "luisteren",
            ExamComponent::Schrijven => "schrijven",
            ExamComponent::Spreken => "spreken",
            ExamComponent::Knm => "knm",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ExamComponent::Lezen => "Lezen",
            ExamComponent::Luisteren => "Luisteren",
            ExamComponent::Schrijven => "Schrijven",
            ExamComponent::Spreken => "Spreken",
            ExamComponent::Knm => "KNM",
        }
    }

    /// The name inside a sentence: `lezen`, `KNM`.
    pub fn in_sentence(self) -> &'static str {
        match self {
            ExamComponent::Knm => "KNM",
            other => other.code(),
        }
    }

    /// The form and import field name: `pass_lezen`.
    pub fn field(self) -> &'static str {
        match self {
            ExamComponent::Lezen => "pass_lezen",
            ExamComponent::Luisteren => "pass_luisteren",
            ExamComponent::Schrijven => "pass_schrijven",
            ExamComponent::Spreken => "pass_spreken",
            ExamComponent::Knm => "pass_knm",
        }
    }
}

/// Results as typed on screen or read from a spreadsheet row: text, so both can show them again.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ResultInput {
    pub year: String,
    pub route: String,
    pub started: String,
    pub completed: String,
    pub dropped_out: String,
    pub pass_lezen: String,
    pub pass_luisteren: String,
    pub pass_schrijven: String,
    pub pass_spreken: String,
    pub pass_knm: String,
    pub satisfaction: String,
    pub nt2_share: String,
    pub group_size: String,
}

impl ResultInput {
    pub fn pass_rate(&self, c: ExamComponent) -> &str {
        match c {
            ExamComponent::Lezen => &self.pass_lezen,
            ExamComponent::Luisteren => &self.pass_luisteren,
            ExamComponent::Schrijven => &self.pass_schrijven,
            ExamComponent::Spreken => &self.pass_spreken,
            ExamComponent::Knm => &self.pass_knm,
        }
    }
}

/// One provider's results for one route in one measurement year.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QualityResult {
    pub year: i32,
    pub route: Route,
    pub started: i64,
    pub completed: i64,
    pub dropped_out: i64,
    pub pass_rates: BTreeMap<ExamComponent, Decimal>,
    pub satisfaction: Option<Decimal>,
    pub nt2_share: Option<Decimal>,
    pub group_size: Option<Decimal>,
}

fn count(e: &mut FieldErrors, field: &'static str, label: &str, input: &str) -> Option<i64> {
    let t = input.trim();
    if t.is_empty() {
        e.add(field, format!("{label} is verplicht (0 als er niemand was)."));
        return None;
    }
    match t.parse::<i64>() {
        Ok(n) if (0..=100_000).contains(&n) => Some(n),
        _ => {
            e.add(field, format!("{label}: '{t}' is geen heel aantal van 0 tot 100.000."));
            None
        }
    }
}

fn optional_number(
    e: &mut FieldErrors,
    field: &'static str,
    label: &str,
    input: &str,
    lo: Decimal,
    hi: Decimal,
    unit: &str,
) -> Option<Decimal> {
    if input.trim().is_empty() {
        return None;
    }
    match parse_number(input) {
        Ok(d) if d >= lo && d <= hi => Some(d),
        Ok(_) => {
            e.add(
                field,
                format!(
                    "{label} ligt tussen {}{unit} en {}{unit}; '{}' niet.",
                    display_decimal(lo),
                    display_decimal(hi),
                    input.trim()
                ),
            );
            None
        }
        Err(m) => {
            e.add(field, format!("{label}: {m}"));
            None
        }
    }
}

/// Validates results for one provider, route and year. Pure, so the import engine can use it per row.
/// Completions and drop-outs together can not exceed the number of starts.
pub fn validate_result(input: &ResultInput, today: Date) -> Result<QualityResult, FieldErrors> {
    let mut e = FieldErrors::new();
    let year = match input.year.trim().parse::<i32>() {
        Ok(y) if (2000..=today.year()).contains(&y) => Some(y),
        _ => {
            e.add(
                "year",
                format!("Meetjaar '{}' is geen jaar van 2000 tot en met {}.", input.year.trim(), today.year()),
            );
            None
        }
    };
    let route = Route::parse(&input.route);
    if route.is_none() {
        e.add("route", "Kies een leerroute.");
    }
    let started = count(&mut e, "started", "Gestart", &input.started);
    let completed = count(&mut e, "completed", "Afgerond", &input.completed);
    let dropped_out = count(&mut e, "dropped_out", "Uitgevallen", &input.dropped_out);
    if let (Some(s), Some(c)) = (started, completed) {
        if c > s {
            e.add("completed", format!("Er zijn meer deelnemers afgerond ({c}) dan gestart ({s}); dat kan niet."));
        }
    }
    if let (Some(s), Some(d)) = (started, dropped_out) {
        if d > s {
            e.add("dropped_out", format!("Er zijn meer deelnemers uitgevallen ({d}) dan gestart ({s}); dat kan niet."));
        }
    }
    if let (Some(s), Some(c), Some(d)) = (started, completed, dropped_out) {
        if c <= s && d <= s && c + d > s {
            e.add(
                "completed",
                format!("Afgerond ({c}) en uitgevallen ({d}) samen is meer dan het aantal gestart ({s})."),
            );
        }
    }
    let mut pass_rates = BTreeMap::new();
    for c in ExamComponent::ALL {
        let label = format!("Slagingspercentage {}", c.in_sentence());
        if let Some(v) =
            optional_number(&mut e, c.field(), &label, input.pass_rate(c), Decimal::ZERO, Decimal::ONE_HUNDRED, "%")
        {
            pass_rates.insert(c, v);
        }
    }
    let satisfaction =
        optional_number(&mut e, "satisfaction", "Tevredenheid", &input.satisfaction, Decimal::ONE, dec!(10), "");
    let nt2_share = optional_number(
        &mut e,
        "nt2_share",
        "Aandeel lessen door NT2-docenten",
        &input.nt2_share,
        Decimal::ZERO,
        Decimal::ONE_HUNDRED,
        "%",
    );
    let group_size = optional_number(
        &mut e,
        "group_size",
        "Gemiddelde groepsgrootte",
        &input.group_size,
        Decimal::ONE,
        dec!(100),
        "",
    );
    match (year, route, started, completed, dropped_out) {
        (Some(year), Some(route), Some(started), Some(completed), Some(dropped_out)) if e.is_empty() => {
            Ok(QualityResult {
                year,
                route,
                started,
                completed,
                dropped_out,
                pass_rates,
                satisfaction,
                nt2_share,
                group_size,
            })
        }
        _ => Err(e),
    }
}

impl QualityResult {
    /// The value a metric reads from these results, with a note (which component was lowest).
    pub fn metric_value(&self, metric: Metric) -> Option<(Decimal, String)> {
        let rate = |n: i64| {
            (self.started > 0).then(|| {
                (Decimal::from(n) * Decimal::ONE_HUNDRED / Decimal::from(self.started)).round_dp(1).normalize()
            })
        };
        match metric {
            Metric::Nt2Share => self.nt2_share.map(|v| (v, String::new())),
            Metric::GroupSize => self.group_size.map(|v| (v, String::new())),
            Metric::Satisfaction => self.satisfaction.map(|v| (v, String::new())),
            Metric::PassRate => self
                .pass_rates
                .iter()
                .min_by_key(|(_, v)| **v)
                .map(|(c, v)| (*v, format!("laagste: {}", c.in_sentence()))),
            Metric::CompletionRate => {
                rate(self.completed).map(|v| (v, format!("{} van {}", self.completed, self.started)))
            }
            Metric::DropoutRate => {
                rate(self.dropped_out).map(|v| (v, format!("{} van {}", self.dropped_out, self.started)))
            }
        }
    }
}

/// One comparison of a result with a criterion's norm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NormCheck {
    pub criterion_code: String,
    pub norm: Norm,
    pub value: Decimal,
    pub note: String,
    pub outcome: NormOutcome,
}

/// Every norm that these results can be compared with (norms whose value is missing are skipped).
pub fn check_norms<'a>(result: &QualityResult, norms: impl IntoIterator<Item = (&'a str, Norm)>) -> Vec<NormCheck> {
    norms
        .into_iter()
        .filter_map(|(code, norm)| {
            result.metric_value(norm.metric).map(|(value, note)| NormCheck {
                criterion_code: code.to_string(),
                norm,
                value,
                note,
                outcome: evaluate_norm(&norm, value),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn norm(metric: Metric, comparison: Comparison, value: Decimal) -> Norm {
        Norm { metric, comparison, value }
    }

    #[test]
    fn an_at_least_norm_is_green_from_the_norm_amber_within_ten_percent_and_red_below() {
        let n = norm(Metric::Nt2Share, Comparison::AtLeast, dec!(80));
        assert_eq!(evaluate_norm(&n, dec!(100)), NormOutcome::Green);
        assert_eq!(evaluate_norm(&n, dec!(80)), NormOutcome::Green);
        assert_eq!(evaluate_norm(&n, dec!(79.99)), NormOutcome::Amber);
        assert_eq!(evaluate_norm(&n, dec!(72)), NormOutcome::Amber);
        assert_eq!(evaluate_norm(&n, dec!(71.99)), NormOutcome::Red);
        assert_eq!(evaluate_norm(&n, dec!(0)), NormOutcome::Red);
    }

    #[test]
    fn an_at_most_norm_is_green_up_to_the_norm_amber_within_ten_percent_and_red_above() {
        let n = norm(Metric::GroupSize, Comparison::AtMost, dec!(16));
        assert_eq!(evaluate_norm(&n, dec!(1)), NormOutcome::Green);
        assert_eq!(evaluate_norm(&n, dec!(16)), NormOutcome::Green);
        assert_eq!(evaluate_norm(&n, dec!(16.01)), NormOutcome::Amber);
        assert_eq!(evaluate_norm(&n, dec!(17.6)), NormOutcome::Amber);
        assert_eq!(evaluate_norm(&n, dec!(17.61)), NormOutcome::Red);
        assert_eq!(evaluate_norm(&n, dec!(18)), NormOutcome::Red);
    }

    #[test]
    fn the_band_scales_with_the_norm_value() {
        let satisfaction = norm(Metric::Satisfaction, Comparison::AtLeast, dec!(7));
        assert_eq!(evaluate_norm(&satisfaction, dec!(6.3)), NormOutcome::Amber);
        assert_eq!(evaluate_norm(&satisfaction, dec!(6.29)), NormOutcome::Red);
        let pass = norm(Metric::PassRate, Comparison::AtLeast, dec!(60));
        assert_eq!(evaluate_norm(&pass, dec!(54)), NormOutcome::Amber);
        assert_eq!(evaluate_norm(&pass, dec!(53.9)), NormOutcome::Red);
        // A norm of zero has no band: anything missing it is red.
        let dropout = norm(Metric::DropoutRate, Comparison::AtMost, dec!(0));
        assert_eq!(evaluate_norm(&dropout, dec!(0)), NormOutcome::Green);
        assert_eq!(evaluate_norm(&dropout, dec!(0.1)), NormOutcome::Red);
    }

    #[test]
    fn scores_outside_the_scale_are_refused_with_the_scale_in_the_message() {
        assert_eq!(Scoring::Scale1To5.parse_score("5"), Ok(Score::Points(5)));
        assert_eq!(Scoring::Scale1To5.parse_score("1"), Ok(Score::Points(1)));
        assert_eq!(
            Scoring::Scale1To5.parse_score("6").unwrap_err(),
            "Score '6' valt buiten de schaal; geef een score van 1 tot en met 5."
        );
        assert!(Scoring::Scale1To5.parse_score("0").is_err());
        assert!(Scoring::Scale1To5.parse_score("met").is_err());
        assert_eq!(Scoring::MetPartly.parse_score("partly"), Ok(Score::Partly));
        assert!(Scoring::MetPartly.parse_score("4").unwrap_err().contains("voldaan"));
        assert!(Score::Points(2).fails_knock_out() && !Score::Points(3).fails_knock_out());
        assert!(Score::NotMet.fails_knock_out() && !Score::Partly.fails_knock_out());
    }

    #[test]
    fn a_criterion_norm_is_all_or_nothing_and_within_its_metric_bounds() {
        let mut form = CriterionForm {
            code: "K-01".into(),
            title: "NT2-docenten".into(),
            scoring: "met_partly".into(),
            norm_metric: "nt2_share".into(),
            norm_comparison: "at_least".into(),
            norm_value: "80".into(),
            ..Default::default()
        };
        let d = validate_criterion(&form).unwrap();
        assert_eq!(d.norm, Some(norm(Metric::Nt2Share, Comparison::AtLeast, dec!(80))));
        form.norm_value = String::new();
        assert!(validate_criterion(&form).unwrap_err().get("norm_value").unwrap().contains("normwaarde"));
        form.norm_value = "120".into();
        assert!(validate_criterion(&form).unwrap_err().get("norm_value").unwrap().contains("tussen 0 en 100"));
        form.norm_metric = String::new();
        form.norm_comparison = String::new();
        form.norm_value = String::new();
        assert_eq!(validate_criterion(&form).unwrap().norm, None);
    }

    fn input(started: &str, completed: &str, dropped: &str) -> ResultInput {
        ResultInput {
            year: "2024".into(),
            route: "b1".into(),
            started: started.into(),
            completed: completed.into(),
            dropped_out: dropped.into(),
            pass_lezen: "72,5".into(),
            pass_schrijven: "58".into(),
            nt2_share: "85%".into(),
            ..Default::default()
        }
    }

    #[test]
    fn results_with_more_completions_than_starts_are_refused() {
        let today = date!(2025 - 06 - 01);
        let e = validate_result(&input("10", "12", "0"), today).unwrap_err();
        assert_eq!(e.get("completed"), Some("Er zijn meer deelnemers afgerond (12) dan gestart (10); dat kan niet."));
        let e = validate_result(&input("10", "8", "3"), today).unwrap_err();
        assert_eq!(
            e.get("completed"),
            Some("Afgerond (8) en uitgevallen (3) samen is meer dan het aantal gestart (10).")
        );
        let r = validate_result(&input("10", "10", "0"), today).unwrap();
        assert_eq!(r.pass_rates.get(&ExamComponent::Lezen), Some(&dec!(72.5)));
        assert_eq!(r.nt2_share, Some(dec!(85)));
        assert_eq!(r.metric_value(Metric::PassRate), Some((dec!(58), "laagste: schrijven".into())));
        assert_eq!(r.metric_value(Metric::CompletionRate), Some((dec!(100), "10 van 10".into())));
        let mut bad = input("10", "5", "1");
        bad.pass_knm = "101".into();
        bad.year = "2026".into();
        let e = validate_result(&bad, today).unwrap_err();
        assert!(e.get("pass_knm").unwrap().contains("tussen 0% en 100%"));
        assert!(e.get("year").unwrap().contains("2025"));
    }

    #[test]
    fn approval_needs_every_score_and_no_failed_knock_out() {
        let criteria = vec![
            CriterionRef { id: 1, code: "K-01".into(), scoring: Scoring::MetPartly, knock_out: true },
            CriterionRef { id: 2, code: "K-02".into(), scoring: Scoring::Scale1To5, knock_out: false },
        ];
        let e = validate_plan_decision("approved", "Prima", &criteria, &[(1, Score::Met)]).unwrap_err();
        assert!(e.get("decision").unwrap().contains("nog open: K-02"));
        let e = validate_plan_decision("approved", "Prima", &criteria, &[(1, Score::NotMet), (2, Score::Points(4))])
            .unwrap_err();
        assert!(e.get("decision").unwrap().contains("knock-outeis K-01"));
        assert_eq!(
            validate_plan_decision("rejected", "Onvoldoende", &criteria, &[(1, Score::NotMet)]).unwrap().0,
            PlanStatus::Rejected
        );
        assert!(validate_plan_decision("in_review", "x", &criteria, &[]).is_err());
        assert!(validate_plan_decision("rejected", " ", &criteria, &[]).unwrap_err().get("reasoning").is_some());
    }

    #[test]
    fn an_action_cannot_be_due_before_it_was_created() {
        let form = ActionForm {
            source: "meeting".into(),
            description: "Klassenbezoek plannen".into(),
            owner: "J. Jansen".into(),
            due_date: "2025-05-31".into(),
            ..Default::default()
        };
        let e = validate_action(&form, date!(2025 - 06 - 01)).unwrap_err();
        assert_eq!(
            e.get("due_date"),
            Some("De streefdatum (31-05-2025) ligt vóór de aanmaakdatum van het verbeterpunt (01-06-2025).")
        );
        let ok = validate_action(&form, date!(2025 - 05 - 31)).unwrap();
        assert_eq!(ok.status, ActionStatus::Open);
        assert!(is_overdue(ok.status, ok.due_date, date!(2025 - 06 - 01)));
        assert!(!is_overdue(ActionStatus::Done, ok.due_date, date!(2025 - 06 - 01)));
        assert!(!is_overdue(ok.status, ok.due_date, date!(2025 - 05 - 31)));
    }

    #[test]
    fn assessment_rows_need_a_score_on_their_own_scale() {
        let criteria = vec![CriterionRef { id: 7, code: "K-07".into(), scoring: Scoring::Scale1To5, knock_out: false }];
        let row = |score: &str, finding: &str| AssessmentInput {
            criterion_id: 7,
            score: score.into(),
            finding: finding.into(),
        };
        assert_eq!(validate_assessment(&criteria, &[row("", "")]).unwrap(), vec![]);
        assert!(validate_assessment(&criteria, &[row("", "Zie plan")]).unwrap_err()[&7].contains("ook een score"));
        assert!(validate_assessment(&criteria, &[row("9", "")]).unwrap_err()[&7].contains("buiten de schaal"));
        let ok = validate_assessment(&criteria, &[row("4", " Goed ")]).unwrap();
        assert_eq!(ok, vec![AssessmentDraft { criterion_id: 7, score: Score::Points(4), finding: "Goed".into() }]);
    }
}
