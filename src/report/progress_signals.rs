//! Per placement what its progress reports say for the lists' and start page's warnings: when lessons actually
//! started and whether it has an unfunded (third or later) exam attempt. Read from every report, so kept behind
//! `progress_inputs_version` (see [`super::kept`]).

use std::collections::HashMap;
use std::sync::Arc;

use time::Date;

use super::kept::Kept;
use crate::domain::progress::{actual_start, unfunded_attempts};
use crate::store::{self, Db};

/// What the reports say about one placement.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Signal {
    pub actual_start: Option<Date>,
    pub third_attempt: bool,
}

/// Signals per placement id; a placement without reports has none (the default: not started, no attempts).
pub type Signals = HashMap<i64, Signal>;

pub type SignalsCache = Kept<(), Signals>;

pub async fn signals(db: &Db, cache: Option<&SignalsCache>) -> sqlx::Result<Arc<Signals>> {
    match cache {
        None => Ok(Arc::new(compute(db).await?)),
        Some(cache) => cache.get(store::progress::inputs_version(db).await?, (), || compute(db)).await,
    }
}

async fn compute(db: &Db) -> sqlx::Result<Signals> {
    let reports = store::progress::by_placement(store::progress::all_reports(db).await?);
    Ok(reports
        .into_iter()
        .map(|(id, r)| {
            (id, Signal { actual_start: actual_start(&r), third_attempt: !unfunded_attempts(&r).is_empty() })
        })
        .collect())
}

/// The signal of `placement`, or the default when it has no reports.
pub fn of(signals: &Signals, placement: i64) -> Signal {
    signals.get(&placement).copied().unwrap_or_default()
}
