//! Reports: figures assembled from the store and the domain rules, for screens, the command line and exports.

pub mod calendar;
pub mod commitments;
pub mod contract_attendance;
pub mod digest;
pub mod export;
pub mod indicators;
pub mod invoice_check;
pub mod kept;
pub mod letter;
pub mod letter_docx;
pub mod notifications;
pub mod ocds;
pub mod overview;
pub mod progress_signals;
pub mod quality;
pub mod reconciliation;
pub mod rules;
pub mod safe_csv;
pub mod scorecard;
pub mod setup;
