//! Cases (办件): accepted applications, their append-only event log, and the deadlines and
//! warnings derived from it (限时办结).
//!
//! Contract:
//! - A case is created at acceptance (受理) with its item, applicant, accepting clerk, owning
//!   clerk, window and the acceptance moment; its number (`{hall code}-{year}-{seq:06}`) is
//!   allocated in the same transaction.
//! - Every change is an event appended to `case_events` (the database refuses edits); the
//!   status, deadlines, level and timing are derived by [`events::replay`] and
//!   [`crate::deadlines::compute`] and cached on the case row with the calendar version used.
//! - An extension is requested by the clerk and approved or denied by a supervisor (行政许可法
//!   art. 42: the agency head decides, and the applicant is told why); it may not exceed what the
//!   item still allows, and must be decided before the statutory deadline.
//! - When a case's level rises an alert is raised; it is delivered only in business hours on a
//!   working day ([`crate::deadlines::next_business_moment`]).
//! - Only the owner, supervisors, and the backup clerk during an active takeover of the owner's
//!   post act on a case ([`crate::handover`]); the backup's actions are logged "B（代A）".

pub use crate::deadlines::events;
pub mod delegation;
pub mod store;
pub mod views;

use crate::calendar::CalendarOf;
use crate::kernel::store::Tx;
use jiff::Timestamp;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub use events::{AcceptBasis, CaseEvent, CaseStatus, DecisionOutcome, LoggedEvent, SuspendReason};
pub use views::{
    CaseAlert, CaseBoard, CaseDetail, CaseScope, CaseSummary, DismissAlert, GetCase, GetCaseBoard,
    ListAlerts, ListCases, RevealApplicant, RevealedApplicant,
};

use crate::calendar::WorkCalendar;
use crate::deadlines::settings::{business_day, load_settings};
use crate::deadlines::{self, Deadlines, WarningLevel};
use crate::kernel::audit::AuditDraft;
use crate::kernel::clock::{hall_date, to_ms};
use crate::kernel::error::{CoreError, ErrorCode, Result};
use crate::kernel::event::{DomainEvent, Topic};
use crate::kernel::ids::new_id;
use crate::kernel::op::{Access, Cx, Operation, StaffActor};
use crate::kernel::validate;
use crate::staff::Role;

/// A case's warning level rose (time passed, or an event moved its clocks): an alert was
/// raised in the same transaction. Who else must hear of it is the reactions' business (the
/// absent A during a takeover).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelRose {
    pub case_id: String,
    pub number: String,
    pub owner_id: String,
    pub level: WarningLevel,
}

impl DomainEvent for LevelRose {
    fn name(&self) -> &'static str {
        "case.level_rose"
    }
}

/// A case was accepted (directly, after a supplement, or deemed by the art. 32 clock).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseAccepted {
    pub case_id: String,
    pub number: String,
    pub basis: AcceptBasis,
}

impl DomainEvent for CaseAccepted {
    fn name(&self) -> &'static str {
        "case.accepted"
    }
}

/// Recompute every case that is not completed (after a calendar, item or settings change, and
/// by the periodic sweep), on the calendar of this transaction. Returns (cases recomputed,
/// levels that rose); each rise is an alert and a [`LevelRose`] event.
pub fn recompute_open(cx: &mut Cx<'_>) -> Result<(usize, usize)> {
    let tx = cx.tx;
    let now = cx.now;
    let cal = cx.calendar()?;
    let cal = &*cal;
    let settings = load_settings(tx)?;
    let day = business_day(tx, &settings)?;
    let mut logs =
        store::events_of_status(tx, &["accepted", "in_progress", "suspended", "decided"])?;
    let mut stmt = tx.prepare(&format!(
        "{} WHERE c.status IN ('accepted', 'in_progress', 'suspended', 'decided')",
        store::CASE_SELECT
    ))?;
    let rows = stmt
        .query_map([], |r| store::case_row(r, settings.thresholds))?
        .collect::<crate::kernel::store::StoreResult<Vec<_>>>()?;
    let (mut n, mut rose) = (0, 0);
    for row in rows {
        let log = logs.remove(&row.id).unwrap_or_default();
        // One case whose log cannot be computed must not stop the sweep for every other case:
        // it keeps its stored columns and is shown flagged by the lists (`views::checked`).
        let d = match deadlines::compute(&log, cal, &row.rules, &day, now) {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(case = %row.number, error = %e.message, "case skipped by the recompute: its log cannot be computed");
                continue;
            }
        };
        if store::save_derived(tx, &row.id, row.status, row.level, &d, cal, &day, now)? {
            rose += 1;
            cx.emit(LevelRose {
                case_id: row.id.clone(),
                number: row.number.clone(),
                owner_id: row.owner_id.clone(),
                level: d.level,
            })?;
        }
        n += 1;
    }
    Ok((n, rose))
}

