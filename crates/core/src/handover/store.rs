//! SQL for handovers, the cases they carry and staff notices. Kept here so the same operations
//! can run on PostgreSQL in hall mode.

use crate::kernel::store::Optional;
use crate::kernel::store::Tx;
use jiff::Timestamp;
use rusqlite::params;

use super::{HandoverKind, HandoverStatus};
use crate::kernel::clock::{from_ms, to_ms};
use crate::kernel::error::{CoreError, Result};
use crate::kernel::ids::new_id;

/// The stored head of a handover.
#[derive(Debug, Clone)]
pub(crate) struct HandoverRow {
    pub id: String,
    pub number: String,
    pub post_id: String,
    pub post_name: String,
    pub absent_id: String,
    pub absent_name: String,
    pub taker_id: String,
    pub taker_name: String,
    pub absence_id: Option<String>,
    pub kind: HandoverKind,
    pub reason: String,
    pub status: HandoverStatus,
    pub queue_duties: String,
    pub queue_note: String,
    pub materials_note: String,
    pub absent_note: String,
    pub prepared_by: String,
    pub prepared_at: Timestamp,
    pub started_by: Option<String>,
    pub started_at: Option<Timestamp>,
    pub report_note: Option<String>,
    pub reported_at: Option<Timestamp>,
    pub returned_at: Option<Timestamp>,
}

const SELECT: &str = "SELECT h.id, h.number, h.post_id, p.name, h.absent_id, sa.name,
        h.taker_id, sb.name, h.absence_id, h.kind, h.reason, h.status, h.queue_duties, h.queue_note,
        h.materials_note, h.absent_note, h.prepared_by, h.prepared_at, h.started_by, h.started_at,
        h.report_note, h.reported_at, h.returned_at
    FROM handovers h JOIN posts p ON p.id = h.post_id
    JOIN staff sa ON sa.id = h.absent_id JOIN staff sb ON sb.id = h.taker_id";

fn row(r: &crate::kernel::store::Row<'_>) -> crate::kernel::store::StoreResult<HandoverRow> {
    let kind: String = r.get(9)?;
    let status: String = r.get(11)?;
    Ok(HandoverRow {
        id: r.get(0)?,
        number: r.get(1)?,
        post_id: r.get(2)?,
        post_name: r.get(3)?,
        absent_id: r.get(4)?,
        absent_name: r.get(5)?,
        taker_id: r.get(6)?,
        taker_name: r.get(7)?,
        absence_id: r.get(8)?,
        kind: if kind == "emergency" {
            HandoverKind::Emergency
        } else {
            HandoverKind::Planned
        },
        reason: r.get(10)?,
        status: HandoverStatus::parse(&status),
        queue_duties: r.get(12)?,
        queue_note: r.get(13)?,
        materials_note: r.get(14)?,
        absent_note: r.get(15)?,
        prepared_by: r.get(16)?,
        prepared_at: from_ms(r.get(17)?),
        started_by: r.get(18)?,
        started_at: r.get::<_, Option<i64>>(19)?.map(from_ms),
        report_note: r.get(20)?,
        reported_at: r.get::<_, Option<i64>>(21)?.map(from_ms),
        returned_at: r.get::<_, Option<i64>>(22)?.map(from_ms),
    })
}

pub(crate) fn get(tx: &Tx<'_>, id: &str) -> Result<HandoverRow> {
    tx.query_row(&format!("{SELECT} WHERE h.id = ?1"), [id], row)
        .optional()?
        .ok_or_else(|| CoreError::not_found("交接单", id))
}

/// Handovers matching `cond` (SQL with parameters `?1`, `?2` bound from `p`), newest first.
pub(crate) fn select(
    tx: &Tx<'_>,
    cond: &str,
    p: &[&dyn rusqlite::ToSql],
) -> Result<Vec<HandoverRow>> {
    let mut stmt = tx.prepare(&format!(
        "{SELECT} WHERE {cond} ORDER BY h.prepared_at DESC LIMIT 500"
    ))?;
    Ok(stmt
        .query_map(p, row)?
        .collect::<crate::kernel::store::StoreResult<Vec<_>>>()?)
}

