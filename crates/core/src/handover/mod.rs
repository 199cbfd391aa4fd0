//! Handover (交接) and takeover (顶岗) between the A and B of a post, and the hand-back.
//!
//! The rules (AB岗工作制 / 同岗替代制 as hall regulations write them; see `shared/glossary.md`):
//! - Before a planned absence A prepares a **handover sheet**: every open case of the post with
//!   its deadline, warning level and state, a note per case and where its paper materials are,
//!   plus the window's queue duties and the tickets held there. It prints as a PDF.
//! - B **acknowledges** the sheet; from then on the takeover is active: A's cases appear in B's
//!   list marked 代办, B acts on them with A's authority, every action is recorded as
//!   "B（代A）" (case events and the audit log), and the deadlines keep running — a takeover
//!   never stops a clock (行政许可法 art. 42 counts working days, not who is at the desk).
//! - If A leaves without a handover (illness, emergency), B takes over on their own initiative
//!   or the supervisor assigns the takeover, with a reason; the sheet is generated from the
//!   system's state and A may add notes later.
//! - On A's return B **reports** what was done, pre-filled from the events of each case during
//!   the takeover, and adds notes; that ends B's authority. A **acknowledges** the report and
//!   each case goes back to A or stays with B (a `reassigned` case event), case by case.
//! - B can act on A's cases only while the takeover is active; afterwards B can read the cases
//!   the sheet carried, but not act.
//! - Notifications (`staff_notices`): B when a takeover is requested and when someone else starts
//!   it; every supervisor when a post is uncovered; A when one of their cases changes warning
//!   level during the absence.
//! - Who handled what is part of each clerk's annual assessment: [`GetHandoverFigures`].

pub(crate) mod store;

use crate::calendar::CalendarOf;
use crate::kernel::store::Optional;
use crate::kernel::store::Tx;
use jiff::Timestamp;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::cases::{CaseSummary, LoggedEvent};
use crate::deadlines::{Timing, WarningLevel};
use crate::kernel::audit::AuditDraft;
use crate::kernel::clock::{hall_date, to_ms};
use crate::kernel::error::{CoreError, ErrorCode, Result};
use crate::kernel::event::Topic;
use crate::kernel::op::{Access, Cx, Operation, StaffActor};
use crate::kernel::validate;
use crate::posts::{PostView, list_posts, staff_name};
use crate::staff::Role;

use store::HandoverRow;

mod sheet;
pub use sheet::*;
mod prepare;
pub use prepare::*;
mod lifecycle;
pub use lifecycle::*;
mod views;
pub use views::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HandoverKind {
    /// Prepared by A ahead of a planned absence.
    Planned,
    /// Started by B or a supervisor when A left without a handover.
    Emergency,
}

impl HandoverKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            HandoverKind::Planned => "planned",
            HandoverKind::Emergency => "emergency",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HandoverStatus {
    /// A prepared the sheet; B has not acknowledged it yet.
    Prepared,
    /// B has taken over.
    Active,
    /// B reported back; A has not acknowledged yet. B can no longer act.
    Reported,
    /// A acknowledged the report; every case was returned or kept.
    Returned,
    /// Withdrawn before B acknowledged it.
    Cancelled,
}

impl HandoverStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            HandoverStatus::Prepared => "prepared",
            HandoverStatus::Active => "active",
            HandoverStatus::Reported => "reported",
            HandoverStatus::Returned => "returned",
            HandoverStatus::Cancelled => "cancelled",
        }
    }
    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "active" => HandoverStatus::Active,
            "reported" => HandoverStatus::Reported,
            "returned" => HandoverStatus::Returned,
            "cancelled" => HandoverStatus::Cancelled,
            _ => HandoverStatus::Prepared,
        }
    }
    pub(crate) fn label(self) -> &'static str {
        match self {
            HandoverStatus::Prepared => "待 B 岗确认",
            HandoverStatus::Active => "顶岗中",
            HandoverStatus::Reported => "待 A 岗确认交回",
            HandoverStatus::Returned => "已交回",
            HandoverStatus::Cancelled => "已撤回",
        }
    }
}

/// A takeover begins (B acknowledged, or an emergency takeover started): B acts on A's cases
/// (cases), A's window's queue goes to B's window if the hall routes so (queue), and A counts
/// as away for the AB guard (posts). Each capability records it in its own tables.
fn takeover_began(
    cx: &Cx<'_>,
    id: &str,
    post: (&str, Option<&str>),
    absent_id: &str,
    taker_id: &str,
    absence_id: Option<&str>,
) -> Result<()> {
    let (post_id, window_id) = post;
    crate::cases::delegation::act(cx.tx, id, cx.now)?;
    if let Some(window) = window_id
        && crate::posts::routes_to_backup_window(cx.tx)?
    {
        crate::queue::route(cx.tx, id, window, taker_id, cx.now)?;
    }
    crate::posts::takeover_started(cx.tx, id, post_id, absent_id, absence_id, cx.now)
}