fn clerk(cx: &Cx<'_>) -> Result<StaffActor> {
    Ok(cx.actor.staff()?.clone())
}

/// May this actor act on the case? The owner, a supervisor/admin, or the backup clerk during an
/// active takeover of the owner's post — then `Some(takeover)`: they act on the owner's behalf.
/// Once the takeover has ended, the backup may still read the case but not act.
pub(crate) fn may_act(
    tx: &Tx<'_>,
    actor: &StaffActor,
    owner_id: &str,
) -> Result<Option<delegation::Delegation>> {
    if actor.staff_id == owner_id || actor.role >= Role::Supervisor {
        return Ok(None);
    }
    if let Some(t) = delegation::acting_for(tx, &actor.staff_id, owner_id)? {
        return Ok(Some(t));
    }
    Err(
        CoreError::forbidden("只有承办人、顶岗中的 B 岗或分管领导可以处理此办件")
            .param("op", "case"),
    )
}

/// Accept an application whose materials are complete: the case is created and its clocks start.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct AcceptCase {
    pub item_id: String,
    pub applicant_name: String,
    pub applicant_id_number: String,
    pub applicant_phone: String,
    /// The queue ticket being served, if any.
    #[serde(default)]
    pub ticket_id: Option<String>,
}

/// Who accepts a case: the clerk at the window, or (deemed acceptance) the clerk who received
/// the materials.
#[derive(Debug, Clone)]
pub(crate) struct Acceptor {
    pub staff_id: String,
    pub name: String,
    pub window_id: Option<String>,
}

impl From<&StaffActor> for Acceptor {
    fn from(s: &StaffActor) -> Self {
        Acceptor {
            staff_id: s.staff_id.clone(),
            name: s.name.clone(),
            window_id: s.window_id.clone(),
        }
    }
}

/// Create a case (the acceptance itself), numbered in this transaction; shared by direct
/// acceptance, acceptance after a supplement and deemed acceptance. The caller audits.
pub(crate) fn insert(
    cx: &mut Cx<'_>,
    by: &Acceptor,
    item_id: &str,
    applicant: (&str, &str, &str),
    ticket_id: Option<&str>,
    received_at: Timestamp,
    basis: AcceptBasis,
) -> Result<(String, String, Deadlines)> {
    let (tx, now) = (cx.tx, cx.now);
    let item = crate::catalog::get(tx, item_id)?;
    if !item.active {
        return Err(CoreError::new(
            ErrorCode::ItemInactive,
            format!("事项“{}”已停用，不能受理", item.fields.name),
        )
        .field("item_id"));
    }
    let hall = crate::hall::load_hall(tx)?;
    let year = hall_date(now).year();
    let seq = crate::kernel::numbers::next(tx, "case", &year.to_string())?;
    let number = format!("{}-{year}-{seq:06}", hall.code);
    let id = new_id();
    tx.execute(
        "INSERT INTO cases (id, number, item_id, applicant_name, applicant_id_number, applicant_phone,
            ticket_id, window_id, accepted_by, owner_id, received_at, accepted_at, status, level,
            provisional, calendar_version, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11, 'accepted', 'none', 0, 0, ?11, ?11)",
        params![
            id,
            number,
            item.id,
            applicant.0,
            applicant.1,
            applicant.2,
            ticket_id,
            by.window_id,
            by.staff_id,
            to_ms(received_at),
            to_ms(now)
        ],
    )?;
    store::append(
        tx,
        &id,
        &CaseEvent::Accepted { received_at, basis },
        now,
        Some(&by.staff_id),
        &by.name,
    )?;
    let d = refresh(cx, &id)?;
    cx.emit(CaseAccepted {
        case_id: id.clone(),
        number: number.clone(),
        basis,
    })?;
    Ok((id, number, d))
}

