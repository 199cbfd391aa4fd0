//! The rows a report is computed from: one [`TicketFact`] per ticket of the period and one
//! [`CaseFact`] per case that was accepted, decided, suspended or extended in it (or is still
//! open). Figures and drill-downs are both computed from these facts with the same predicates
//! ([`Measure::holds_ticket`], [`Measure::holds_case`]), so a drill-down lists exactly the
//! tickets or cases behind the figure that was clicked.

use crate::kernel::store::Tx;
use rusqlite::params;

use super::{Measure, Period};
use crate::kernel::error::Result;

#[derive(Debug, Clone)]
pub(crate) struct TicketFact {
    pub id: String,
    pub number: String,
    pub day: String,
    pub category_id: String,
    pub category_name: String,
    pub window_id: Option<String>,
    pub window_number: Option<u32>,
    pub staff_id: Option<String>,
    pub staff_name: Option<String>,
    pub status: String,
    pub issued_at: i64,
    pub called_at: Option<i64>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub rating: Option<Rated>,
}

#[derive(Debug, Clone)]
pub(crate) struct Rated {
    pub level: u8,
    pub comment: String,
    pub at: i64,
    pub followup_status: Option<String>,
    pub outcome: Option<String>,
    pub closed_by: Option<String>,
    pub closed_at: Option<i64>,
    /// Taken out of the figures by an upheld dispute (申诉成立); kept on record.
    pub excluded: bool,
    pub channel: String,
    pub reasons: String,
    /// The rectification's call back, and its clocks' day counts.
    pub verified_at: Option<i64>,
    pub verify_days: Option<i64>,
    pub rectify_days: Option<i64>,
}

