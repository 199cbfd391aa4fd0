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

/// The window duties of a post at the moment the sheet was made.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema,
)]
pub struct QueueDuties {
    pub window_number: Option<u32>,
    /// The categories (业务) the window calls, in its order.
    pub categories: Vec<String>,
    /// Tickets held (挂起) at the window today, waiting to be called back.
    pub held_tickets: Vec<String>,
}

fn queue_duties(tx: &Tx<'_>, window_id: Option<&str>, now: Timestamp) -> Result<QueueDuties> {
    let Some(w) = window_id else {
        return Ok(QueueDuties::default());
    };
    let window_number: Option<u32> = tx
        .query_row("SELECT number FROM windows WHERE id = ?1", [w], |r| {
            r.get(0)
        })
        .optional()?;
    let categories = tx
        .prepare(
            "SELECT c.prefix || ' ' || c.name FROM window_categories wc JOIN categories c ON c.id = wc.category_id
             WHERE wc.window_id = ?1 ORDER BY wc.rank",
        )?
        .query_map([w], |r| r.get(0))?
        .collect::<crate::kernel::store::StoreResult<Vec<String>>>()?;
    let held_tickets = tx
        .prepare("SELECT number FROM tickets WHERE window_id = ?1 AND status = 'held' AND day = ?2 ORDER BY issued_at")?
        .query_map(params![w, hall_date(now).to_string()], |r| r.get(0))?
        .collect::<crate::kernel::store::StoreResult<Vec<String>>>()?;
    Ok(QueueDuties {
        window_number,
        categories,
        held_tickets,
    })
}

/// One case on a sheet: the case as it is now, A's notes, and (once reported) B's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct HandoverCase {
    pub case: CaseSummary,
    pub note: String,
    /// Where the paper file is (柜号、档案盒).
    pub materials_at: String,
    pub back_note: String,
    pub propose_keep: bool,
    /// `returned` or `kept`, once A acknowledged the report.
    pub disposition: Option<String>,
    /// What happened to the case during the takeover (the report's pre-filled part).
    pub during: Vec<LoggedEvent>,
}

/// A handover sheet, and once B has reported, the hand-back report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct HandoverSheet {
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
    pub queue: QueueDuties,
    pub queue_note: String,
    pub materials_note: String,
    /// Notes A added (after an emergency takeover, for instance).
    pub absent_note: String,
    pub prepared_by: String,
    pub prepared_at: Timestamp,
    pub started_by: Option<String>,
    pub started_at: Option<Timestamp>,
    pub report_note: Option<String>,
    pub reported_at: Option<Timestamp>,
    pub returned_at: Option<Timestamp>,
    pub cases: Vec<HandoverCase>,
    /// What the caller may do now: `acknowledge`, `annotate`, `report`, `accept_return`, `cancel`.
    pub may: Vec<String>,
}

fn is_supervisor(me: &StaffActor) -> bool {
    me.role >= Role::Supervisor
}

fn may_do(h: &HandoverRow, me: &StaffActor) -> Vec<String> {
    let a = me.staff_id == h.absent_id;
    let b = me.staff_id == h.taker_id;
    let sup = is_supervisor(me);
    let mut out = vec![];
    match h.status {
        HandoverStatus::Prepared => {
            if b {
                out.push("acknowledge");
            }
            if a {
                out.push("annotate");
            }
            if a || sup {
                out.push("cancel");
            }
        }
        HandoverStatus::Active => {
            if a {
                out.push("annotate");
            }
            if b {
                out.push("report");
            }
        }
        HandoverStatus::Reported => {
            if a || sup {
                out.push("accept_return");
            }
        }
        HandoverStatus::Returned | HandoverStatus::Cancelled => {}
    }
    out.into_iter().map(str::to_owned).collect()
}

pub(crate) fn sheet(cx: &Cx<'_>, id: &str) -> Result<HandoverSheet> {
    let me = cx.actor.staff()?.clone();
    let h = store::get(cx.tx, id)?;
    if me.staff_id != h.absent_id && me.staff_id != h.taker_id && !is_supervisor(&me) {
        return Err(CoreError::forbidden("只有交接双方和分管领导可以查看交接单")
            .param("op", "handover.get"));
    }
    let end = h.reported_at.unwrap_or(cx.now);
    let mut cases = vec![];
    for l in store::lines(cx.tx, &h.id)? {
        let (case, log) = crate::cases::views::summary_now(cx, &l.case_id)?;
        let during = match h.started_at {
            Some(start) => log
                .into_iter()
                .filter(|e| e.at >= start && e.at <= end)
                .collect(),
            None => vec![],
        };
        cases.push(HandoverCase {
            case,
            note: l.note,
            materials_at: l.materials_at,
            back_note: l.back_note,
            propose_keep: l.propose_keep,
            disposition: l.disposition,
            during,
        });
    }
    Ok(HandoverSheet {
        may: may_do(&h, &me),
        queue: serde_json::from_str(&h.queue_duties).unwrap_or_default(),
        id: h.id,
        number: h.number,
        post_id: h.post_id,
        post_name: h.post_name,
        absent_id: h.absent_id,
        absent_name: h.absent_name,
        taker_id: h.taker_id,
        taker_name: h.taker_name,
        absence_id: h.absence_id,
        kind: h.kind,
        reason: h.reason,
        status: h.status,
        queue_note: h.queue_note,
        materials_note: h.materials_note,
        absent_note: h.absent_note,
        prepared_by: h.prepared_by,
        prepared_at: h.prepared_at,
        started_by: h.started_by,
        started_at: h.started_at,
        report_note: h.report_note,
        reported_at: h.reported_at,
        returned_at: h.returned_at,
        cases,
    })
}

