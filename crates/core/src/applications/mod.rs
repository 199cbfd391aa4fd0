//! Applications at the window (收件 → 一次性告知 → 受理): the applicant's materials checked against
//! the item's list, and one of three outcomes, each with its printed notice.
//!
//! Rules (行政许可法 art. 32; see `shared/glossary.md`):
//! - Each material is received, missing, or — for a conditional one whose condition does not
//!   hold — not applicable; a required material is never "not applicable". Optional materials
//!   never block acceptance.
//! - **Complete** → accepted: a case is created (its clock starts that day) and the 受理通知书 is
//!   issued. **Incomplete** → the 补正材料通知书 (一次性告知单) lists, once and in writing, what is
//!   complete, what is missing with the standard it must meet, what must be checked first (why,
//!   when and how the applicant will be told), the time allowed and the clerk; the application
//!   waits as "awaiting supplement". **Not ours / not needed** → the 不予受理通知书 with the reason,
//!   the competent agency where there is one, and the right to review or litigation.
//! - **Five-day clock (art. 32(4)).** From receipt, in working days. If no notice has been issued
//!   by the end of the fifth working day, the application counts as accepted from the day of
//!   receipt: the sweep creates the case with [`AcceptBasis::Deemed`] and records it.
//! - **Supplement.** When the applicant returns, only the missing materials are checked again;
//!   acceptance then starts the case clock on that day. Every visit is counted.

pub mod preview;

use crate::calendar::CalendarOf;
use crate::kernel::store::Optional;
use crate::kernel::store::Tx;
use jiff::Timestamp;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::cases::{AcceptBasis, Acceptor};
use crate::catalog::{Requirement, enum_str};
use crate::kernel::audit::AuditDraft;
use crate::kernel::clock::{from_ms, hall_date, to_ms};
use crate::kernel::error::{CoreError, ErrorCode, Result};
use crate::kernel::event::Topic;
use crate::kernel::ids::new_id;
use crate::kernel::op::{Access, Actor, Cx, Operation};
use crate::kernel::validate;
use crate::notices::{self, DocumentRef, cn_date, cn_date_of};
use onetrip_notice::NoticeKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MaterialState {
    Pending,
    Received,
    Missing,
    NotApplicable,
}