/// A case's log and its deadlines at `now`, computed as every view computes them (the
/// lived-in suite checks stored columns against it).
pub fn replayed(
    tx: &Tx<'_>,
    cal: &WorkCalendar,
    case_id: &str,
    now: Timestamp,
) -> Result<(Vec<LoggedEvent>, Deadlines)> {
    let settings = load_settings(tx)?;
    let day = business_day(tx, &settings)?;
    let row = store::get(tx, case_id, settings.thresholds)?;
    let log = store::events(tx, case_id)?;
    let d = deadlines::compute(&log, cal, &row.rules, &day, now)?;
    Ok((log, d))
}

/// The case changes hands for good (AB岗 hand-back: B keeps a case A handed over): a
/// `reassigned` event, the new owner, the clocks running on. Asked by the handover capability.
pub fn reassign(
    cx: &mut Cx<'_>,
    case_id: &str,
    (to_id, to_name): (&str, &str),
    reason: &str,
    (by_id, by_name): (&str, &str),
) -> Result<()> {
    let settings = load_settings(cx.tx)?;
    let row = store::get(cx.tx, case_id, settings.thresholds)?;
    store::append(
        cx.tx,
        case_id,
        &CaseEvent::Reassigned {
            from_name: row.owner_name.clone(),
            to_name: to_name.to_owned(),
            reason: reason.to_owned(),
        },
        cx.now,
        Some(by_id),
        by_name,
    )?;
    cx.tx.execute(
        "UPDATE cases SET owner_id = ?2, updated_at = ?3 WHERE id = ?1",
        params![case_id, to_id, cx.ms()],
    )?;
    refresh(cx, case_id)?;
    Ok(())
}

/// The acceptance message to the applicant (受理 number, item, promised date), queued in the
/// outbox in the transaction that accepted the case. Run by the reactions on `case.accepted`.
pub fn queue_acceptance_message(cx: &mut Cx<'_>, case_id: &str) -> Result<()> {
    let promised: Option<i64> = cx.tx.query_row(
        "SELECT promised_due_at FROM cases WHERE id = ?1",
        [case_id],
        |r| r.get(0),
    )?;
    let promised = promised
        .map(|ms| crate::messages::cn_day_of(crate::kernel::clock::from_ms(ms)))
        .unwrap_or_else(|| "承诺期限".into());
    message(
        cx,
        case_id,
        "case.accepted",
        case_id,
        &[("promised", promised)],
    )
}

/// Queue message `kind` about `case_id` to its applicant's phone; `cause` makes the dedupe key
/// (one message per event of the case's log).
fn message(
    cx: &Cx<'_>,
    case_id: &str,
    kind: &str,
    cause: &str,
    vars: &[(&str, String)],
) -> Result<()> {
    let settings = load_settings(cx.tx)?;
    let row = store::get(cx.tx, case_id, settings.thresholds)?;
    let mut all = vec![
        ("case", row.number.clone()),
        ("item", row.item_name.clone()),
    ];
    all.extend(vars.iter().cloned());
    crate::messages::send(
        cx.tx,
        cx.now,
        kind,
        &row.applicant_phone,
        &format!("{kind}:{cause}"),
        &all,
    )?;
    Ok(())
}