fn post_of(tx: &Tx<'_>, post_id: &str) -> Result<PostView> {
    list_posts(tx)?
        .into_iter()
        .find(|p| p.id == post_id)
        .ok_or_else(|| CoreError::not_found("岗位", post_id))
}

fn ensure_no_open(tx: &Tx<'_>, post: &PostView) -> Result<()> {
    if let Some(open) = store::open_of_post(tx, &post.id)? {
        return Err(CoreError::new(
            ErrorCode::HandoverOpen,
            format!(
                "岗位“{}”已有未结束的交接单 {}（{}）",
                post.name,
                open.number,
                open.status.label()
            ),
        )
        .param("number", open.number)
        .param("status", open.status.as_str()));
    }
    Ok(())
}

fn next_number(tx: &Tx<'_>, now: Timestamp) -> Result<String> {
    let hall = crate::hall::load_hall(tx)?;
    let year = hall_date(now).year();
    let seq = crate::kernel::numbers::next(tx, "handover", &year.to_string())?;
    Ok(format!("{}-JJ-{year}-{seq:04}", hall.code))
}

/// A's note on one case of the sheet.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct CaseNote {
    pub case_id: String,
    pub note: String,
    /// Where the paper materials are.
    #[serde(default)]
    pub materials_at: String,
}

fn check_notes(notes: &[CaseNote], on_sheet: &[String]) -> Result<Vec<(String, String, String)>> {
    notes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let id = validate::id(&format!("cases[{i}].case_id"), "办件", &n.case_id)?;
            if !on_sheet.contains(&id) {
                return Err(CoreError::new(
                    ErrorCode::InvalidFormat,
                    "该办件不在交接单上（只能交接本岗位在办的办件）",
                )
                .field(format!("cases[{i}].case_id")));
            }
            Ok((
                id,
                validate::optional_text(&format!("cases[{i}].note"), "交接说明", &n.note, 200)?,
                validate::optional_text(
                    &format!("cases[{i}].materials_at"),
                    "纸质材料存放位置",
                    &n.materials_at,
                    60,
                )?,
            ))
        })
        .collect()
}

/// Create the sheet with every open case of A, notes where given.
#[allow(clippy::too_many_arguments)]
fn create(
    cx: &mut Cx<'_>,
    post: &PostView,
    absent_id: &str,
    taker_id: &str,
    absence_id: Option<&str>,
    kind: HandoverKind,
    reason: &str,
    notes: &[CaseNote],
    queue_note: &str,
    materials_note: &str,
) -> Result<String> {
    ensure_no_open(cx.tx, post)?;
    let open = store::open_cases_of(cx.tx, absent_id)?;
    let notes = check_notes(notes, &open)?;
    let duties = queue_duties(cx.tx, post.window_id.as_deref(), cx.now)?;
    let number = next_number(cx.tx, cx.now)?;
    let status = match kind {
        HandoverKind::Planned => HandoverStatus::Prepared,
        HandoverKind::Emergency => HandoverStatus::Active,
    };
    let by = cx.actor.display_name();
    let id = store::insert(
        cx.tx,
        &store::NewHandover {
            number: &number,
            post_id: &post.id,
            absent_id,
            taker_id,
            absence_id,
            kind,
            reason,
            status,
            queue_duties: &serde_json::to_string(&duties)?,
            queue_note,
            materials_note,
            by: &by,
            now: cx.now,
        },
    )?;
    for (i, case_id) in open.iter().enumerate() {
        let (note, at) = notes
            .iter()
            .find(|n| &n.0 == case_id)
            .map(|n| (n.1.as_str(), n.2.as_str()))
            .unwrap_or(("", ""));
        store::add_line(cx.tx, &id, i + 1, case_id, note, at)?;
    }
    crate::cases::delegation::offer(cx.tx, &id, absent_id, taker_id, &open, cx.now)?;
    if status == HandoverStatus::Active {
        takeover_began(
            cx,
            &id,
            (&post.id, post.window_id.as_deref()),
            absent_id,
            taker_id,
            absence_id,
        )?;
    }
    Ok(id)
}

