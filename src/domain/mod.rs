//! Pure types and rules of the domain: no database, no web. Everything here is unit-testable.

pub mod bsn;
pub mod certification;
pub mod dates;
pub mod provider;
pub mod validation;