/// The message a step of the case's log sends the applicant, if any: a pause (and why), a
/// result ready to collect. `seq` is the step's place in the log (the dedupe key).
fn message_for_step(cx: &Cx<'_>, case_id: &str, event: &CaseEvent) -> Result<()> {
    let seq = store::events(cx.tx, case_id)?.len();
    let cause = format!("{case_id}:{seq}");
    match event {
        CaseEvent::Suspended {
            reason,
            expected_days,
            ..
        } => message(
            cx,
            case_id,
            "case.suspended",
            &cause,
            &[
                ("reason", reason.label().to_owned()),
                ("days", expected_days.to_string()),
            ],
        ),
        CaseEvent::Extended { days, reason, .. } => message(
            cx,
            case_id,
            "case.extended",
            &cause,
            &[("days", days.to_string()), ("reason", reason.clone())],
        ),
        CaseEvent::Decided { .. } => message(cx, case_id, "case.decided", &cause, &[]),
        _ => Ok(()),
    }
}

/// A completed case whose applicant's data may be anonymised.
#[derive(Debug, Clone)]
pub struct Anonymisable {
    pub id: String,
    pub applicant_name: String,
    pub applicant_id_number: String,
    pub applicant_phone: String,
    pub ticket_id: Option<String>,
}

/// Completed cases, not yet anonymised, delivered before `end_ms` (at most `limit`).
pub fn completed_before(tx: &Tx<'_>, end_ms: i64, limit: u32) -> Result<Vec<Anonymisable>> {
    Ok(tx
        .prepare(tx.pick(
            // SQLite: `+e.kind` keeps it on the case's own events, not the (kind, at) index.
            "SELECT c.id, c.applicant_name, c.applicant_id_number, c.applicant_phone, c.ticket_id
             FROM cases c
             WHERE c.status = 'completed' AND c.anonymised_at IS NULL
               AND (SELECT max(e.at) FROM case_events e
                    WHERE e.case_id = c.id AND +e.kind = 'completed') < ?1
             LIMIT ?2",
            "SELECT c.id, c.applicant_name, c.applicant_id_number, c.applicant_phone, c.ticket_id
             FROM cases c
             WHERE c.status = 'completed' AND c.anonymised_at IS NULL
               AND (SELECT max(e.at) FROM case_events e
                    WHERE e.case_id = c.id AND e.kind = 'completed') < ?1
             LIMIT ?2",
        ))?
        .query_map(params![end_ms, limit], |r| {
            Ok(Anonymisable {
                id: r.get(0)?,
                applicant_name: r.get(1)?,
                applicant_id_number: r.get(2)?,
                applicant_phone: r.get(3)?,
                ticket_id: r.get(4)?,
            })
        })?
        .collect::<crate::kernel::store::StoreResult<_>>()?)
}

/// Replace a case's applicant data by its masked form (the privacy capability decides when).
pub fn anonymise(
    tx: &Tx<'_>,
    case_id: &str,
    (name, number, phone): (&str, &str, &str),
    now: Timestamp,
) -> Result<u32> {
    Ok(tx.execute(
        "UPDATE cases SET applicant_name = ?2, applicant_id_number = ?3, applicant_phone = ?4,
            anonymised_at = ?5 WHERE id = ?1",
        params![case_id, name, number, phone, to_ms(now)],
    )? as u32)
}

/// Recompute one case's derived columns after an event of its own.
pub(crate) fn refresh(cx: &mut Cx<'_>, case_id: &str) -> Result<Deadlines> {
    let (tx, now) = (cx.tx, cx.now);
    let cal = cx.calendar()?;
    let settings = load_settings(tx)?;
    let day = business_day(tx, &settings)?;
    let row = store::get(tx, case_id, settings.thresholds)?;
    let log = store::events(tx, case_id)?;
    let state = events::replay(&log)?;
    let d = deadlines::compute(&log, &cal, &row.rules, &day, now)?;
    if store::save_derived(tx, case_id, state.status, row.level, &d, &cal, &day, now)? {
        cx.emit(LevelRose {
            case_id: case_id.to_owned(),
            number: row.number.clone(),
            owner_id: row.owner_id.clone(),
            level: d.level,
        })?;
    }
    Ok(d)
}