/// A prepares the handover sheet of their post before a planned absence (a supervisor may
/// prepare it for A). B is asked to acknowledge it.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct PrepareHandover {
    /// The post; when absent, the one the caller holds as A.
    #[serde(default)]
    pub post_id: Option<String>,
    /// The absence this handover is for, if it was requested in the app.
    #[serde(default)]
    pub absence_id: Option<String>,
    pub reason: String,
    #[serde(default)]
    pub cases: Vec<CaseNote>,
    /// Queue duties: what B should know about the window (挂起的号、预约、专项业务).
    #[serde(default)]
    pub queue_note: String,
    /// Where the post's paper materials are in general.
    #[serde(default)]
    pub materials_note: String,
}

impl Operation for PrepareHandover {
    const NAME: &'static str = "handover.prepare";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = HandoverSheet;
    fn run(self, cx: &mut Cx<'_>) -> Result<HandoverSheet> {
        let me = cx.actor.staff()?.clone();
        let post = match self.post_id.as_deref().filter(|s| !s.is_empty()) {
            Some(p) => post_of(cx.tx, &validate::id("post_id", "岗位", p)?)?,
            // The post the caller holds as A; one with a window first.
            None => list_posts(cx.tx)?
                .into_iter()
                .filter(|p| p.primary_id.as_deref() == Some(me.staff_id.as_str()))
                .min_by_key(|p| p.window_id.is_none())
                .ok_or_else(|| {
                    CoreError::new(ErrorCode::Required, "您不是任何岗位的 A 岗，请选择岗位")
                        .field("post_id")
                })?,
        };
        let (Some(a), Some(b)) = (post.primary_id.clone(), post.backup_id.clone()) else {
            return Err(CoreError::new(
                ErrorCode::InvalidFormat,
                format!("岗位“{}”尚未设置 A、B 岗", post.name),
            )
            .field("post_id"));
        };
        if a != me.staff_id && !is_supervisor(&me) {
            return Err(
                CoreError::forbidden("只有本岗位的 A 岗或分管领导可以填写交接单")
                    .param("op", Self::NAME),
            );
        }
        let reason = validate::text("reason", "离岗事由", &self.reason, 100)?;
        let absence = match self.absence_id.as_deref().filter(|s| !s.is_empty()) {
            Some(x) => {
                let ab = crate::posts::absence(cx.tx, &validate::id("absence_id", "离岗申请", x)?)?;
                if ab.staff_id != a || !matches!(ab.status.as_str(), "requested" | "approved") {
                    return Err(CoreError::new(
                        ErrorCode::InvalidFormat,
                        "该离岗申请不属于本岗位 A 岗，或已被驳回、撤销",
                    )
                    .field("absence_id"));
                }
                Some(ab.id)
            }
            None => None,
        };
        let queue_note = validate::optional_text("queue_note", "叫号事项", &self.queue_note, 300)?;
        let materials_note =
            validate::optional_text("materials_note", "材料存放", &self.materials_note, 200)?;
        let id = create(
            cx,
            &post,
            &a,
            &b,
            absence.as_deref(),
            HandoverKind::Planned,
            &reason,
            &self.cases,
            &queue_note,
            &materials_note,
        )?;
        let s = sheet(cx, &id)?;
        crate::staff::inbox::notify(
            cx.tx,
            &b,
            "takeover_requested",
            None,
            Some(&id),
            &format!(
                "{} 请您顶岗“{}”：交接单 {}，共 {} 件在办，请确认接手",
                s.absent_name,
                s.post_name,
                s.number,
                s.cases.len()
            ),
            cx.now,
        )?;
        cx.record(
            Topic::Staff,
            AuditDraft::new(
                "handover",
                Some(&id),
                format!(
                    "填写交接单 {}：{} → {}，{} 件在办（{reason}）",
                    s.number,
                    s.absent_name,
                    s.taker_name,
                    s.cases.len()
                ),
            ),
        )?;
        Ok(s)
    }
}

/// Emergency takeover (主动顶岗): A left without a handover. B starts it for themselves, or a
/// supervisor assigns it (to the post's B unless another taker is named). Active at once.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct StartEmergencyTakeover {
    pub post_id: String,
    /// Who takes over; the caller (B) when absent, the post's B when a supervisor leaves it out.
    #[serde(default)]
    pub taker_id: Option<String>,
    pub reason: String,
}