impl MaterialState {
    fn as_str(self) -> &'static str {
        match self {
            MaterialState::Pending => "pending",
            MaterialState::Received => "received",
            MaterialState::Missing => "missing",
            MaterialState::NotApplicable => "not_applicable",
        }
    }
    /// As the audit log and the notices say it.
    pub fn label(self) -> &'static str {
        match self {
            MaterialState::Pending => "未核对",
            MaterialState::Received => "已收",
            MaterialState::Missing => "缺",
            MaterialState::NotApplicable => "不适用",
        }
    }
    fn parse(s: &str) -> Self {
        match s {
            "received" => MaterialState::Received,
            "missing" => MaterialState::Missing,
            "not_applicable" => MaterialState::NotApplicable,
            _ => MaterialState::Pending,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct AppMaterial {
    pub position: u32,
    pub name: String,
    /// 原件 / 复印件 / 原件及复印件
    pub form: String,
    pub copies: u32,
    pub requirement: Requirement,
    pub condition: String,
    pub standard: String,
    pub state: MaterialState,
    pub note: String,
}

/// May `m` be marked `to`? `supplementing`: after a notice, only what was missing is checked
/// again.
pub fn check_mark(m: &AppMaterial, to: MaterialState, supplementing: bool) -> Result<()> {
    if to == MaterialState::NotApplicable && m.requirement == Requirement::Required {
        return Err(CoreError::new(
            ErrorCode::InvalidMaterialState,
            format!("“{}”为必交材料，不能标为“不适用”", m.name),
        )
        .field("state"));
    }
    if supplementing && m.state == MaterialState::Received {
        return Err(CoreError::new(
            ErrorCode::InvalidMaterialState,
            format!("“{}”已收取，补正时只核对缺少的材料", m.name),
        )
        .field("position"));
    }
    Ok(())
}

/// Where the check stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completeness {
    /// Required or conditional materials not looked at yet (their positions).
    Unchecked(Vec<u32>),
    /// Missing materials (their positions).
    Incomplete(Vec<u32>),
    Complete,
}

pub fn completeness(materials: &[AppMaterial]) -> Completeness {
    let blocking = |m: &&AppMaterial| m.requirement != Requirement::Optional;
    let pending: Vec<u32> = materials
        .iter()
        .filter(blocking)
        .filter(|m| m.state == MaterialState::Pending)
        .map(|m| m.position)
        .collect();
    if !pending.is_empty() {
        return Completeness::Unchecked(pending);
    }
    let missing: Vec<u32> = materials
        .iter()
        .filter(blocking)
        .filter(|m| m.state == MaterialState::Missing)
        .map(|m| m.position)
        .collect();
    if missing.is_empty() {
        Completeness::Complete
    } else {
        Completeness::Incomplete(missing)
    }
}

/// The materials a notice lists as received, and as missing (with their standards).
pub fn notice_lists(materials: &[AppMaterial]) -> (Vec<&AppMaterial>, Vec<&AppMaterial>) {
    let received = materials
        .iter()
        .filter(|m| m.state == MaterialState::Received)
        .collect();
    let missing = materials
        .iter()
        .filter(|m| m.requirement != Requirement::Optional && m.state == MaterialState::Missing)
        .collect();
    (received, missing)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    Checking,
    AwaitingSupplement,
    Accepted,
    Rejected,
}

/// Something that must be checked before it can be said (一次性告知单 section 三).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct PendingCheck {
    pub what: String,
    pub why: String,
    /// When the applicant will be told (a date in words or ISO).
    pub when: String,
    /// How: 电话 / 短信 / 书面.
    pub how: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct Application {
    pub id: String,
    pub number: String,
    pub item_id: String,
    pub item_code: String,
    pub item_name: String,
    pub applicant_name: String,
    pub applicant_id_masked: String,
    pub status: ApplicationStatus,
    /// `direct`, `after_supplement`, `deemed` or `rejected` once it has ended.
    pub outcome: Option<String>,
    pub received_at: Timestamp,
    /// Last day to issue the one-time notice (art. 32(4)).
    #[ts(type = "string")]
    pub notice_due: jiff::civil::Date,
    /// Working days left to issue the notice while the materials are being checked on the first
    /// visit (0: due today; negative: lapsed); `None` once it no longer applies.
    pub notice_days_left: Option<i32>,
    pub visits: u32,
    pub visits_needed: u32,
    pub materials: Vec<AppMaterial>,
    pub documents: Vec<DocumentRef>,
    pub case_id: Option<String>,
    pub case_number: Option<String>,
}

fn form_label(form: &str) -> &'static str {
    serde_json::from_value::<crate::catalog::MaterialForm>(form.into())
        .map_or("原件及复印件", crate::catalog::MaterialForm::label)
}

fn materials_of(tx: &Tx<'_>, id: &str) -> Result<Vec<AppMaterial>> {
    let mut stmt = tx.prepare_cached(
        "SELECT position, name, form, copies, requirement, condition, standard, state, note
         FROM application_materials WHERE application_id = ?1 ORDER BY position",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok((
            r.get::<_, u32>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, u32>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, String>(6)?,
            r.get::<_, String>(7)?,
            r.get::<_, String>(8)?,
        ))
    })?;
    let mut out = vec![];
    for row in rows {
        let (position, name, form, copies, req, condition, standard, state, note) = row?;
        out.push(AppMaterial {
            position,
            name,
            form,
            copies,
            requirement: serde_json::from_value(serde_json::Value::String(req))?,
            condition,
            standard,
            state: MaterialState::parse(&state),
            note,
        });
    }
    Ok(out)
}

struct Row {
    app: Application,
    applicant_id_number: String,
    applicant_phone: String,
    ticket_id: Option<String>,
    clerk_id: String,
    clerk_name: String,
    window_id: Option<String>,
    window_number: Option<u32>,
}

