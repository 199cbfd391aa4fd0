//! Who may act on whose cases (代办, AB岗): a backup clerk acts on the absent clerk's cases
//! only while a takeover grants it, and afterwards may still read the cases the handover sheet
//! carried. The grants are this capability's own rows; the handover capability (above) asks
//! for them through [`offer`], [`act`], [`end`] and [`withdraw`].
//!
//! A grant moves `offered` (the sheet is made: the backup may read what it carries) → `acting`
//! (the takeover: every case of the owner, logged "B（代A）") → `ended` (the hand-back report:
//! the carried cases stay readable); or `offered` → `withdrawn` (the sheet cancelled).

use crate::kernel::store::Optional;
use jiff::Timestamp;
use rusqlite::params;

use crate::kernel::clock::to_ms;
use crate::kernel::error::Result;
use crate::kernel::store::Tx;

/// The grant under which a backup clerk acts on an absent clerk's case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delegation {
    /// The grant's id (the handover's), recorded on every case event made under it.
    pub id: String,
    pub owner_id: String,
    pub owner_name: String,
}

/// A sheet was made: `delegate` may read `case_ids` of `owner`.
pub fn offer(
    tx: &Tx<'_>,
    id: &str,
    owner_id: &str,
    delegate_id: &str,
    case_ids: &[String],
    now: Timestamp,
) -> Result<()> {
    tx.execute(
        "INSERT INTO case_delegations (id, owner_id, delegate_id, status, changed_at)
         VALUES (?1, ?2, ?3, 'offered', ?4)",
        params![id, owner_id, delegate_id, to_ms(now)],
    )?;
    for case_id in case_ids {
        tx.execute(
            "INSERT INTO case_delegation_cases (delegation_id, case_id) VALUES (?1, ?2)",
            params![id, case_id],
        )?;
    }
    Ok(())
}

fn set(tx: &Tx<'_>, id: &str, from: &str, to: &str, now: Timestamp) -> Result<()> {
    tx.execute(
        "UPDATE case_delegations SET status = ?3, changed_at = ?4 WHERE id = ?1 AND status = ?2",
        params![id, from, to, to_ms(now)],
    )?;
    Ok(())
}

/// The takeover began: the delegate acts on every case of the owner.
pub fn act(tx: &Tx<'_>, id: &str, now: Timestamp) -> Result<()> {
    set(tx, id, "offered", "acting", now)
}

/// The takeover ended (the hand-back report): acting stops, reading the carried cases stays.
pub fn end(tx: &Tx<'_>, id: &str, now: Timestamp) -> Result<()> {
    set(tx, id, "acting", "ended", now)
}

/// The sheet was cancelled before the takeover.
pub fn withdraw(tx: &Tx<'_>, id: &str, now: Timestamp) -> Result<()> {
    set(tx, id, "offered", "withdrawn", now)
}

/// The grant under which `delegate_id` acts for `owner_id` now, if any.
pub fn acting_for(tx: &Tx<'_>, delegate_id: &str, owner_id: &str) -> Result<Option<Delegation>> {
    Ok(tx
        .prepare_cached(
            "SELECT d.id, d.owner_id, s.name FROM case_delegations d JOIN staff s ON s.id = d.owner_id
             WHERE d.status = 'acting' AND d.delegate_id = ?1 AND d.owner_id = ?2",
        )?
        .query_row(params![delegate_id, owner_id], |r| {
            Ok(Delegation {
                id: r.get(0)?,
                owner_id: r.get(1)?,
                owner_name: r.get(2)?,
            })
        })
        .optional()?)
}

/// May `delegate_id` read this case of `owner_id` because a grant carried it to them (during
/// the takeover any case of the owner; before and after, the cases on the sheet)?
pub fn may_read(tx: &Tx<'_>, delegate_id: &str, case_id: &str, owner_id: &str) -> Result<bool> {
    if acting_for(tx, delegate_id, owner_id)?.is_some() {
        return Ok(true);
    }
    Ok(tx
        .prepare_cached(
            "SELECT count(*) > 0 FROM case_delegation_cases dc
             JOIN case_delegations d ON d.id = dc.delegation_id
             WHERE d.delegate_id = ?1 AND dc.case_id = ?2 AND d.status <> 'withdrawn'",
        )?
        .query_row(params![delegate_id, case_id], |r| r.get(0))?)
}

/// The owners `delegate_id` acts for now.
pub fn owners_of(tx: &Tx<'_>, delegate_id: &str) -> Result<Vec<String>> {
    Ok(tx
        .prepare_cached(
            "SELECT owner_id FROM case_delegations WHERE status = 'acting' AND delegate_id = ?1",
        )?
        .query_map([delegate_id], |r| r.get(0))?
        .collect::<crate::kernel::store::StoreResult<_>>()?)
}

/// The grant acting for `owner_id` now, with its delegate's id and name (the absent A is told
/// who handles a case that rose a level).
pub fn acting_on(tx: &Tx<'_>, owner_id: &str) -> Result<Option<(String, String, String)>> {
    Ok(tx
        .prepare_cached(
            "SELECT d.id, d.delegate_id, s.name FROM case_delegations d JOIN staff s ON s.id = d.delegate_id
             WHERE d.status = 'acting' AND d.owner_id = ?1",
        )?
        .query_row([owner_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?)
}