impl Operation for StartEmergencyTakeover {
    const NAME: &'static str = "handover.emergency";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = HandoverSheet;
    fn run(self, cx: &mut Cx<'_>) -> Result<HandoverSheet> {
        let me = cx.actor.staff()?.clone();
        let post = post_of(cx.tx, &validate::id("post_id", "岗位", &self.post_id)?)?;
        let (Some(a), Some(b)) = (post.primary_id.clone(), post.backup_id.clone()) else {
            return Err(CoreError::new(
                ErrorCode::InvalidFormat,
                format!("岗位“{}”尚未设置 A、B 岗", post.name),
            )
            .field("post_id"));
        };
        let reason = validate::text("reason", "顶岗原因", &self.reason, 100)?;
        let named = match self.taker_id.as_deref().filter(|s| !s.is_empty()) {
            Some(t) => Some(validate::id("taker_id", "顶岗人员", t)?),
            None => None,
        };
        let taker = if is_supervisor(&me) {
            named.unwrap_or(b.clone())
        } else {
            // A clerk starts a takeover only for themselves, as the post's B or as the third
            // person a supervisor named for it now.
            let third: bool = cx.tx.query_row(
                "SELECT count(*) > 0 FROM post_covers WHERE post_id = ?1 AND staff_id = ?2
                   AND starts_at <= ?3 AND ends_at > ?3",
                params![post.id, me.staff_id, cx.ms()],
                |r| r.get(0),
            )?;
            if (me.staff_id != b && !third) || named.as_deref().is_some_and(|n| n != me.staff_id) {
                return Err(CoreError::forbidden(
                    "只有本岗位的 B 岗（或分管领导指定的第三人）可以主动顶岗",
                )
                .param("op", Self::NAME));
            }
            me.staff_id.clone()
        };
        if taker == a {
            return Err(
                CoreError::new(ErrorCode::InvalidFormat, "顶岗人员不能是离岗的 A 岗本人")
                    .field("taker_id"),
            );
        }
        let taker_name = staff_name(cx.tx, &taker)?;
        let id = create(
            cx,
            &post,
            &a,
            &taker,
            None,
            HandoverKind::Emergency,
            &reason,
            &[],
            "",
            "",
        )?;
        let s = sheet(cx, &id)?;
        if taker != me.staff_id {
            crate::staff::inbox::notify(
                cx.tx,
                &taker,
                "takeover_started",
                None,
                Some(&id),
                &format!(
                    "{} 指定您紧急顶岗“{}”（{reason}），{} 件在办已转入您的办件列表",
                    me.name,
                    s.post_name,
                    s.cases.len()
                ),
                cx.now,
            )?;
        }
        crate::staff::inbox::notify(
            cx.tx,
            &a,
            "takeover_started",
            None,
            Some(&id),
            &format!(
                "您的岗位“{}”已由 {taker_name} 紧急顶岗（{reason}），可在交接单 {} 上补充说明",
                s.post_name, s.number
            ),
            cx.now,
        )?;
        cx.record(
            Topic::Staff,
            AuditDraft::new(
                "handover",
                Some(&id),
                format!(
                    "紧急顶岗 {}：{taker_name} 接手 {} 的岗位“{}”，{} 件在办（{reason}）",
                    s.number,
                    s.absent_name,
                    s.post_name,
                    s.cases.len()
                ),
            ),
        )?;
        Ok(s)
    }
}

fn load_for(cx: &Cx<'_>, id: &str, action: &str, label: &str) -> Result<(StaffActor, HandoverRow)> {
    let me = cx.actor.staff()?.clone();
    let id = validate::id("id", "交接单", id)?;
    // Decided on the handover's state, then written: no other writer may change it meanwhile.
    cx.tx.lock_row("handovers", &id)?;
    let h = store::get(cx.tx, &id)?;
    if !may_do(&h, &me).iter().any(|m| m == action) {
        let who = me.staff_id == h.absent_id || me.staff_id == h.taker_id || is_supervisor(&me);
        return Err(if who {
            CoreError::new(
                ErrorCode::InvalidTransition,
                format!(
                    "交接单 {} 当前为“{}”，不能{label}",
                    h.number,
                    h.status.label()
                ),
            )
            .param("from", h.status.as_str())
            .param("event", action)
        } else {
            CoreError::forbidden(format!("您不是交接单 {} 的当事人", h.number))
                .param("op", format!("handover.{action}"))
        });
    }
    Ok((me, h))
}

/// B acknowledges the sheet: the takeover starts now.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct AcknowledgeHandover {
    pub id: String,
}

impl Operation for AcknowledgeHandover {
    const NAME: &'static str = "handover.acknowledge";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = HandoverSheet;
    fn run(self, cx: &mut Cx<'_>) -> Result<HandoverSheet> {
        let (me, h) = load_for(cx, &self.id, "acknowledge", "确认接手")?;
        cx.tx.execute(
            "UPDATE handovers SET status = 'active', started_by = ?2, started_at = ?3 WHERE id = ?1",
            params![h.id, me.name, cx.ms()],
        )?;
        let window = post_of(cx.tx, &h.post_id)?.window_id;
        takeover_began(
            cx,
            &h.id,
            (&h.post_id, window.as_deref()),
            &h.absent_id,
            &h.taker_id,
            h.absence_id.as_deref(),
        )?;
        crate::staff::inbox::notify(
            cx.tx,
            &h.absent_id,
            "takeover_started",
            None,
            Some(&h.id),
            &format!(
                "{} 已确认接手岗位“{}”（交接单 {}）",
                me.name, h.post_name, h.number
            ),
            cx.now,
        )?;
        cx.record(
            Topic::Staff,
            AuditDraft::new(
                "handover",
                Some(&h.id),
                format!(
                    "确认接手 {}：{} 代 {} 办理",
                    h.number, me.name, h.absent_name
                ),
            ),
        )?;
        sheet(cx, &h.id)
    }
}