fn load(tx: &Tx<'_>, id: &str) -> Result<Row> {
    // Every write decides on the application's state: lock it (a no-op in a read, and on
    // SQLite, whose writers are serialised).
    tx.lock_row("applications", id)?;
    let row = tx
        .query_row(
            "SELECT a.id, a.number, a.item_id, i.code, i.name, a.applicant_name, a.applicant_id_number,
                    a.applicant_phone, a.status, a.outcome, a.received_at, a.notice_due, a.visits,
                    i.visits_needed, a.case_id, c.number, a.ticket_id, a.clerk_id, s.name, a.window_id, w.number
             FROM applications a JOIN service_items i ON i.id = a.item_id JOIN staff s ON s.id = a.clerk_id
             LEFT JOIN cases c ON c.id = a.case_id LEFT JOIN windows w ON w.id = a.window_id
             WHERE a.id = ?1",
            [id],
            |r| {
                let status: String = r.get(8)?;
                let due: String = r.get(11)?;
                Ok(Row {
                    app: Application {
                        id: r.get(0)?,
                        number: r.get(1)?,
                        item_id: r.get(2)?,
                        item_code: r.get(3)?,
                        item_name: r.get(4)?,
                        applicant_name: r.get(5)?,
                        applicant_id_masked: validate::mask_id(&r.get::<_, String>(6)?),
                        status: match status.as_str() {
                            "awaiting_supplement" => ApplicationStatus::AwaitingSupplement,
                            "accepted" => ApplicationStatus::Accepted,
                            "rejected" => ApplicationStatus::Rejected,
                            _ => ApplicationStatus::Checking,
                        },
                        outcome: r.get(9)?,
                        received_at: from_ms(r.get(10)?),
                        notice_due: due.parse().unwrap_or_default(),
                        notice_days_left: None,
                        visits: r.get(12)?,
                        visits_needed: r.get(13)?,
                        materials: vec![],
                        documents: vec![],
                        case_id: r.get(14)?,
                        case_number: r.get(15)?,
                    },
                    applicant_id_number: r.get(6)?,
                    applicant_phone: r.get(7)?,
                    ticket_id: r.get(16)?,
                    clerk_id: r.get(17)?,
                    clerk_name: r.get(18)?,
                    window_id: r.get(19)?,
                    window_number: r.get(20)?,
                })
            },
        )
        .optional()?
        .ok_or_else(|| CoreError::not_found("申请", id))?;
    let mut row = row;
    row.app.materials = materials_of(tx, id)?;
    row.app.documents = notices::documents_of(tx, id)?;
    Ok(row)
}

/// Fill in the five-day countdown (the warning before it lapses), on this calendar at `now`.
fn with_countdown(cx: &Cx<'_>, mut app: Application) -> Result<Application> {
    if app.status == ApplicationStatus::Checking && app.visits == 1 {
        let cal = cx.calendar()?;
        let today = hall_date(cx.now);
        app.notice_days_left = Some(if today <= app.notice_due {
            cal.count_workdays(today, app.notice_due)? as i32
        } else {
            -(cal.count_workdays(app.notice_due, today)? as i32)
        });
    }
    Ok(app)
}

fn ensure_status(app: &Application, allowed: &[ApplicationStatus], action: &str) -> Result<()> {
    if allowed.contains(&app.status) {
        return Ok(());
    }
    Err(CoreError::new(
        ErrorCode::InvalidTransition,
        format!("申请 {} 当前状态不能{action}", app.number),
    )
    .param("status", enum_str(app.status))
    .param("action", action))
}

/// The facts every notice about this application prints.
fn base_data(tx: &Tx<'_>, r: &Row) -> Result<serde_json::Value> {
    let item = crate::catalog::get(tx, &r.app.item_id)?;
    let f = &item.fields;
    let window = r
        .window_number
        .map(|n| format!("{n}号窗口"))
        .unwrap_or_default();
    Ok(serde_json::json!({
        "application_number": r.app.number,
        "applicant": {"name": r.app.applicant_name, "id_masked": r.app.applicant_id_masked, "phone": r.applicant_phone},
        "item": {"code": f.code, "name": f.name, "department": f.department, "kind": f.kind,
                  "legal_basis": f.legal_basis, "promised_days": f.promised_days, "statutory_days": f.statutory_days,
                  "fees": f.fees, "phone": f.phone, "location": f.location, "visits_needed": f.visits_needed},
        "clerk": {"name": r.clerk_name, "window": window},
        "received_date": cn_date_of(r.app.received_at),
    }))
}

fn listed(ms: &[&AppMaterial]) -> serde_json::Value {
    ms.iter()
        .map(|m| {
            serde_json::json!({"name": m.name, "form": form_label(&m.form), "copies": m.copies,
                               "standard": m.standard, "note": m.note})
        })
        .collect()
}

/// Receive an applicant's materials for an item: the check starts, and so does the five-day
/// clock.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct OpenApplication {
    pub item_id: String,
    pub applicant_name: String,
    pub applicant_id_number: String,
    pub applicant_phone: String,
    #[serde(default)]
    pub ticket_id: Option<String>,
}