impl Operation for AcceptCase {
    const NAME: &'static str = "case.accept";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = CaseDetail;
    fn run(self, cx: &mut Cx<'_>) -> Result<CaseDetail> {
        let me = clerk(cx)?;
        if me.window_id.is_none() && me.role == Role::Clerk {
            return Err(CoreError::new(
                ErrorCode::WindowRequired,
                "请先在窗口登录再受理",
            ));
        }
        let item_id = validate::id("item_id", "事项", &self.item_id)?;
        let (name, id_number, phone, ticket) = validate::applicant(
            &self.applicant_name,
            &self.applicant_id_number,
            &self.applicant_phone,
            self.ticket_id.as_deref(),
        )?;
        let now = cx.now;
        let (id, number, d) = insert(
            cx,
            &Acceptor::from(&me),
            &item_id,
            (&name, &id_number, &phone),
            ticket.as_deref(),
            now,
            AcceptBasis::Direct,
        )?;
        cx.record(
            Topic::Case,
            AuditDraft::new(
                "case",
                Some(&id),
                format!(
                    "受理 {number}：申请人 {}，承诺 {} 前办结",
                    validate::mask_name(&name),
                    d.promised.due_date
                ),
            ),
        )?;
        views::detail(cx, &id)
    }
}

/// What the owner (or a supervisor) does to a case.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CaseAction {
    Start,
    Suspend {
        reason: SuspendReason,
        expected_days: u32,
        note: String,
    },
    Resume {
        note: String,
    },
    RequestExtension {
        days: u32,
        reason: String,
    },
    Decide {
        outcome: DecisionOutcome,
        note: String,
    },
    Complete {
        note: String,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ActOnCase {
    pub id: String,
    pub action: CaseAction,
}

fn note(field: &str, v: &str) -> Result<String> {
    validate::optional_text(field, "说明", v, 200)
}

/// Working days of extension the item still allows.
fn extension_left(row: &store::CaseRow, replay: &events::Replay) -> u32 {
    row.extension_days.saturating_sub(replay.extended_days)
}

/// An extension of `days` must fit in what the item still allows and be decided before the
/// statutory deadline (行政许可法 art. 42). Checked at the request and again at the approval.
fn check_extension(
    cx: &Cx<'_>,
    id: &str,
    row: &store::CaseRow,
    state: &events::Replay,
    days: u32,
) -> Result<()> {
    let left = extension_left(row, state);
    if days > left {
        return Err(CoreError::new(
            ErrorCode::ExtensionExceeded,
            format!("该事项最多还可延长 {left} 个工作日"),
        )
        .field("days")
        .param("left", left));
    }
    if views::deadlines_of(cx, id, row)?.statutory.overdue {
        return Err(CoreError::new(
            ErrorCode::DeadlinePassed,
            "法定期限已过，不能再延期（延期须在法定期限内决定）",
        ));
    }
    Ok(())
}

impl Operation for ActOnCase {
    const NAME: &'static str = "case.act";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = CaseDetail;
    fn run(self, cx: &mut Cx<'_>) -> Result<CaseDetail> {
        let me = clerk(cx)?;
        let id = validate::id("id", "办件", &self.id)?;
        let settings = load_settings(cx.tx)?;
        let row = store::get(cx.tx, &id, settings.thresholds)?;
        let takeover = may_act(cx.tx, &me, &row.owner_id)?;
        let event = match self.action {
            CaseAction::Start => CaseEvent::Started,
            CaseAction::Suspend {
                reason,
                expected_days,
                note: n,
            } => CaseEvent::Suspended {
                reason,
                expected_days: validate::range_i64(
                    "expected_days",
                    "预计所需工作日",
                    expected_days.into(),
                    1,
                    365,
                )? as u32,
                note: note("note", &n)?,
            },
            CaseAction::Resume { note: n } => CaseEvent::Resumed {
                note: note("note", &n)?,
            },
            CaseAction::RequestExtension { days, reason } => {
                let days = validate::range_i64("days", "延长工作日", days.into(), 1, 365)? as u32;
                let reason = validate::text("reason", "延期理由", &reason, 200)?;
                let state = events::replay(&store::events(cx.tx, &id)?)?;
                check_extension(cx, &id, &row, &state, days)?;
                CaseEvent::ExtensionRequested { days, reason }
            }
            CaseAction::Decide { outcome, note: n } => CaseEvent::Decided {
                outcome,
                note: note("note", &n)?,
            },
            CaseAction::Complete { note: n } => CaseEvent::Completed {
                note: note("note", &n)?,
            },
        };
        let label = events::event_label(&event);
        store::append_as(
            cx.tx,
            &id,
            &event,
            cx.now,
            Some(&me.staff_id),
            &me.name,
            takeover.as_ref(),
        )?;
        refresh(cx, &id)?;
        message_for_step(cx, &id, &event)?;
        cx.record(
            Topic::Case,
            AuditDraft::new("case", Some(&id), format!("{label}：{}", row.number))
                .after(&event)
                .on_behalf_of(takeover.as_ref().map(|t| t.owner_name.as_str())),
        )?;
        views::detail(cx, &id)
    }
}

/// A supervisor approves or denies a pending extension request.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct DecideExtension {
    pub id: String,
    pub approve: bool,
    /// The applicant has been told the reason (art. 42 requires it for an approval).
    pub applicant_told: bool,
    pub note: String,
}