/// A adds notes to the sheet (before the takeover, or later, after an emergency one).
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct AnnotateHandover {
    pub id: String,
    #[serde(default)]
    pub cases: Vec<CaseNote>,
    /// A general note (replaces the previous one).
    #[serde(default)]
    pub note: Option<String>,
}

impl Operation for AnnotateHandover {
    const NAME: &'static str = "handover.annotate";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = HandoverSheet;
    fn run(self, cx: &mut Cx<'_>) -> Result<HandoverSheet> {
        let (_, h) = load_for(cx, &self.id, "annotate", "补充说明")?;
        let on_sheet: Vec<String> = store::lines(cx.tx, &h.id)?
            .into_iter()
            .map(|l| l.case_id)
            .collect();
        let notes = check_notes(&self.cases, &on_sheet)?;
        for (case_id, note, at) in &notes {
            cx.tx.execute(
                "UPDATE handover_cases SET note = ?3, materials_at = ?4 WHERE handover_id = ?1 AND case_id = ?2",
                params![h.id, case_id, note, at],
            )?;
        }
        if let Some(n) = &self.note {
            let n = validate::optional_text("note", "补充说明", n, 300)?;
            cx.tx.execute(
                "UPDATE handovers SET absent_note = ?2 WHERE id = ?1",
                params![h.id, n],
            )?;
        }
        cx.record(
            Topic::Staff,
            AuditDraft::new(
                "handover",
                Some(&h.id),
                format!("补充交接说明 {}：{} 件", h.number, notes.len()),
            ),
        )?;
        sheet(cx, &h.id)
    }
}

/// B's note on one case of the hand-back report.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct BackNote {
    pub case_id: String,
    #[serde(default)]
    pub note: String,
    /// B proposes to keep the case (A decides).
    #[serde(default)]
    pub propose_keep: bool,
}

/// B reports back (A has returned): the takeover ends and B can no longer act on A's cases.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ReportHandback {
    pub id: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub cases: Vec<BackNote>,
}

impl Operation for ReportHandback {
    const NAME: &'static str = "handover.report";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = HandoverSheet;
    fn run(self, cx: &mut Cx<'_>) -> Result<HandoverSheet> {
        let (me, h) = load_for(cx, &self.id, "report", "交回")?;
        let on_sheet: Vec<String> = store::lines(cx.tx, &h.id)?
            .into_iter()
            .map(|l| l.case_id)
            .collect();
        for (i, n) in self.cases.iter().enumerate() {
            let case_id = validate::id(&format!("cases[{i}].case_id"), "办件", &n.case_id)?;
            if !on_sheet.contains(&case_id) {
                return Err(
                    CoreError::new(ErrorCode::InvalidFormat, "该办件不在交接单上")
                        .field(format!("cases[{i}].case_id")),
                );
            }
            let note =
                validate::optional_text(&format!("cases[{i}].note"), "交回说明", &n.note, 200)?;
            cx.tx.execute(
                "UPDATE handover_cases SET back_note = ?3, propose_keep = ?4 WHERE handover_id = ?1 AND case_id = ?2",
                params![h.id, case_id, note, n.propose_keep],
            )?;
        }
        let note = validate::optional_text("note", "交回说明", &self.note, 500)?;
        cx.tx.execute(
            "UPDATE handovers SET status = 'reported', report_note = ?2, reported_at = ?3 WHERE id = ?1",
            params![h.id, note, cx.ms()],
        )?;
        takeover_ended(cx, &h.id)?;
        crate::staff::inbox::notify(
            cx.tx,
            &h.absent_id,
            "handback_reported",
            None,
            Some(&h.id),
            &format!("{} 已提交交回报告 {}，请查看并确认", me.name, h.number),
            cx.now,
        )?;
        cx.record(
            Topic::Staff,
            AuditDraft::new(
                "handover",
                Some(&h.id),
                format!(
                    "提交交回报告 {}：{} 交回 {} 的岗位",
                    h.number, me.name, h.absent_name
                ),
            ),
        )?;
        sheet(cx, &h.id)
    }
}

/// A acknowledges the hand-back; each case goes back to A unless listed in `keep`, which stay
/// with B (the case's owner changes, as a `reassigned` event).
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct AcceptHandback {
    pub id: String,
    #[serde(default)]
    pub keep: Vec<String>,
}

