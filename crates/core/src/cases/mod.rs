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

pub mod events;
pub(crate) mod store;
pub mod views;

use crate::store::Tx;
use jiff::Timestamp;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub use events::{AcceptBasis, CaseEvent, CaseStatus, DecisionOutcome, LoggedEvent, SuspendReason};
pub use views::{
    CaseAlert, CaseBoard, CaseDetail, CaseScope, CaseStats, CaseSummary, DismissAlert, GetCase,
    GetCaseBoard, GetCaseStats, ListAlerts, ListCases, RevealApplicant, RevealedApplicant,
    StatsRow,
};

use crate::audit::AuditDraft;
use crate::calendar::{DayCount, WorkCalendar};
use crate::clock::{hall_date, to_ms};
use crate::deadlines::{self, BusinessDay, Deadlines, Thresholds, WarningLevel};
use crate::error::{CoreError, ErrorCode, Result};
use crate::event::Topic;
use crate::ids::new_id;
use crate::op::{Access, Actor, Cx, Operation, StaffActor};
use crate::staff::Role;
use crate::validate;

/// How deadlines are counted and when they warn (admin settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct DeadlineSettings {
    pub day_count: DayCount,
    pub thresholds: Thresholds,
}

pub(crate) fn load_settings(tx: &Tx<'_>) -> Result<DeadlineSettings> {
    Ok(tx.query_row(
        "SELECT day_count, reminder_days, yellow_days, red_days FROM deadline_settings",
        [],
        |r| {
            Ok(DeadlineSettings {
                day_count: if r.get::<_, String>(0)? == "same_day" {
                    DayCount::SameDay
                } else {
                    DayCount::NextDay
                },
                thresholds: Thresholds {
                    reminder_days: r.get(1)?,
                    yellow_days: r.get(2)?,
                    red_days: r.get(3)?,
                },
            })
        },
    )?)
}

/// The hall's business day (from its business hours) under the deadline settings.
pub(crate) fn business_day(tx: &Tx<'_>, s: &DeadlineSettings) -> Result<BusinessDay> {
    let hours: Option<String> = rusqlite::OptionalExtension::optional(tx.query_row(
        "SELECT business_hours FROM hall",
        [],
        |r| r.get(0),
    ))?;
    let spans: Vec<crate::hall::TimeSpan> = match hours {
        Some(h) => serde_json::from_str(&h)?,
        None => crate::hall::default_hours(),
    };
    Ok(BusinessDay {
        spans: spans
            .iter()
            .map(|s| {
                Ok((
                    validate::hhmm("business_hours", &s.start)?,
                    validate::hhmm("business_hours", &s.end)?,
                ))
            })
            .collect::<Result<_>>()?,
        day_count: s.day_count,
    })
}

/// Recompute every case that is not completed (after a calendar, item or settings change, and
/// by the periodic sweep). Returns how many cases' derived columns changed level or version.
pub(crate) fn recompute_open(tx: &Tx<'_>, cal: &WorkCalendar, now: Timestamp) -> Result<usize> {
    Ok(recompute(tx, cal, now)?.0)
}

/// (cases recomputed, levels that rose)
fn recompute(tx: &Tx<'_>, cal: &WorkCalendar, now: Timestamp) -> Result<(usize, usize)> {
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
        .collect::<rusqlite::Result<Vec<_>>>()?;
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
        }
        n += 1;
    }
    Ok((n, rose))
}