impl Operation for OpenApplication {
    const NAME: &'static str = "application.open";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = Application;
    fn run(self, cx: &mut Cx<'_>) -> Result<Application> {
        let me = cx.actor.staff()?.clone();
        if me.window_id.is_none() {
            return Err(CoreError::new(
                ErrorCode::WindowRequired,
                "请先在窗口登录再收件",
            ));
        }
        let item_id = validate::id("item_id", "事项", &self.item_id)?;
        let (name, id_number, phone, ticket) = validate::applicant(
            &self.applicant_name,
            &self.applicant_id_number,
            &self.applicant_phone,
            self.ticket_id.as_deref(),
        )?;
        let item = crate::catalog::get(cx.tx, &item_id)?;
        if !item.active {
            return Err(CoreError::new(
                ErrorCode::ItemInactive,
                format!("事项“{}”已停用", item.fields.name),
            )
            .field("item_id"));
        }
        let cal = cx.calendar()?;
        let (due, _) = crate::deadlines::notice_deadline(&cal, hall_date(cx.now))?;
        let hall = crate::hall::load_hall(cx.tx)?;
        let year = hall_date(cx.now).year();
        let seq = crate::kernel::numbers::next(cx.tx, "application", &year.to_string())?;
        let number = format!("{}-SQ-{year}-{seq:06}", hall.code);
        let id = new_id();
        cx.tx.execute(
            "INSERT INTO applications (id, number, item_id, applicant_name, applicant_id_number, applicant_phone,
                ticket_id, window_id, clerk_id, received_at, notice_due, status, visits, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'checking', 1, ?10, ?10)",
            params![id, number, item.id, name, id_number, phone, ticket, me.window_id, me.staff_id, cx.ms(), due.to_string()],
        )?;
        for (i, m) in item.fields.materials.iter().enumerate() {
            cx.tx.execute(
                "INSERT INTO application_materials (application_id, position, name, form, copies, requirement, condition, standard, state)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending')",
                params![id, i as u32, m.name, enum_str(m.form), m.copies, enum_str(m.requirement), m.condition, m.standard],
            )?;
        }
        cx.tx.execute(
            "INSERT INTO application_visits (application_id, seq, at, clerk_id, window_id) VALUES (?1, 1, ?2, ?3, ?4)",
            params![id, cx.ms(), me.staff_id, me.window_id],
        )?;
        cx.record(
            Topic::Case,
            AuditDraft::new(
                "application",
                Some(&id),
                format!(
                    "收件 {number}：{}，申请人 {}，告知期限 {due}",
                    item.fields.name,
                    validate::mask_name(&name)
                ),
            ),
        )?;
        with_countdown(cx, load(cx.tx, &id)?.app)
    }
}

/// Mark one material received, missing or not applicable, with a note ("复印件不清晰").
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct MarkMaterial {
    pub id: String,
    pub position: u32,
    pub state: MaterialState,
    #[serde(default)]
    pub note: String,
}

impl Operation for MarkMaterial {
    const NAME: &'static str = "application.mark";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = Application;
    fn run(self, cx: &mut Cx<'_>) -> Result<Application> {
        let id = validate::id("id", "申请", &self.id)?;
        let r = load(cx.tx, &id)?;
        ensure_status(&r.app, &[ApplicationStatus::Checking], "核对材料")?;
        let m = r
            .app
            .materials
            .iter()
            .find(|m| m.position == self.position)
            .ok_or_else(|| CoreError::not_found("材料", self.position).field("position"))?;
        let supplementing = r.app.visits > 1;
        check_mark(m, self.state, supplementing)?;
        let note = validate::optional_text("note", "材料说明", &self.note, 100)?;
        cx.tx.execute(
            "UPDATE application_materials SET state = ?1, note = ?2 WHERE application_id = ?3 AND position = ?4",
            params![self.state.as_str(), note, id, self.position],
        )?;
        cx.tx.execute(
            "UPDATE applications SET updated_at = ?1 WHERE id = ?2",
            params![cx.ms(), id],
        )?;
        cx.record(
            Topic::Case,
            AuditDraft::new(
                "application",
                Some(&id),
                format!("{}：{}，{}", r.app.number, m.name, self.state.label()),
            ),
        )?;
        Ok(load(cx.tx, &id)?.app)
    }
}

