//! Pure types and rules of the domain: no database, no web. Everything here is unit-testable.

pub mod attribution;
pub mod bsn;
pub mod certification;
pub mod commitment;
pub mod contract;
pub mod dates;
pub mod document;
pub mod fixed;
pub mod forecast;
pub mod funding;
pub mod inflow;
pub mod invoice_check;
pub mod placement;
pub mod progress;
pub mod provider;
pub mod quality;
pub mod route;
pub mod route_change;
pub mod scorecard;
pub mod small_cell;
pub mod validation;
pub mod words;