/// Recompute one case after an event.
fn refresh(cx: &Cx<'_>, case_id: &str) -> Result<Deadlines> {
    let cal = cx.calendar()?;
    refresh_with(cx.tx, &cal, cx.now, case_id)
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
) -> Result<Option<crate::handover::Takeover>> {
    if actor.staff_id == owner_id || actor.role >= Role::Supervisor {
        return Ok(None);
    }
    if let Some(t) = crate::handover::authority(tx, &actor.staff_id, owner_id)? {
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
#[allow(clippy::too_many_arguments)]
pub(crate) fn insert(
    tx: &Tx<'_>,
    cal: &WorkCalendar,
    now: Timestamp,
    by: &Acceptor,
    item_id: &str,
    applicant: (&str, &str, &str),
    ticket_id: Option<&str>,
    received_at: Timestamp,
    basis: AcceptBasis,
) -> Result<(String, String, Deadlines)> {
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
    let seq = store::next_number(tx, "case", &year.to_string())?;
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
    let d = refresh_with(tx, cal, now, &id)?;
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

/// Recompute one case's derived columns.
pub(crate) fn refresh_with(
    tx: &Tx<'_>,
    cal: &WorkCalendar,
    now: Timestamp,
    case_id: &str,
) -> Result<Deadlines> {
    let settings = load_settings(tx)?;
    let day = business_day(tx, &settings)?;
    let row = store::get(tx, case_id, settings.thresholds)?;
    let log = store::events(tx, case_id)?;
    let state = events::replay(&log)?;
    let d = deadlines::compute(&log, cal, &row.rules, &day, now)?;
    store::save_derived(tx, case_id, state.status, row.level, &d, cal, &day, now)?;
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
        let cal = cx.calendar()?;
        let (id, number, d) = insert(
            cx.tx,
            &cal,
            cx.now,
            &Acceptor::from(&me),
            &item_id,
            (&name, &id_number, &phone),
            ticket.as_deref(),
            cx.now,
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
        cx.record(
            Topic::Case,
            AuditDraft::new("case", Some(&id), format!("{label}：{}", row.number))
                .after(&event)
                .on_behalf_of(takeover.as_ref().map(|t| t.absent_name.as_str())),
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

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct GetDeadlineSettings {}

impl Operation for GetDeadlineSettings {
    const NAME: &'static str = "deadline.settings";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = false;
    type Response = DeadlineSettings;
    fn run(self, cx: &mut Cx<'_>) -> Result<DeadlineSettings> {
        load_settings(cx.tx)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct UpdateDeadlineSettings {
    pub settings: DeadlineSettings,
}

impl Operation for UpdateDeadlineSettings {
    const NAME: &'static str = "deadline.update_settings";
    const ACCESS: Access = Access::Admin;
    const WRITES: bool = true;
    type Response = DeadlineSettings;
    fn run(self, cx: &mut Cx<'_>) -> Result<DeadlineSettings> {
        let s = self.settings;
        let t = s.thresholds;
        for (field, label, v) in [
            ("thresholds.reminder_days", "提醒阈值", t.reminder_days),
            ("thresholds.yellow_days", "黄牌阈值", t.yellow_days),
            ("thresholds.red_days", "红牌阈值", t.red_days),
        ] {
            validate::range_i64(field, label, v.into(), 0, 30)?;
        }
        if t.yellow_days > t.reminder_days {
            return Err(CoreError::new(
                ErrorCode::OutOfRange,
                "黄牌阈值不能大于提醒阈值（黄牌比提醒更紧迫）",
            )
            .field("thresholds.yellow_days")
            .param("max", t.reminder_days));
        }
        let before = load_settings(cx.tx)?;
        cx.tx.execute(
            "UPDATE deadline_settings SET day_count = ?1, reminder_days = ?2, yellow_days = ?3, red_days = ?4, updated_at = ?5",
            params![
                match s.day_count {
                    DayCount::NextDay => "next_day",
                    DayCount::SameDay => "same_day",
                },
                t.reminder_days,
                t.yellow_days,
                t.red_days,
                cx.ms()
            ],
        )?;
        let cal = cx.calendar()?;
        let n = recompute_open(cx.tx, &cal, cx.now)?;
        cx.record(
            Topic::Calendar,
            AuditDraft::new(
                "deadline_settings",
                None,
                format!("修改限时办结设置；重算在办件 {n} 件"),
            )
            .before(before)
            .after(s),
        )?;
        load_settings(cx.tx)
    }
}

/// What a sweep did.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema,
)]
pub struct SweepReport {
    pub recomputed: u32,
    pub raised: u32,
    /// Applications deemed accepted (art. 32(4)): "application → case" numbers.
    pub deemed: Vec<String>,
    /// Alerts delivered now (the shell shows a desktop notification for each).
    pub delivered: Vec<CaseAlert>,
    /// Staff notices added (uncovered posts, levels rising during an absence).
    pub notices: u32,
}

impl crate::Store {
    /// The periodic deadline sweep (the shell runs it every minute; the hall server too): levels
    /// change with time alone. Raises alerts for rising levels and delivers those whose
    /// business moment has come. Writes one audit row when anything changed.
    pub fn sweep_deadlines(&self, now: Timestamp) -> Result<(SweepReport, Vec<crate::HallEvent>)> {
        self.write(|tx| {
            let cal = crate::calendar::current(tx, &self.calendars)?;
            let deemed = crate::applications::deem_lapsed(tx, &cal, self.data_dir(), now)?;
            if !deemed.is_empty() {
                crate::audit::append(
                    tx,
                    &crate::applications::deemed_actor(),
                    Some("sweep"),
                    "application.deemed",
                    now,
                    AuditDraft::new(
                        "application",
                        None,
                        format!(
                            "逾期未出具一次性告知，视为自收到材料之日起受理（行政许可法第三十二条）：{}",
                            deemed
                                .iter()
                                .map(|(a, c)| format!("{a} → {c}"))
                                .collect::<Vec<_>>()
                                .join("，")
                        ),
                    ),
                )?;
            }
            let (recomputed, raised) = recompute(tx, &cal, now)?;
            let delivered = views::deliver_due_alerts(tx, now)?;
            let before: u32 =
                tx.query_row("SELECT count(*) FROM staff_notices", [], |r| r.get(0))?;
            crate::handover::notify_uncovered(tx, now)?;
            let notices =
                tx.query_row("SELECT count(*) FROM staff_notices", [], |r| r.get::<_, u32>(0))?
                    - before;
            let report = SweepReport {
                recomputed: recomputed as u32,
                raised: raised as u32,
                deemed: deemed.iter().map(|(a, c)| format!("{a} → {c}")).collect(),
                delivered,
                notices,
            };
            let mut events = vec![];
            if notices > 0 {
                events.push(crate::HallEvent {
                    topic: Topic::Staff,
                    op: "deadline.sweep".into(),
                    subject_id: None,
                    source: Some("sweep".into()),
                    at: now,
                });
            }
            if report.raised > 0
                || !report.delivered.is_empty()
                || !report.deemed.is_empty()
                || notices > 0
            {
                let actor = Actor::System("限时办结监察".into());
                crate::audit::append(
                    tx,
                    &actor,
                    Some("sweep"),
                    "deadline.sweep",
                    now,
                    AuditDraft::new(
                        "case",
                        None,
                        format!(
                            "预警巡检：新预警 {} 条，送达提醒 {} 条，工作通知 {} 条",
                            report.raised,
                            report.delivered.len(),
                            report.notices
                        ),
                    ),
                )?;
                events.push(crate::HallEvent {
                    topic: Topic::Case,
                    op: "deadline.sweep".into(),
                    subject_id: None,
                    source: Some("sweep".into()),
                    at: now,
                });
            }
            self.announce(tx, &events)?;
            Ok((report, events))
        })
    }
}

/// Level order for sorting by urgency (most urgent first).
pub fn urgency(level: WarningLevel) -> u8 {
    4 - level as u8
}
