//! SQL for cases, their event log and their alerts. Kept here so the same operations can run on
//! PostgreSQL in hall mode.

use std::collections::HashMap;

use crate::kernel::store::Optional;
use crate::kernel::store::Tx;
use jiff::Timestamp;
use rusqlite::params;

use super::events::{CaseEvent, CaseStatus, LoggedEvent, replay};
use crate::calendar::WorkCalendar;
use crate::deadlines::{self, BusinessDay, Deadlines, ItemRules, Thresholds, WarningLevel};
use crate::kernel::clock::{from_ms, to_ms};
use crate::kernel::error::{CoreError, Result};
use crate::kernel::ids::new_id;

/// The stored head of a case (without its events).
#[derive(Debug, Clone)]
pub(crate) struct CaseRow {
    pub id: String,
    pub number: String,
    pub item_id: String,
    pub item_code: String,
    pub item_name: String,
    pub applicant_name: String,
    pub applicant_id_number: String,
    pub applicant_phone: String,
    pub window_number: Option<u32>,
    pub owner_id: String,
    pub owner_name: String,
    pub accepted_at: Timestamp,
    pub status: CaseStatus,
    pub level: WarningLevel,
    pub rules: ItemRules,
    pub extension_days: u32,
}

pub(crate) const CASE_SELECT: &str =
    "SELECT c.id, c.number, c.item_id, i.code, i.name, c.applicant_name,
        c.applicant_id_number, c.applicant_phone, w.number, c.owner_id, s.name, c.accepted_at,
        c.status, c.level, i.statutory_days, i.promised_days, i.reminder_days, i.yellow_days,
        i.red_days, i.extension_days
    FROM cases c
    JOIN service_items i ON i.id = c.item_id
    JOIN staff s ON s.id = c.owner_id
    LEFT JOIN windows w ON w.id = c.window_id";

pub(crate) fn case_row(
    r: &crate::kernel::store::Row<'_>,
    hall: Thresholds,
) -> crate::kernel::store::StoreResult<CaseRow> {
    let status: String = r.get(12)?;
    let level: String = r.get(13)?;
    let own: (Option<u32>, Option<u32>, Option<u32>) = (r.get(16)?, r.get(17)?, r.get(18)?);
    let thresholds = match own {
        (Some(reminder_days), Some(yellow_days), Some(red_days)) => Thresholds {
            reminder_days,
            yellow_days,
            red_days,
        },
        _ => hall,
    };
    Ok(CaseRow {
        id: r.get(0)?,
        number: r.get(1)?,
        item_id: r.get(2)?,
        item_code: r.get(3)?,
        item_name: r.get(4)?,
        applicant_name: r.get(5)?,
        applicant_id_number: r.get(6)?,
        applicant_phone: r.get(7)?,
        window_number: r.get(8)?,
        owner_id: r.get(9)?,
        owner_name: r.get(10)?,
        accepted_at: from_ms(r.get(11)?),
        status: CaseStatus::parse(&status).unwrap_or(CaseStatus::Accepted),
        level: WarningLevel::parse(&level),
        rules: ItemRules {
            statutory_days: r.get(14)?,
            promised_days: r.get(15)?,
            thresholds,
        },
        extension_days: r.get(19)?,
    })
}

pub(crate) fn get(tx: &Tx<'_>, id: &str, hall: Thresholds) -> Result<CaseRow> {
    tx.query_row(&format!("{CASE_SELECT} WHERE c.id = ?1"), [id], |r| {
        case_row(r, hall)
    })
    .optional()?
    .ok_or_else(|| CoreError::not_found("办件", id))
}