impl TicketFact {
    /// Seconds from issue to first call (only for tickets that were called).
    pub fn wait_secs(&self) -> Option<i64> {
        self.called_at.map(|c| (c - self.issued_at).max(0) / 1000)
    }
    /// Seconds from the start of service to its end (served tickets).
    pub fn service_secs(&self) -> Option<i64> {
        match (self.status.as_str(), self.started_at, self.finished_at) {
            ("done", Some(s), Some(f)) => Some((f - s).max(0) / 1000),
            _ => None,
        }
    }
    pub fn over_target(&self, target_secs: i64) -> bool {
        self.wait_secs().is_some_and(|w| w > target_secs)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct CaseFact {
    pub id: String,
    pub number: String,
    pub item_id: String,
    pub item_name: String,
    pub category_id: Option<String>,
    pub owner_id: String,
    pub owner_name: String,
    pub window_id: Option<String>,
    pub accepted_at: i64,
    pub status: String,
    pub level: String,
    pub timing: Option<String>,
    pub workdays_used: Option<u32>,
    pub decided_at: Option<i64>,
    pub visits: u32,
    pub visits_needed: u32,
    /// Suspensions and approved extensions inside the period.
    pub suspended: u32,
    pub extended: u32,
    /// Events recorded on someone's behalf (AB post) inside the period.
    pub on_behalf: u32,
}

impl CaseFact {
    pub fn is_open(&self) -> bool {
        matches!(
            self.status.as_str(),
            "accepted" | "in_progress" | "suspended"
        )
    }
    pub fn accepted_in(&self, p: &Period) -> bool {
        p.contains(self.accepted_at)
    }
    pub fn decided_in(&self, p: &Period) -> bool {
        self.timing.is_some() && self.decided_at.is_some_and(|d| p.contains(d))
    }
}

/// Every ticket whose business day lies in the period.
pub(crate) fn tickets(tx: &Tx<'_>, p: &Period) -> Result<Vec<TicketFact>> {
    let mut stmt = tx.prepare_cached(
        "SELECT t.id, t.number, t.day, t.category_id, c.name, t.window_id, w.number, t.staff_id, s.name,
                t.status, t.issued_at, t.called_at, t.started_at, t.finished_at,
                r.level, r.comment, r.rated_at, f.status, f.outcome, fs.name, f.closed_at,
                r.excluded_at IS NOT NULL, r.channel, r.reasons, f.verified_at, f.verify_days,
                f.rectify_days
         FROM tickets t
         JOIN categories c ON c.id = t.category_id
         LEFT JOIN windows w ON w.id = t.window_id
         LEFT JOIN staff s ON s.id = t.staff_id
         LEFT JOIN ratings r ON r.ticket_id = t.id
         LEFT JOIN followups f ON f.ticket_id = t.id
         LEFT JOIN staff fs ON fs.id = f.closed_by
         WHERE t.day >= ?1 AND t.day <= ?2",
    )?;
    let rows = stmt.query_map(params![p.from.to_string(), p.to.to_string()], |r| {
        let level: Option<i64> = r.get(14)?;
        Ok(TicketFact {
            id: r.get(0)?,
            number: r.get(1)?,
            day: r.get(2)?,
            category_id: r.get(3)?,
            category_name: r.get(4)?,
            window_id: r.get(5)?,
            window_number: r.get(6)?,
            staff_id: r.get(7)?,
            staff_name: r.get(8)?,
            status: r.get(9)?,
            issued_at: r.get(10)?,
            called_at: r.get(11)?,
            started_at: r.get(12)?,
            finished_at: r.get(13)?,
            rating: match level {
                Some(level) => Some(Rated {
                    level: level.clamp(1, 5) as u8,
                    comment: r.get(15)?,
                    at: r.get(16)?,
                    followup_status: r.get(17)?,
                    outcome: r.get(18)?,
                    closed_by: r.get(19)?,
                    closed_at: r.get(20)?,
                    excluded: r.get(21)?,
                    channel: r.get(22)?,
                    reasons: r.get(23)?,
                    verified_at: r.get(24)?,
                    verify_days: r.get(25)?,
                    rectify_days: r.get(26)?,
                }),
                None => None,
            },
        })
    })?;
    Ok(rows.collect::<crate::kernel::store::StoreResult<Vec<_>>>()?)
}

/// Every case accepted, decided, suspended or extended in the period, and every case still
/// open that was accepted before its end.
pub(crate) fn cases(tx: &Tx<'_>, p: &Period) -> Result<Vec<CaseFact>> {
    // SQLite would pick the (kind, at) index for the correlated counts and walk a year of
    // events per case; the unary `+` keeps it on the case's own events. PostgreSQL plans these
    // itself (and has no such hint).
    let mut stmt = tx.prepare_cached(tx.pick(
        "WITH ids AS (
            SELECT id FROM cases WHERE accepted_at >= ?1 AND accepted_at < ?2
            UNION SELECT case_id FROM case_events
                  WHERE kind IN ('decided', 'suspended', 'extended') AND at >= ?1 AND at < ?2
            UNION SELECT id FROM cases
                  WHERE status IN ('accepted', 'in_progress', 'suspended') AND accepted_at < ?2)
         SELECT c.id, c.number, c.item_id, i.name, i.category_id, c.owner_id, s.name, c.window_id,
                c.accepted_at, c.status, c.level, c.timing, c.workdays_used,
                (SELECT min(e.at) FROM case_events e WHERE e.case_id = c.id AND +e.kind = 'decided'),
                COALESCE((SELECT max(a.visits) FROM applications a WHERE a.case_id = c.id), 1),
                i.visits_needed,
                (SELECT count(*) FROM case_events e WHERE e.case_id = c.id AND +e.kind = 'suspended'
                    AND +e.at >= ?1 AND +e.at < ?2),
                (SELECT count(*) FROM case_events e WHERE e.case_id = c.id AND +e.kind = 'extended'
                    AND +e.at >= ?1 AND +e.at < ?2),
                (SELECT count(*) FROM case_events e WHERE e.case_id = c.id
                    AND +e.on_behalf_id IS NOT NULL AND +e.at >= ?1 AND +e.at < ?2)
         FROM ids JOIN cases c ON c.id = ids.id
         JOIN service_items i ON i.id = c.item_id
         JOIN staff s ON s.id = c.owner_id",
        "WITH ids AS (
            SELECT id FROM cases WHERE accepted_at >= ?1 AND accepted_at < ?2
            UNION SELECT case_id FROM case_events
                  WHERE kind IN ('decided', 'suspended', 'extended') AND at >= ?1 AND at < ?2
            UNION SELECT id FROM cases
                  WHERE status IN ('accepted', 'in_progress', 'suspended') AND accepted_at < ?2)
         SELECT c.id, c.number, c.item_id, i.name, i.category_id, c.owner_id, s.name, c.window_id,
                c.accepted_at, c.status, c.level, c.timing, c.workdays_used,
                (SELECT min(e.at) FROM case_events e WHERE e.case_id = c.id AND e.kind = 'decided'),
                COALESCE((SELECT max(a.visits) FROM applications a WHERE a.case_id = c.id), 1),
                i.visits_needed,
                (SELECT count(*) FROM case_events e WHERE e.case_id = c.id AND e.kind = 'suspended'
                    AND e.at >= ?1 AND e.at < ?2),
                (SELECT count(*) FROM case_events e WHERE e.case_id = c.id AND e.kind = 'extended'
                    AND e.at >= ?1 AND e.at < ?2),
                (SELECT count(*) FROM case_events e WHERE e.case_id = c.id
                    AND e.on_behalf_id IS NOT NULL AND e.at >= ?1 AND e.at < ?2)
         FROM ids JOIN cases c ON c.id = ids.id
         JOIN service_items i ON i.id = c.item_id
         JOIN staff s ON s.id = c.owner_id",
    ))?;
    let rows = stmt.query_map(params![p.start_ms, p.end_ms], |r| {
        Ok(CaseFact {
            id: r.get(0)?,
            number: r.get(1)?,
            item_id: r.get(2)?,
            item_name: r.get(3)?,
            category_id: r.get(4)?,
            owner_id: r.get(5)?,
            owner_name: r.get(6)?,
            window_id: r.get(7)?,
            accepted_at: r.get(8)?,
            status: r.get(9)?,
            level: r.get(10)?,
            timing: r.get(11)?,
            workdays_used: r.get(12)?,
            decided_at: r.get(13)?,
            visits: r.get(14)?,
            visits_needed: r.get(15)?,
            suspended: r.get(16)?,
            extended: r.get(17)?,
            on_behalf: r.get(18)?,
        })
    })?;
    Ok(rows.collect::<crate::kernel::store::StoreResult<Vec<_>>>()?)
}