impl Operation for AcceptHandback {
    const NAME: &'static str = "handover.accept_return";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = HandoverSheet;
    fn run(self, cx: &mut Cx<'_>) -> Result<HandoverSheet> {
        let (me, h) = load_for(cx, &self.id, "accept_return", "确认交回")?;
        let lines = store::lines(cx.tx, &h.id)?;
        let thresholds = crate::deadlines::load_settings(cx.tx)?.thresholds;
        let mut kept = vec![];
        for (i, k) in self.keep.iter().enumerate() {
            let id = validate::id(&format!("keep[{i}]"), "办件", k)?;
            if !lines.iter().any(|l| l.case_id == id) {
                return Err(
                    CoreError::new(ErrorCode::InvalidFormat, "该办件不在交接单上")
                        .field(format!("keep[{i}]")),
                );
            }
            let row = crate::cases::store::get(cx.tx, &id, thresholds)?;
            if !row.status.is_open() && row.status != crate::cases::CaseStatus::Decided {
                return Err(CoreError::new(
                    ErrorCode::InvalidFormat,
                    format!("办件 {} 已办结，无需移交", row.number),
                )
                .field(format!("keep[{i}]")));
            }
            kept.push(row);
        }
        for l in &lines {
            let keep = kept.iter().any(|r| r.id == l.case_id);
            cx.tx.execute(
                "UPDATE handover_cases SET disposition = ?3 WHERE handover_id = ?1 AND case_id = ?2",
                params![h.id, l.case_id, if keep { "kept" } else { "returned" }],
            )?;
        }
        for row in &kept {
            crate::cases::reassign(
                cx,
                &row.id,
                (&h.taker_id, &h.taker_name),
                &format!("交接单 {} 交回时留由 B 岗继续办理", h.number),
                (&me.staff_id, &me.name),
            )?;
        }
        cx.tx.execute(
            "UPDATE handovers SET status = 'returned', returned_at = ?2 WHERE id = ?1",
            params![h.id, cx.ms()],
        )?;
        if !kept.is_empty() {
            crate::staff::inbox::notify(
                cx.tx,
                &h.taker_id,
                "cases_kept",
                None,
                Some(&h.id),
                &format!(
                    "{} 确认交回 {}：{} 件留由您继续办理（{}）",
                    me.name,
                    h.number,
                    kept.len(),
                    kept.iter()
                        .map(|r| r.number.as_str())
                        .collect::<Vec<_>>()
                        .join("、")
                ),
                cx.now,
            )?;
        }
        cx.record(
            Topic::Case,
            AuditDraft::new(
                "handover",
                Some(&h.id),
                format!(
                    "确认交回 {}：交回 {} 件，留由 {} 办理 {} 件",
                    h.number,
                    lines.len() - kept.len(),
                    h.taker_name,
                    kept.len()
                ),
            ),
        )?;
        sheet(cx, &h.id)
    }
}

/// Withdraw a sheet B has not acknowledged yet.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct CancelHandover {
    pub id: String,
}

impl Operation for CancelHandover {
    const NAME: &'static str = "handover.cancel";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = HandoverSheet;
    fn run(self, cx: &mut Cx<'_>) -> Result<HandoverSheet> {
        let (_, h) = load_for(cx, &self.id, "cancel", "撤回")?;
        cx.tx.execute(
            "UPDATE handovers SET status = 'cancelled' WHERE id = ?1",
            [&h.id],
        )?;
        crate::cases::delegation::withdraw(cx.tx, &h.id, cx.now)?;
        cx.record(
            Topic::Staff,
            AuditDraft::new("handover", Some(&h.id), format!("撤回交接单 {}", h.number)),
        )?;
        sheet(cx, &h.id)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct GetHandover {
    pub id: String,
}

impl Operation for GetHandover {
    const NAME: &'static str = "handover.get";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = false;
    type Response = HandoverSheet;
    fn run(self, cx: &mut Cx<'_>) -> Result<HandoverSheet> {
        sheet(cx, &validate::id("id", "交接单", &self.id)?)
    }
}

/// A handover as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct HandoverRef {
    pub id: String,
    pub number: String,
    pub post_id: String,
    pub post_name: String,
    pub absent_id: String,
    pub absent_name: String,
    pub taker_id: String,
    pub taker_name: String,
    pub kind: HandoverKind,
    pub status: HandoverStatus,
    pub reason: String,
    pub prepared_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub reported_at: Option<Timestamp>,
    pub returned_at: Option<Timestamp>,
    pub cases: u32,
}

/// The caller's handovers (as A or B); every handover for supervisors. Newest first.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ListHandovers {
    /// Only those not yet returned or cancelled.
    #[serde(default)]
    pub open_only: bool,
}