/// B reported back: the takeover ends in every capability that recorded it.
fn takeover_ended(cx: &Cx<'_>, id: &str) -> Result<()> {
    crate::cases::delegation::end(cx.tx, id, cx.now)?;
    crate::queue::unroute(cx.tx, id)?;
    crate::posts::takeover_reported(cx.tx, id, cx.now)
}

/// The post routing setting changed: every active takeover's queue follows it. Returns how
/// many takeovers are routed to B's window now.
pub fn reroute_active(cx: &mut Cx<'_>) -> Result<u32> {
    let to_backup = crate::posts::routes_to_backup_window(cx.tx)?;
    let mut n = 0;
    for h in store::select(cx.tx, "h.status = 'active'", &[])? {
        crate::queue::unroute(cx.tx, &h.id)?;
        let window = post_of(cx.tx, &h.post_id)?.window_id;
        if let (true, Some(window)) = (to_backup, window) {
            crate::queue::route(cx.tx, &h.id, &window, &h.taker_id, cx.now)?;
            n += 1;
        }
    }
    Ok(n)
}

/// A's case rose a warning level while B has taken over: tell A (once per case and level).
/// Run by the reactions on `case.level_rose`.
pub fn level_rose_during_absence(
    tx: &Tx<'_>,
    case_id: &str,
    level: WarningLevel,
    now: Timestamp,
) -> Result<()> {
    let owner: Option<(String, String)> = tx
        .query_row(
            "SELECT owner_id, number FROM cases WHERE id = ?1",
            [case_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((absent, number)) = owner else {
        return Ok(());
    };
    if let Some((grant, _, taker)) = crate::cases::delegation::acting_on(tx, &absent)? {
        crate::staff::inbox::notify(
            tx,
            &absent,
            "level_during_absence",
            Some(&format!("level:{case_id}:{}", level.as_str())),
            Some(&grant),
            &format!(
                "您离岗期间，办件 {number} 升为{}（{taker} 代办中）",
                level.label()
            ),
            now,
        )?;
    }
    Ok(())
}

/// The sweep's part: a post whose A is away (an approved absence now) with nobody having taken
/// over, or whose A and B are both away with no third person, is uncovered: every supervisor
/// is told, once per post and day. Returns how many notices were added.
pub fn notify_uncovered(tx: &Tx<'_>, now: Timestamp) -> Result<u32> {
    let away: Vec<String> = crate::posts::absences(
        tx,
        "a.status = 'approved' AND a.starts_at <= ?1 AND a.ends_at > ?1",
        &[&to_ms(now)],
    )?
    .into_iter()
    .map(|a| a.staff_id)
    .collect();
    if away.is_empty() {
        return Ok(0);
    }
    let mut n = 0;
    for p in list_posts(tx)? {
        let (Some(a), Some(b)) = (p.primary_id.as_deref(), p.backup_id.as_deref()) else {
            continue;
        };
        let a_away = away.iter().any(|s| s == a);
        if !a_away {
            continue;
        }
        let taken =
            store::open_of_post(tx, &p.id)?.is_some_and(|h| h.status == HandoverStatus::Active);
        let covered: bool = tx.query_row(
            "SELECT count(*) > 0 FROM post_covers WHERE post_id = ?1 AND starts_at <= ?2 AND ends_at > ?2",
            params![p.id, to_ms(now)],
            |r| r.get(0),
        )?;
        let b_away = away.iter().any(|s| s == b);
        if taken || covered {
            continue;
        }
        let text = if b_away {
            format!("岗位“{}”A、B 岗均不在岗，请指定第三人顶岗", p.name)
        } else {
            format!(
                "岗位“{}”的 {} 已离岗，{} 尚未确认顶岗",
                p.name,
                p.primary_name.as_deref().unwrap_or(""),
                p.backup_name.as_deref().unwrap_or("")
            )
        };
        n += crate::staff::inbox::notify_supervisors(
            tx,
            "post_uncovered",
            Some(&format!("uncovered:{}:{}", p.id, hall_date(now))),
            Some(&p.id),
            &text,
            now,
        )?;
    }
    Ok(n)
}