impl Operation for DecideExtension {
    const NAME: &'static str = "case.decide_extension";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = true;
    type Response = CaseDetail;
    fn run(self, cx: &mut Cx<'_>) -> Result<CaseDetail> {
        let me = clerk(cx)?;
        let id = validate::id("id", "办件", &self.id)?;
        let settings = load_settings(cx.tx)?;
        let row = store::get(cx.tx, &id, settings.thresholds)?;
        let log = store::events(cx.tx, &id)?;
        let state = events::replay(&log)?;
        let Some(days) = state.pending_extension else {
            return Err(
                CoreError::new(ErrorCode::InvalidTransition, "该办件没有待审批的延期申请")
                    .param("event", "extended"),
            );
        };
        let reason = log
            .iter()
            .rev()
            .find_map(|e| match &e.event {
                CaseEvent::ExtensionRequested { reason, .. } => Some(reason.clone()),
                _ => None,
            })
            .unwrap_or_default();
        let note = note("note", &self.note)?;
        let event = if self.approve {
            if !self.applicant_told {
                return Err(CoreError::new(
                    ErrorCode::Required,
                    "批准延期须将延期理由告知申请人（行政许可法第四十二条）",
                )
                .field("applicant_told"));
            }
            check_extension(cx, &id, &row, &state, days)?;
            CaseEvent::Extended {
                days,
                reason: if note.is_empty() {
                    reason
                } else {
                    format!("{reason}（{note}）")
                },
                applicant_told: true,
            }
        } else {
            CaseEvent::ExtensionDenied { note }
        };
        let label = events::event_label(&event);
        store::append(cx.tx, &id, &event, cx.now, Some(&me.staff_id), &me.name)?;
        refresh(cx, &id)?;
        message_for_step(cx, &id, &event)?;
        cx.record(
            Topic::Case,
            AuditDraft::new(
                "case",
                Some(&id),
                format!("{label} {days} 个工作日：{}", row.number),
            )
            .after(&event),
        )?;
        views::detail(cx, &id)
    }
}

/// Level order for sorting by urgency (most urgent first).
pub fn urgency(level: WarningLevel) -> u8 {
    4 - level as u8
}
