//! The numbers people read — case numbers, application and document numbers, handover sheet
//! numbers — allocated inside the writing transaction from one counter per scope and period
//! (`number_counters`), so a number is never handed out twice and never skipped: a rolled-back
//! write gives its number back. Queue tickets have their own daily counters (the queue's).

use rusqlite::params;

use crate::kernel::error::Result;
use crate::kernel::store::Tx;

/// Allocate the next number of `scope` in `period` (inside the writing transaction).
pub fn next(tx: &Tx<'_>, scope: &str, period: &str) -> Result<i64> {
    // One statement: the counter's row lock serialises the writers of this one counter (and
    // only them), and the number comes back with it.
    Ok(tx.query_row(
        "INSERT INTO number_counters (scope, period, value) VALUES (?1, ?2, 1)
         ON CONFLICT (scope, period) DO UPDATE SET value = number_counters.value + 1
         RETURNING value",
        params![scope, period],
        |r| r.get(0),
    )?)
}

/// The last number handed out in `scope` and `period` (0 when none).
pub fn current(tx: &Tx<'_>, scope: &str, period: &str) -> Result<i64> {
    Ok(tx.query_row(
        "SELECT COALESCE(max(value), 0) FROM number_counters WHERE scope = ?1 AND period = ?2",
        params![scope, period],
        |r| r.get(0),
    )?)
}

/// Record that numbers up to `value` were used (an import of past records): the counter never
/// goes back.
pub fn raise_to(tx: &Tx<'_>, scope: &str, period: &str, value: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO number_counters (scope, period, value) VALUES (?1, ?2, ?3)
         ON CONFLICT (scope, period) DO UPDATE SET value = CASE WHEN excluded.value > number_counters.value THEN excluded.value ELSE number_counters.value END",
        params![scope, period, value],
    )?;
    Ok(())
}