impl Operation for ListHandovers {
    const NAME: &'static str = "handover.list";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = false;
    type Response = Vec<HandoverRef>;
    fn run(self, cx: &mut Cx<'_>) -> Result<Vec<HandoverRef>> {
        let me = cx.actor.staff()?.clone();
        let open = if self.open_only {
            " AND h.status IN ('prepared', 'active', 'reported')"
        } else {
            ""
        };
        let rows = store::select(
            cx.tx,
            &format!("(?1 OR h.absent_id = ?2 OR h.taker_id = ?2){open}"),
            &[&is_supervisor(&me), &me.staff_id],
        )?;
        rows.into_iter()
            .map(|h| {
                let cases: u32 = cx.tx.query_row(
                    "SELECT count(*) FROM handover_cases WHERE handover_id = ?1",
                    [&h.id],
                    |r| r.get(0),
                )?;
                Ok(HandoverRef {
                    id: h.id,
                    number: h.number,
                    post_id: h.post_id,
                    post_name: h.post_name,
                    absent_id: h.absent_id,
                    absent_name: h.absent_name,
                    taker_id: h.taker_id,
                    taker_name: h.taker_name,
                    kind: h.kind,
                    status: h.status,
                    reason: h.reason,
                    prepared_at: h.prepared_at,
                    started_at: h.started_at,
                    reported_at: h.reported_at,
                    returned_at: h.returned_at,
                    cases,
                })
            })
            .collect()
    }
}

/// The sheet (or, once reported, the hand-back report) as a PDF beside the database, with a
/// preview; printed like any notice.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct HandoverFile {
    pub id: String,
}

impl Operation for HandoverFile {
    const NAME: &'static str = "handover.file";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = false;
    type Response = crate::notices::ServiceCardFile;
    fn run(self, cx: &mut Cx<'_>) -> Result<crate::notices::ServiceCardFile> {
        let s = sheet(cx, &validate::id("id", "交接单", &self.id)?)?;
        sheet_file(cx, &s)
    }
}

/// One clerk's AB-post figures over a period (annual assessment).
#[derive(
    Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema,
)]
pub struct TakeoverFigures {
    pub staff_id: String,
    pub name: String,
    /// Takeovers this clerk did (as B), started in the period.
    pub took_over: u32,
    /// Of those, emergencies.
    pub emergencies: u32,
    /// Times this clerk's post was taken over (as A).
    pub handed_over: u32,
    /// Distinct cases this clerk acted on for someone else.
    pub cases_on_behalf: u32,
    /// Actions taken on behalf (case events).
    pub actions_on_behalf: u32,
    /// Cases on this clerk's takeovers that ran past their promised deadline during the
    /// takeover (decided late, or still open and overdue when it ended).
    pub late_during: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct GetHandoverFigures {
    /// First day (YYYY-MM-DD), inclusive.
    pub from: String,
    /// Last day, inclusive.
    pub to: String,
}

impl Operation for GetHandoverFigures {
    const NAME: &'static str = "handover.figures";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = false;
    type Response = Vec<TakeoverFigures>;
    fn run(self, cx: &mut Cx<'_>) -> Result<Vec<TakeoverFigures>> {
        let from = crate::calendar::parse_date("from", &self.from)?;
        let to = crate::calendar::parse_date("to", &self.to)?;
        if to < from {
            return Err(
                CoreError::new(ErrorCode::OutOfRange, "结束日期不能早于开始日期").field("to"),
            );
        }
        let start = to_ms(crate::kernel::clock::day_start(from)?);
        let end = to_ms(crate::kernel::clock::day_start(
            to.tomorrow()
                .map_err(|e| CoreError::internal(e.to_string()))?,
        )?);
        let mut by: std::collections::BTreeMap<String, TakeoverFigures> = Default::default();
        fn fig<'m>(
            by: &'m mut std::collections::BTreeMap<String, TakeoverFigures>,
            id: &str,
            name: &str,
        ) -> &'m mut TakeoverFigures {
            by.entry(id.to_owned()).or_insert_with(|| TakeoverFigures {
                staff_id: id.to_owned(),
                name: name.to_owned(),
                ..Default::default()
            })
        }
        let settings = crate::deadlines::load_settings(cx.tx)?;
        let day = crate::deadlines::business_day(cx.tx, &settings)?;
        let cal = cx.calendar()?;
        let handovers = store::select(
            cx.tx,
            "h.started_at >= ?1 AND h.started_at < ?2",
            &[&start, &end],
        )?;
        for h in &handovers {
            // Late during the takeover: each carried case, replayed up to the moment it ended.
            let until = h.reported_at.unwrap_or(cx.now);
            let mut late = 0;
            for l in store::lines(cx.tx, &h.id)? {
                let row = crate::cases::store::get(cx.tx, &l.case_id, settings.thresholds)?;
                let log: Vec<LoggedEvent> = crate::cases::store::events(cx.tx, &l.case_id)?
                    .into_iter()
                    .filter(|e| e.at <= until)
                    .collect();
                let d = crate::deadlines::compute(&log, &cal, &row.rules, &day, until)?;
                if d.timing == Some(Timing::Late) || (!d.stopped && d.promised.overdue) {
                    late += 1;
                }
            }
            let b = fig(&mut by, &h.taker_id, &h.taker_name);
            b.took_over += 1;
            b.emergencies += u32::from(h.kind == HandoverKind::Emergency);
            b.late_during += late;
            fig(&mut by, &h.absent_id, &h.absent_name).handed_over += 1;
        }
        let mut stmt = cx.tx.prepare(
            "SELECT e.actor_id, s.name, count(DISTINCT e.case_id), count(*) FROM case_events e
             JOIN staff s ON s.id = e.actor_id
             WHERE e.on_behalf_id IS NOT NULL AND e.at >= ?1 AND e.at < ?2 GROUP BY e.actor_id, s.name",
        )?;
        let rows = stmt
            .query_map(params![start, end], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get(2)?,
                    r.get(3)?,
                ))
            })?
            .collect::<crate::kernel::store::StoreResult<Vec<(String, String, u32, u32)>>>()?;
        for (id, name, cases, actions) in rows {
            let f = fig(&mut by, &id, &name);
            f.cases_on_behalf = cases;
            f.actions_on_behalf = actions;
        }
        let mut out: Vec<TakeoverFigures> = by.into_values().collect();
        out.sort_by(|x, y| {
            (y.took_over, y.handed_over, &x.name).cmp(&(x.took_over, x.handed_over, &y.name))
        });
        Ok(out)
    }
}

