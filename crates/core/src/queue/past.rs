//! Tickets, ratings and follow-ups of past days written as records (a generated history for a
//! demo hall or a benchmark; an import of another system's records), through the queue's own
//! SQL like everything else that writes its tables. Nothing here is a live queue operation: no
//! counter moves, no event is logged for a screen.

use rusqlite::params;

use crate::kernel::error::Result;
use crate::kernel::ids::new_id;
use crate::kernel::store::Tx;

/// A ticket of a past day, with the moments of its life (milliseconds).
#[derive(Debug, Clone)]
pub struct PastTicket<'a> {
    pub id: &'a str,
    pub day: &'a str,
    pub category_id: &'a str,
    pub seq: u32,
    pub number: &'a str,
    /// `done`, `no_show` or `waiting` (left without being called).
    pub status: &'a str,
    pub issued_at: i64,
    pub called_at: Option<i64>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub window_id: Option<&'a str>,
    pub staff_id: Option<&'a str>,
}

pub fn insert_ticket(tx: &Tx<'_>, t: &PastTicket<'_>) -> Result<()> {
    tx.execute(
        "INSERT INTO tickets (id, day, issued_category, seq, number, category_id, status, queue_key,
            issued_at, called_at, last_called_at, started_at, finished_at, window_id, staff_id, issued_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?3, ?6, ?7, ?7, ?8, ?8, ?9, ?10, ?11, ?12, 'kiosk')",
        params![
            t.id,
            t.day,
            t.category_id,
            t.seq,
            t.number,
            t.status,
            t.issued_at,
            t.called_at,
            t.started_at,
            t.finished_at,
            t.window_id,
            t.staff_id
        ],
    )?;
    Ok(())
}

/// A rating given at a window's evaluation device after a past visit.
#[derive(Debug, Clone)]
pub struct PastRating<'a> {
    pub ticket_id: &'a str,
    pub level: u8,
    pub comment: &'a str,
    pub window_id: Option<&'a str>,
    pub staff_id: Option<&'a str>,
    pub rated_at: i64,
}

pub fn insert_rating(tx: &Tx<'_>, r: &PastRating<'_>) -> Result<()> {
    tx.execute(
        "INSERT INTO ratings (ticket_id, level, comment, window_id, staff_id, rated_at, source,
                              channel, reasons)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, '窗口评价器', 'rater', ?7)",
        params![
            r.ticket_id,
            r.level,
            r.comment,
            r.window_id,
            r.staff_id,
            r.rated_at,
            if r.level <= 2 {
                r#"["等候时间过长"]"#
            } else {
                "[]"
            }
        ],
    )?;
    Ok(())
}

/// The rectification of a past bad rating: open, or called back and closed (立行立改) by
/// whom, when and how.
pub fn insert_followup(
    tx: &Tx<'_>,
    ticket_id: &str,
    created_at: i64,
    closed: Option<(i64, Option<&str>, &str)>,
) -> Result<()> {
    tx.execute(
        "INSERT INTO followups (id, ticket_id, status, created_at, closed_at, closed_by, outcome,
                                verified_at, verified_by, verify_note, outcome_kind, applicant_satisfied)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?5, ?6, ?8, ?9, ?10)",
        params![
            new_id(),
            ticket_id,
            if closed.is_some() { "closed" } else { "open" },
            created_at,
            closed.map(|c| c.0),
            closed.and_then(|c| c.1),
            closed.map(|c| c.2),
            closed.map(|_| "已电话联系申请人核实"),
            closed.map(|_| "fixed"),
            closed.map(|_| true)
        ],
    )?;
    Ok(())
}