/// 全部已收: every material not yet checked is received, in one step — the applicant brought
/// everything, and the clerk confirms it with one key. A material already marked missing or not
/// applicable keeps its mark; on a supplement visit only the missing ones are checked again, so
/// they are the ones marked received.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct MarkAllReceived {
    pub id: String,
}

impl Operation for MarkAllReceived {
    const NAME: &'static str = "application.mark_all_received";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = Application;
    fn run(self, cx: &mut Cx<'_>) -> Result<Application> {
        let id = validate::id("id", "申请", &self.id)?;
        let r = load(cx.tx, &id)?;
        ensure_status(&r.app, &[ApplicationStatus::Checking], "核对材料")?;
        let supplementing = r.app.visits > 1;
        let todo: Vec<&AppMaterial> = r
            .app
            .materials
            .iter()
            .filter(|m| {
                m.state == MaterialState::Pending
                    || (supplementing && m.state == MaterialState::Missing)
            })
            .collect();
        if todo.is_empty() {
            return Err(CoreError::new(
                ErrorCode::InvalidTransition,
                "没有待核对的材料（已标记的材料请逐项修改）",
            )
            .param("event", "mark_all_received"));
        }
        for m in &todo {
            check_mark(m, MaterialState::Received, supplementing)?;
            cx.tx.execute(
                "UPDATE application_materials SET state = 'received' WHERE application_id = ?1 AND position = ?2",
                params![id, m.position],
            )?;
        }
        cx.tx.execute(
            "UPDATE applications SET updated_at = ?1 WHERE id = ?2",
            params![cx.ms(), id],
        )?;
        cx.record(
            Topic::Case,
            AuditDraft::new(
                "application",
                Some(&id),
                format!(
                    "{}：全部已收（{} 项：{}）",
                    r.app.number,
                    todo.len(),
                    todo.iter()
                        .map(|m| m.name.as_str())
                        .collect::<Vec<_>>()
                        .join("、")
                ),
            ),
        )?;
        Ok(load(cx.tx, &id)?.app)
    }
}