impl Measure {
    /// Whether a ticket counts towards this measure (false for case measures).
    pub(crate) fn holds_ticket(self, t: &TicketFact, target_secs: i64) -> bool {
        match self {
            Measure::Issued => true,
            Measure::Served => t.status == "done",
            Measure::NoShow => t.status == "no_show",
            Measure::Unserved => !matches!(t.status.as_str(), "done" | "no_show"),
            Measure::OverTarget => t.over_target(target_secs),
            Measure::Rated | Measure::ItemRated => t.rating.is_some(),
            Measure::BadRating => t.rating.as_ref().is_some_and(|r| r.level <= 2),
            _ => false,
        }
    }
    /// Whether a case counts towards this measure in the period (false for ticket measures).
    pub(crate) fn holds_case(self, c: &CaseFact, p: &Period) -> bool {
        let timing = |t: &str| c.decided_in(p) && c.timing.as_deref() == Some(t);
        match self {
            Measure::Accepted => c.accepted_in(p),
            Measure::Decided => c.decided_in(p),
            Measure::Early => timing("early"),
            Measure::OnTime => timing("on_time"),
            Measure::Late => timing("late"),
            Measure::OpenYellow => c.is_open() && c.level == "yellow",
            Measure::OpenRed => c.is_open() && c.level == "red",
            Measure::OpenSevere => c.is_open() && c.level == "severe",
            Measure::Suspended => c.suspended > 0,
            Measure::Extended => c.extended > 0,
            Measure::OverVisits => c.decided_in(p) && c.visits > c.visits_needed,
            Measure::OnBehalf => c.on_behalf > 0,
            _ => false,
        }
    }
    pub(crate) fn is_ticket_measure(self) -> bool {
        matches!(
            self,
            Measure::Issued
                | Measure::Served
                | Measure::NoShow
                | Measure::Unserved
                | Measure::OverTarget
                | Measure::Rated
                | Measure::BadRating
                | Measure::ItemRated
        )
    }
}