fn event_row(
    r: &crate::kernel::store::Row<'_>,
) -> crate::kernel::store::StoreResult<(String, LoggedEvent)> {
    let data: String = r.get(4)?;
    let event: CaseEvent = serde_json::from_str(&data).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(4, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok((
        r.get(0)?,
        LoggedEvent {
            seq: r.get(1)?,
            at: from_ms(r.get(2)?),
            actor_name: r.get(3)?,
            event,
        },
    ))
}

pub(crate) fn events(tx: &Tx<'_>, case_id: &str) -> Result<Vec<LoggedEvent>> {
    let mut stmt = tx.prepare_cached(
        "SELECT case_id, seq, at, actor_name, data FROM case_events WHERE case_id = ?1 ORDER BY seq",
    )?;
    let rows = stmt.query_map([case_id], event_row)?;
    Ok(rows
        .map(|r| r.map(|x| x.1))
        .collect::<crate::kernel::store::StoreResult<Vec<_>>>()?)
}

/// The events of many cases at once, grouped by case.
pub(crate) fn events_of_status(
    tx: &Tx<'_>,
    statuses: &[&str],
) -> Result<HashMap<String, Vec<LoggedEvent>>> {
    let list = statuses
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(",");
    let mut stmt = tx.prepare(&format!(
        "SELECT e.case_id, e.seq, e.at, e.actor_name, e.data FROM case_events e
         JOIN cases c ON c.id = e.case_id WHERE c.status IN ({list}) ORDER BY e.case_id, e.seq"
    ))?;
    let mut out: HashMap<String, Vec<LoggedEvent>> = HashMap::new();
    for row in stmt.query_map([], event_row)? {
        let (id, e) = row?;
        out.entry(id).or_default().push(e);
    }
    Ok(out)
}

/// Append one event after checking the state machine allows it; returns the new state.
pub(crate) fn append(
    tx: &Tx<'_>,
    case_id: &str,
    event: &CaseEvent,
    at: Timestamp,
    actor_id: Option<&str>,
    actor_name: &str,
) -> Result<super::events::Replay> {
    append_as(tx, case_id, event, at, actor_id, actor_name, None)
}

/// [`append`], by a backup clerk standing in for the owner under a takeover: the event names
/// both ("李娜（代张伟）") and records whom and under which handover.
pub(crate) fn append_as(
    tx: &Tx<'_>,
    case_id: &str,
    event: &CaseEvent,
    at: Timestamp,
    actor_id: Option<&str>,
    actor_name: &str,
    on_behalf: Option<&super::delegation::Delegation>,
) -> Result<super::events::Replay> {
    let actor_name = match on_behalf {
        Some(t) => format!("{actor_name}（代{}）", t.owner_name),
        None => actor_name.to_owned(),
    };
    let actor_name = actor_name.as_str();
    // The log's next seq is decided from the log: no other writer may append meanwhile.
    tx.lock_row("cases", case_id)?;
    let mut log = events(tx, case_id)?;
    let before = if log.is_empty() {
        None
    } else {
        Some(replay(&log)?)
    };
    let after = super::events::step(before, event)?;
    let seq = log.len() as u32 + 1;
    tx.execute(
        "INSERT INTO case_events (id, case_id, seq, kind, at, actor_id, actor_name, data, on_behalf_id, handover_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            new_id(),
            case_id,
            seq,
            event.kind(),
            to_ms(at),
            actor_id,
            actor_name,
            serde_json::to_string(event)?,
            on_behalf.map(|t| t.owner_id.as_str()),
            on_behalf.map(|t| t.id.as_str())
        ],
    )?;
    log.push(LoggedEvent {
        seq,
        at,
        actor_name: actor_name.to_owned(),
        event: event.clone(),
    });
    Ok(after)
}

/// Store the derived columns of one case and raise an alert when its level rose. Returns the
/// deadlines and whether the level rose.
#[allow(clippy::too_many_arguments)]
pub(crate) fn save_derived(
    tx: &Tx<'_>,
    case_id: &str,
    status: CaseStatus,
    old_level: WarningLevel,
    d: &Deadlines,
    cal: &WorkCalendar,
    day: &BusinessDay,
    now: Timestamp,
) -> Result<bool> {
    tx.execute(
        "UPDATE cases SET status = ?2, promised_due_at = ?3, statutory_due_at = ?4, level = ?5,
                provisional = ?6, calendar_version = ?7, timing = ?8, workdays_used = ?9, updated_at = ?10
         WHERE id = ?1",
        params![
            case_id,
            status.as_str(),
            to_ms(d.promised.due_at),
            to_ms(d.statutory.due_at),
            d.level.as_str(),
            d.promised.provisional || d.statutory.provisional,
            d.calendar_version,
            d.timing.map(|t| t.as_str()),
            d.workdays_used,
            to_ms(now)
        ],
    )?;
    let rose = d.level > old_level;
    if rose {
        let deliver_at = deadlines::next_business_moment(cal, day, now)?;
        tx.execute(
            "INSERT INTO case_alerts (id, case_id, level, raised_at, deliver_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![new_id(), case_id, d.level.as_str(), to_ms(now), to_ms(deliver_at)],
        )?;
    }
    Ok(rose)
}

/// A case of the past written as a record (a generated history, an import): its head with the
/// columns the deadline function derived, and its whole log — which the caller has checked
/// through the state machine ([`super::events::step`]) as [`append`] checks one event.
#[derive(Debug, Clone)]
pub struct PastCase<'a> {
    pub id: &'a str,
    pub number: &'a str,
    pub item_id: &'a str,
    pub applicant: (&'a str, &'a str, &'a str),
    pub window_id: &'a str,
    pub owner_id: &'a str,
    pub accepted_at: Timestamp,
    pub status: CaseStatus,
    pub derived: &'a Deadlines,
}

pub fn insert_past(tx: &Tx<'_>, c: &PastCase<'_>, log: &[(LoggedEvent, String)]) -> Result<()> {
    let d = c.derived;
    tx.execute(
        "INSERT INTO cases (id, number, item_id, applicant_name, applicant_id_number, applicant_phone,
            window_id, accepted_by, owner_id, received_at, accepted_at, status, level, provisional,
            calendar_version, timing, workdays_used, promised_due_at, statutory_due_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?9, ?9)",
        params![
            c.id,
            c.number,
            c.item_id,
            c.applicant.0,
            c.applicant.1,
            c.applicant.2,
            c.window_id,
            c.owner_id,
            to_ms(c.accepted_at),
            c.status.as_str(),
            d.level.as_str(),
            d.promised.provisional || d.statutory.provisional,
            d.calendar_version,
            d.timing.map(|t| t.as_str()),
            d.workdays_used,
            to_ms(d.promised.due_at),
            to_ms(d.statutory.due_at)
        ],
    )?;
    for (e, actor_id) in log {
        tx.execute(
            "INSERT INTO case_events (id, case_id, seq, kind, at, actor_id, actor_name, data)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                new_id(),
                c.id,
                e.seq,
                e.event.kind(),
                to_ms(e.at),
                actor_id,
                e.actor_name,
                serde_json::to_string(&e.event)?
            ],
        )?;
    }
    Ok(())
}