/// The window's decision.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Decision {
    /// Complete: accept (受理通知书).
    Accept,
    /// Incomplete: the one-time notice (补正材料通知书).
    Supplement {
        #[serde(default)]
        pending_checks: Vec<PendingCheck>,
        /// Working days allowed; the hall's setting when absent.
        #[serde(default)]
        supplement_days: Option<u32>,
    },
    /// Not ours or not needed (不予受理通知书).
    Reject {
        reason: String,
        #[serde(default)]
        competent_agency: String,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct DecideApplication {
    pub id: String,
    pub decision: Decision,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct Decided {
    pub application: Application,
    pub document: DocumentRef,
}

fn names(materials: &[AppMaterial], positions: &[u32]) -> String {
    materials
        .iter()
        .filter(|m| positions.contains(&m.position))
        .map(|m| m.name.as_str())
        .collect::<Vec<_>>()
        .join("、")
}

/// Accept: create the case and issue the acceptance notice (shared with deemed acceptance).
fn accept(
    cx: &mut Cx<'_>,
    r: &Row,
    by: &Acceptor,
    basis: AcceptBasis,
) -> Result<(String, DocumentRef)> {
    let (tx, now) = (cx.tx, cx.now);
    let received_at = r.app.received_at;
    let (case_id, case_number, d) = crate::cases::insert(
        cx,
        by,
        &r.app.item_id,
        (
            &r.app.applicant_name,
            &r.applicant_id_number,
            &r.applicant_phone,
        ),
        r.ticket_id.as_deref(),
        received_at,
        basis,
    )?;
    let outcome = match basis {
        AcceptBasis::Direct => "direct",
        AcceptBasis::AfterSupplement => "after_supplement",
        AcceptBasis::Deemed => "deemed",
    };
    tx.execute(
        "UPDATE applications SET status = 'accepted', outcome = ?1, case_id = ?2, updated_at = ?3 WHERE id = ?4",
        params![outcome, case_id, to_ms(now), r.app.id],
    )?;
    let mut data = base_data(tx, r)?;
    let (received, _) = notice_lists(&r.app.materials);
    data["received"] = listed(&received);
    data["case_number"] = case_number.clone().into();
    data["accepted_date"] = cn_date(d.started_on).into();
    data["promised_date"] = cn_date(d.promised.due_date).into();
    data["statutory_date"] = cn_date(d.statutory.due_date).into();
    data["provisional"] = (d.promised.provisional || d.statutory.provisional).into();
    let doc = notices::issue(
        tx,
        cx.data_dir(),
        now,
        NoticeKind::AcceptanceNotice,
        &r.app.id,
        Some(&case_id),
        &case_number,
        data,
        &by.staff_id,
    )?;
    Ok((case_number, doc))
}

impl Operation for DecideApplication {
    const NAME: &'static str = "application.decide";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = Decided;
    fn run(self, cx: &mut Cx<'_>) -> Result<Decided> {
        let me = cx.actor.staff()?.clone();
        let id = validate::id("id", "申请", &self.id)?;
        let r = load(cx.tx, &id)?;
        ensure_status(&r.app, &[ApplicationStatus::Checking], "作出受理决定")?;
        let state = completeness(&r.app.materials);
        let cal = cx.calendar()?;
        let (summary, document) = match self.decision {
            Decision::Accept => {
                match &state {
                    Completeness::Unchecked(p) => {
                        return Err(unchecked(&r.app.materials, p));
                    }
                    Completeness::Incomplete(p) => {
                        return Err(CoreError::new(
                            ErrorCode::MaterialsIncomplete,
                            format!(
                                "材料不齐全（缺：{}），不能受理，请出具一次性告知单",
                                names(&r.app.materials, p)
                            ),
                        )
                        .param("names", names(&r.app.materials, p)));
                    }
                    Completeness::Complete => {}
                }
                let basis = if r.app.visits > 1 {
                    AcceptBasis::AfterSupplement
                } else {
                    AcceptBasis::Direct
                };
                let (case_number, doc) = accept(cx, &r, &Acceptor::from(&me), basis)?;
                (
                    format!(
                        "受理 {}，办件 {case_number}，出具 {}",
                        r.app.number, doc.number
                    ),
                    doc,
                )
            }
            Decision::Supplement {
                pending_checks,
                supplement_days,
            } => {
                let missing = match &state {
                    Completeness::Unchecked(p) => return Err(unchecked(&r.app.materials, p)),
                    Completeness::Complete => {
                        return Err(CoreError::new(
                            ErrorCode::MaterialsComplete,
                            "材料已齐全，应当受理，不能要求补正",
                        ));
                    }
                    Completeness::Incomplete(p) => p.clone(),
                };
                let settings = notices::load_settings(cx.tx)?;
                let days = validate::range_i64(
                    "supplement_days",
                    "补正期限",
                    supplement_days.unwrap_or(settings.supplement_days).into(),
                    1,
                    180,
                )? as u32;
                let mut checks = vec![];
                for (i, c) in pending_checks.iter().enumerate() {
                    let f = |n: &str, label: &str, v: &str| {
                        validate::text(&format!("pending_checks.{i}.{n}"), label, v, 100)
                    };
                    checks.push(serde_json::json!({
                        "what": f("what", "需核实事项", &c.what)?, "why": f("why", "核实原因", &c.why)?,
                        "when": f("when", "告知时间", &c.when)?, "how": f("how", "告知方式", &c.how)?,
                    }));
                }
                let (until, _) =
                    cal.add_workdays(hall_date(cx.now), days, crate::calendar::DayCount::NextDay)?;
                let (received, missing_list) = notice_lists(&r.app.materials);
                let mut data = base_data(cx.tx, &r)?;
                data["received"] = listed(&received);
                data["missing"] = listed(&missing_list);
                data["pending_checks"] = checks.into();
                data["supplement_until"] = cn_date(until).into();
                cx.tx.execute(
                    "UPDATE applications SET status = 'awaiting_supplement', updated_at = ?1 WHERE id = ?2",
                    params![cx.ms(), id],
                )?;
                let doc = notices::issue(
                    cx.tx,
                    cx.data_dir(),
                    cx.now,
                    NoticeKind::SupplementNotice,
                    &id,
                    None,
                    &r.app.number,
                    data,
                    &me.staff_id,
                )?;
                (
                    format!(
                        "一次性告知 {}：缺 {}，出具 {}",
                        r.app.number,
                        names(&r.app.materials, &missing),
                        doc.number
                    ),
                    doc,
                )
            }
            Decision::Reject {
                reason,
                competent_agency,
            } => {
                let reason = validate::text("reason", "不予受理理由", &reason, 500)?;
                let agency =
                    validate::optional_text("competent_agency", "有权机关", &competent_agency, 60)?;
                let settings = notices::load_settings(cx.tx)?;
                let mut data = base_data(cx.tx, &r)?;
                data["reason"] = reason.clone().into();
                data["competent_agency"] = agency.into();
                data["review_body"] = settings.review_body.into();
                data["court"] = settings.court.into();
                cx.tx.execute(
                    "UPDATE applications SET status = 'rejected', outcome = 'rejected', updated_at = ?1 WHERE id = ?2",
                    params![cx.ms(), id],
                )?;
                let doc = notices::issue(
                    cx.tx,
                    cx.data_dir(),
                    cx.now,
                    NoticeKind::RejectionNotice,
                    &id,
                    None,
                    &r.app.number,
                    data,
                    &me.staff_id,
                )?;
                (
                    format!("不予受理 {}：{reason}，出具 {}", r.app.number, doc.number),
                    doc,
                )
            }
        };
        cx.record(
            Topic::Case,
            AuditDraft::new("application", Some(&id), summary),
        )?;
        Ok(Decided {
            application: load(cx.tx, &id)?.app,
            document,
        })
    }
}

fn unchecked(materials: &[AppMaterial], p: &[u32]) -> CoreError {
    CoreError::new(
        ErrorCode::MaterialsUnchecked,
        format!("还有材料未核对：{}", names(materials, p)),
    )
    .param("names", names(materials, p))
}

/// The applicant is back with the supplement: a new visit; only the missing materials are
/// checked again.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ReturnWithSupplement {
    pub id: String,
}

impl Operation for ReturnWithSupplement {
    const NAME: &'static str = "application.return";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = Application;
    fn run(self, cx: &mut Cx<'_>) -> Result<Application> {
        let me = cx.actor.staff()?.clone();
        let id = validate::id("id", "申请", &self.id)?;
        let r = load(cx.tx, &id)?;
        ensure_status(&r.app, &[ApplicationStatus::AwaitingSupplement], "登记补正")?;
        let visit = r.app.visits + 1;
        cx.tx.execute(
            "UPDATE application_materials SET state = 'pending' WHERE application_id = ?1 AND state = 'missing'",
            [&id],
        )?;
        cx.tx.execute(
            "UPDATE applications SET status = 'checking', visits = ?1, updated_at = ?2 WHERE id = ?3",
            params![visit, cx.ms(), id],
        )?;
        cx.tx.execute(
            "INSERT INTO application_visits (application_id, seq, at, clerk_id, window_id) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, visit, cx.ms(), me.staff_id, me.window_id],
        )?;
        cx.record(
            Topic::Case,
            AuditDraft::new(
                "application",
                Some(&id),
                format!("{} 补正材料（第 {visit} 次到窗口）", r.app.number),
            ),
        )?;
        Ok(load(cx.tx, &id)?.app)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct GetApplication {
    pub id: String,
}

impl Operation for GetApplication {
    const NAME: &'static str = "application.get";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = false;
    type Response = Application;
    fn run(self, cx: &mut Cx<'_>) -> Result<Application> {
        let id = validate::id("id", "申请", &self.id)?;
        with_countdown(cx, load(cx.tx, &id)?.app)
    }
}

/// Applications still open (checking or awaiting a supplement), newest first; with a query, any
/// whose number or applicant matches.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ListApplications {
    #[serde(default)]
    pub query: Option<String>,
}

impl Operation for ListApplications {
    const NAME: &'static str = "application.list";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = false;
    type Response = Vec<Application>;
    fn run(self, cx: &mut Cx<'_>) -> Result<Vec<Application>> {
        let q = self
            .query
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty());
        let ids: Vec<String> = match q {
            Some(q) => {
                let q = validate::text("query", "查询", q, 40)?;
                let mut s = cx.tx.prepare(cx.tx.pick(
                    "SELECT id FROM applications WHERE number LIKE ?1 OR applicant_name LIKE ?1 ORDER BY received_at DESC LIMIT 50",
                    "SELECT id FROM applications WHERE number ILIKE ?1 OR applicant_name ILIKE ?1 ORDER BY received_at DESC LIMIT 50",
                ))?;
                s.query_map([format!("%{q}%")], |r| r.get(0))?
                    .collect::<crate::kernel::store::StoreResult<_>>()?
            }
            None => {
                let mut s = cx.tx.prepare(
                    "SELECT id FROM applications WHERE status IN ('checking', 'awaiting_supplement') ORDER BY received_at DESC LIMIT 200",
                )?;
                s.query_map([], |r| r.get(0))?
                    .collect::<crate::kernel::store::StoreResult<_>>()?
            }
        };
        ids.iter()
            .map(|id| with_countdown(cx, load(cx.tx, id)?.app))
            .collect()
    }
}

/// Art. 32(4): applications still being checked with no notice by the end of their fifth working
/// day count as accepted from the day of receipt. Run by the sweep; returns (application,
/// case) numbers.
pub fn deem_lapsed(cx: &mut Cx<'_>) -> Result<Vec<(String, String)>> {
    let (tx, now) = (cx.tx, cx.now);
    let today = hall_date(now);
    let settings = crate::deadlines::load_settings(tx)?;
    let day = crate::deadlines::business_day(tx, &settings)?;
    let mut stmt = tx.prepare(
        "SELECT id, notice_due FROM applications WHERE status = 'checking' AND visits = 1",
    )?;
    let due: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<crate::kernel::store::StoreResult<_>>()?;
    let mut out = vec![];
    for (id, notice_due) in due {
        let date: jiff::civil::Date = notice_due
            .parse()
            .map_err(|_| CoreError::internal("告知期限损坏"))?;
        let lapsed =
            date < today || (date == today && crate::kernel::clock::hall_minute(now) >= day.end());
        if !lapsed {
            continue;
        }
        let r = load(tx, &id)?;
        let by = Acceptor {
            staff_id: r.clerk_id.clone(),
            name: format!("{}（逾期未告知，视为受理）", r.clerk_name),
            window_id: r.window_id.clone(),
        };
        let (case_number, _) = accept(cx, &r, &by, AcceptBasis::Deemed)?;
        out.push((r.app.number.clone(), case_number));
    }
    Ok(out)
}

/// The actor name the sweep records deemed acceptances under.
pub fn deemed_actor() -> Actor {
    Actor::System("受理期限监察".into())
}

/// Replace the applicant data of a case's applications by its masked form; (how many, the
/// tickets they came from). Asked by the privacy capability.
pub fn anonymise_of_case(
    tx: &Tx<'_>,
    case_id: &str,
    (name, number, phone): (&str, &str, &str),
    now: Timestamp,
) -> Result<(u32, Vec<String>)> {
    let apps: Vec<(String, Option<String>)> = tx
        .prepare(
            "SELECT id, ticket_id FROM applications WHERE case_id = ?1 AND anonymised_at IS NULL",
        )?
        .query_map([case_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<crate::kernel::store::StoreResult<_>>()?;
    let (mut n, mut tickets) = (0, vec![]);
    for (app, ticket) in apps {
        n += tx.execute(
            "UPDATE applications SET applicant_name = ?2, applicant_id_number = ?3,
                applicant_phone = ?4, anonymised_at = ?5 WHERE id = ?1",
            params![app, name, number, phone, to_ms(now)],
        )? as u32;
        tickets.extend(ticket);
    }
    Ok((n, tickets))
}

/// An application of the past written as a record (a generated history, an import): accepted
/// into `case_id` after `visits` visits.
#[derive(Debug, Clone)]
pub struct PastApplication<'a> {
    pub number: &'a str,
    pub item_id: &'a str,
    pub applicant: (&'a str, &'a str, &'a str),
    pub window_id: &'a str,
    pub clerk_id: &'a str,
    pub received_at: Timestamp,
    pub notice_due: &'a str,
    /// `direct` or `after_supplement`.
    pub outcome: &'a str,
    pub case_id: &'a str,
    pub visits: u32,
}

pub fn insert_past(tx: &Tx<'_>, a: &PastApplication<'_>) -> Result<()> {
    tx.execute(
        "INSERT INTO applications (id, number, item_id, applicant_name, applicant_id_number, applicant_phone,
            window_id, clerk_id, received_at, notice_due, status, outcome, case_id, visits, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'accepted', ?11, ?12, ?13, ?9, ?9)",
        params![
            new_id(),
            a.number,
            a.item_id,
            a.applicant.0,
            a.applicant.1,
            a.applicant.2,
            a.window_id,
            a.clerk_id,
            to_ms(a.received_at),
            a.notice_due,
            a.outcome,
            a.case_id,
            a.visits
        ],
    )?;
    Ok(())
}