/// The handover sheet (and, once reported, the hand-back report) as a PDF:
/// `handovers/<number>-<status>.pdf` beside the database, one file per stage, with a preview.
pub(crate) fn sheet_file(
    cx: &Cx<'_>,
    s: &HandoverSheet,
) -> Result<crate::notices::ServiceCardFile> {
    let hall = crate::hall::load_hall(cx.tx)?;
    let when = |t: Option<Timestamp>, who: Option<&str>| match t {
        Some(t) => format!(
            "{} {}",
            who.unwrap_or(""),
            t.to_zoned(crate::kernel::clock::hall_tz())
                .strftime("%Y年%-m月%-d日 %H:%M")
        ),
        None => "—".into(),
    };
    let status = s.status.label();
    let cases: Vec<serde_json::Value> = s
        .cases
        .iter()
        .map(|c| {
            let d = &c.case.deadlines;
            let left = if c.case.status.is_open() {
                if d.promised.overdue {
                    "已超期".to_owned()
                } else {
                    format!("剩 {} 个工作日", d.promised.working_days_left)
                }
            } else {
                String::new()
            };
            serde_json::json!({
                "number": c.case.number, "item": c.case.item_name,
                "applicant": validate::mask_name(&c.case.applicant_name),
                "due": crate::notices::cn_date(d.promised.due_date), "left": left,
                "state": c.case.status.label(), "level": d.level.label(),
                "note": c.note, "materials_at": c.materials_at, "back_note": c.back_note,
                "disposition": match c.disposition.as_deref() {
                    Some("kept") => "留 B 岗办理", Some("returned") => "交回 A 岗", _ => "" },
                "during": c.during.iter().map(|e| format!(
                    "{} {} {}",
                    e.at.to_zoned(crate::kernel::clock::hall_tz()).strftime("%m-%d %H:%M"),
                    crate::deadlines::events::event_label(&e.event),
                    e.actor_name)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let data = serde_json::json!({
        "hall": {"name": hall.name, "code": hall.code, "address": hall.address, "phone": hall.phone},
        "number": s.number,
        "kind": match s.kind { HandoverKind::Planned => "计划离岗", HandoverKind::Emergency => "紧急顶岗" },
        "status": status, "post": s.post_name, "reason": s.reason,
        "absent": s.absent_name, "taker": s.taker_name,
        "prepared": when(Some(s.prepared_at), Some(&s.prepared_by)),
        "started": when(s.started_at, s.started_by.as_deref()),
        "queue": {
            "window": s.queue.window_number.map(|n| format!("{n}号窗口：")).unwrap_or_default(),
            "categories": s.queue.categories.join("、"),
            "held": if s.queue.held_tickets.is_empty() { "无".to_owned() } else { s.queue.held_tickets.join("、") },
        },
        "queue_note": s.queue_note, "materials_note": s.materials_note, "absent_note": s.absent_note,
        "cases": cases,
        "report": s.reported_at.map(|t| serde_json::json!({
            "at": when(Some(t), None).trim().to_owned(),
            "note": s.report_note.clone().unwrap_or_default(),
        })),
    });
    let path =
        cx.data_dir()
            .join("handovers")
            .join(format!("{}-{}.pdf", s.number, s.status.as_str()));
    crate::notices::render_file(
        cx,
        onetrip_notice::NoticeKind::HandoverSheet,
        &data,
        &s.number,
        &path,
    )
}
