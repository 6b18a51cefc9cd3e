//! The progress letters' frozen figures (migration 0032): one snapshot per letter year, replaced when that
//! year's letter is produced again, with the audit log keeping what it replaced.

use rust_decimal::Decimal;

use super::{audit, begin, Db};
use crate::domain::dates;
use crate::report::letter::{Frozen, PreviousLetter};

/// A stored letter, without its figures (for lists).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StoredLetter {
    pub id: i64,
    pub year: i64,
    pub name: String,
    pub scenario_name: Option<String>,
    pub data_date: String,
    pub created_by: String,
    pub created_at: String,
}

/// Every frozen letter, newest year first.
pub async fn list(db: &Db) -> sqlx::Result<Vec<StoredLetter>> {
    sqlx::query_as(
        "SELECT id, year, name, scenario_name, data_date, created_by, created_at FROM letter_snapshot ORDER BY year DESC",
    )
    .fetch_all(db)
    .await
}

/// The letter frozen for `year`, with its figures.
pub async fn for_year(db: &Db, year: i32) -> sqlx::Result<Option<PreviousLetter>> {
    let Some(s): Option<StoredLetter> = sqlx::query_as(
        "SELECT id, year, name, scenario_name, data_date, created_by, created_at FROM letter_snapshot WHERE year = ?",
    )
    .bind(year)
    .fetch_optional(db)
    .await?
    else {
        return Ok(None);
    };
    type FigureRow = (String, String, String, i64, String, String, Option<i64>);
    let rows: Vec<FigureRow> = sqlx::query_as(
        "SELECT tbl, caption, row_label, year, kind, text, value_x100 FROM letter_snapshot_figure
         WHERE snapshot_id = ? ORDER BY rowid",
    )
    .bind(s.id)
    .fetch_all(db)
    .await?;
    let figures = rows
        .into_iter()
        .map(|(table, caption, row, year, kind, text, value)| Frozen {
            table,
            caption,
            row,
            year: year as i32,
            kind,
            text,
            value: value.map(|v| Decimal::new(v, 2)),
        })
        .collect();
    Ok(Some(PreviousLetter { year, created_at: s.created_at, created_by: s.created_by, figures }))
}

/// A figure's number in hundredths; None for one with more decimals than the letter ever prints (none has).
fn hundredths(d: Decimal) -> Option<i64> {
    let x = (d * Decimal::ONE_HUNDRED).normalize();
    (x.scale() == 0).then(|| i64::try_from(x).ok()).flatten()
}

/// Freezes a letter's figures as the snapshot of `year`, replacing an earlier one of that year; returns its id.
pub async fn freeze(
    db: &Db,
    year: i32,
    scenario_name: Option<&str>,
    data_date: &str,
    figures: &[Frozen],
    actor: &str,
) -> sqlx::Result<i64> {
    let mut tx = begin(db).await?;
    let before: Option<(i64, String, String, i64)> = sqlx::query_as(
        "SELECT s.id, s.created_by, s.created_at, (SELECT COUNT(*) FROM letter_snapshot_figure f WHERE f.snapshot_id = s.id)
         FROM letter_snapshot s WHERE s.year = ?",
    )
    .bind(year)
    .fetch_optional(&mut *tx)
    .await?;
    let name = crate::report::letter::snapshot_name(year);
    let id = match &before {
        Some((id, ..)) => {
            sqlx::query("DELETE FROM letter_snapshot_figure WHERE snapshot_id = ?").bind(id).execute(&mut *tx).await?;
            sqlx::query(
                "UPDATE letter_snapshot SET scenario_name = ?, data_date = ?, created_by = ?, created_at = ? WHERE id = ?",
            )
            .bind(scenario_name)
            .bind(data_date)
            .bind(actor)
            .bind(dates::now_timestamp())
            .bind(id)
            .execute(&mut *tx)
            .await?;
            *id
        }
        None => {
            sqlx::query_scalar(
                "INSERT INTO letter_snapshot (year, name, scenario_name, data_date, created_by, created_at)
                 VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            )
            .bind(year)
            .bind(&name)
            .bind(scenario_name)
            .bind(data_date)
            .bind(actor)
            .bind(dates::now_timestamp())
            .fetch_one(&mut *tx)
            .await?
        }
    };
    for f in figures {
        sqlx::query(
            "INSERT INTO letter_snapshot_figure (snapshot_id, tbl, caption, row_label, year, kind, text, value_x100)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(&f.table)
        .bind(&f.caption)
        .bind(&f.row)
        .bind(f.year)
        .bind(&f.kind)
        .bind(&f.text)
        .bind(f.value.and_then(hundredths))
        .execute(&mut *tx)
        .await?;
    }
    let after = serde_json::json!({"name": name, "year": year, "scenario": scenario_name, "data_date": data_date, "figures": figures.len()});
    let before = before
        .map(|(_, by, at, n)| serde_json::json!({"name": name, "created_by": by, "created_at": at, "figures": n}));
    let action = if before.is_some() { "update" } else { "create" };
    audit::record(&mut tx, actor, action, "letter_snapshot", id, before.as_ref(), Some(&after)).await?;
    tx.commit().await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn every_figure_of_the_letter_is_kept_exactly_in_hundredths() {
        assert_eq!(hundredths(dec!(4000.00)), Some(400_000));
        assert_eq!(hundredths(dec!(97.8)), Some(9_780));
        assert_eq!(hundredths(dec!(-12356.01)), Some(-1_235_601));
        assert_eq!(hundredths(dec!(179)), Some(17_900));
        assert_eq!(hundredths(dec!(0.005)), None, "more decimals than the letter prints are not rounded away");
    }
}