/// The open (prepared, active or reported) handover of a post, if any.
pub(crate) fn open_of_post(tx: &Tx<'_>, post_id: &str) -> Result<Option<HandoverRow>> {
    Ok(select(
        tx,
        "h.post_id = ?1 AND h.status IN ('prepared', 'active', 'reported')",
        &[&post_id],
    )?
    .into_iter()
    .next())
}

pub(crate) struct NewHandover<'a> {
    pub number: &'a str,
    pub post_id: &'a str,
    pub absent_id: &'a str,
    pub taker_id: &'a str,
    pub absence_id: Option<&'a str>,
    pub kind: HandoverKind,
    pub reason: &'a str,
    pub status: HandoverStatus,
    pub queue_duties: &'a str,
    pub queue_note: &'a str,
    pub materials_note: &'a str,
    pub by: &'a str,
    pub now: Timestamp,
}

pub(crate) fn insert(tx: &Tx<'_>, h: &NewHandover<'_>) -> Result<String> {
    let id = new_id();
    let started = h.status == HandoverStatus::Active;
    tx.execute(
        "INSERT INTO handovers (id, number, post_id, absent_id, taker_id, absence_id, kind, reason, status,
             queue_duties, queue_note, materials_note, prepared_by, prepared_at, started_by, started_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        params![
            id,
            h.number,
            h.post_id,
            h.absent_id,
            h.taker_id,
            h.absence_id,
            h.kind.as_str(),
            h.reason,
            h.status.as_str(),
            h.queue_duties,
            h.queue_note,
            h.materials_note,
            h.by,
            to_ms(h.now),
            started.then_some(h.by),
            started.then(|| to_ms(h.now)),
        ],
    )?;
    Ok(id)
}

/// One case on a sheet, as stored.
#[derive(Debug, Clone)]
pub(crate) struct CaseLine {
    pub case_id: String,
    pub note: String,
    pub materials_at: String,
    pub back_note: String,
    pub propose_keep: bool,
    pub disposition: Option<String>,
}

pub(crate) fn lines(tx: &Tx<'_>, handover_id: &str) -> Result<Vec<CaseLine>> {
    let mut stmt = tx.prepare_cached(
        "SELECT case_id, note, materials_at, back_note, propose_keep, disposition
         FROM handover_cases WHERE handover_id = ?1 ORDER BY position",
    )?;
    Ok(stmt
        .query_map([handover_id], |r| {
            Ok(CaseLine {
                case_id: r.get(0)?,
                note: r.get(1)?,
                materials_at: r.get(2)?,
                back_note: r.get(3)?,
                propose_keep: r.get(4)?,
                disposition: r.get(5)?,
            })
        })?
        .collect::<crate::kernel::store::StoreResult<Vec<_>>>()?)
}

pub(crate) fn add_line(
    tx: &Tx<'_>,
    handover_id: &str,
    position: usize,
    case_id: &str,
    note: &str,
    materials_at: &str,
) -> Result<()> {
    tx.execute(
        "INSERT INTO handover_cases (handover_id, case_id, position, note, materials_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![handover_id, case_id, position as i64, note, materials_at],
    )?;
    Ok(())
}

/// The ids of a clerk's cases whose clocks still run or that wait for delivery, oldest first.
pub(crate) fn open_cases_of(tx: &Tx<'_>, owner_id: &str) -> Result<Vec<String>> {
    let mut stmt = tx.prepare(
        "SELECT id FROM cases WHERE owner_id = ?1
           AND status IN ('accepted', 'in_progress', 'suspended', 'decided')
         ORDER BY promised_due_at, accepted_at",
    )?;
    Ok(stmt
        .query_map([owner_id], |r| r.get(0))?
        .collect::<crate::kernel::store::StoreResult<Vec<_>>>()?)
}
